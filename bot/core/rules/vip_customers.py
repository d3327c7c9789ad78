"""A new ticket from an address or domain the policy lists as VIP is a VIP ticket from the
start, so its clocks start with the VIP targets. Only an address the mail proved counts (an
unverified sender or a chat visitor can type anyone's); Shopify's figures are looked at when
the thread's Shopify context is fetched (bot.deliverers.shopify_context)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import vip
from bot.core.context import Desk
from bot.core.customer_links import owner_of
from bot.storage.models import Ticket


def recognise_vip(session: Session, desk: Desk, ticket: Ticket, _facts: None) -> None:
    address = owner_of(session, ticket).email
    if address and (reason := vip.by_address(desk.policy.vip, address)):
        vip.make_vip(session, desk, ticket, reason)
