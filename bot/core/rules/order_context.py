"""With Shopify connected, a new ticket's thread gets the customer's orders."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import outbox
from bot.core.context import Desk
from bot.storage.models import Ticket


def post_order_context(session: Session, _desk: Desk, ticket: Ticket, _facts: None) -> None:
    outbox.post_order_context(session, ticket.id)
