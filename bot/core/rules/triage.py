"""With the policy's AI server configured, a new ticket gets a suggested tag and priority,
shown as buttons in its thread and applied only by an agent's click."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import outbox
from bot.core.context import Desk
from bot.storage.models import Ticket


def suggest_triage(session: Session, _desk: Desk, ticket: Ticket, _facts: None) -> None:
    outbox.suggest_triage(session, ticket.id)
