"""VIP customers: who they are, by the policy's addresses and domains or by what Shopify knows
of them, and what being one does to a ticket (the policy's priority, its own SLA targets, a
badge on the root).

A ticket is recognised once, when it opens: by address at once, by Shopify's figures when the
thread's Shopify context has been looked up (outside the transaction: bot.deliverers.
shopify_context). It stays VIP; an agent may still change its priority by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session

from bot.config import VipPolicy
from bot.core import outbox
from bot.core import sla as clocks
from bot.core.context import Desk
from bot.core.tickets import record_event, set_priority
from bot.storage.models import Priority, Ticket, utcnow

ACTOR = "vip"
# Most pressing first: a VIP ticket is raised to the policy's priority, never lowered to it.
_PRESSING = list(Priority)


@dataclass(frozen=True)
class ShopFigures:
    """What the shop knows of one of the ticket's customers."""

    total_spent: Decimal
    orders_count: int
    tags: tuple[str, ...]


def by_address(policy: VipPolicy, address: str) -> str | None:
    """Why this address is a VIP's (the policy's entry that names it), or None."""
    address = address.lower()
    domain = "@" + address.rpartition("@")[2]
    for entry in policy.addresses:
        if entry in (address, domain):
            return f"listed as {entry}"
    return None


def by_shopify(policy: VipPolicy, customers: Iterable[ShopFigures]) -> str | None:
    """Why these Shopify customers (the ticket's own) make it a VIP's, or None. Any one
    threshold of the policy that one customer reaches is enough."""
    wanted_tags = {tag.lower() for tag in policy.tags_any}
    for customer in customers:
        spent = customer.total_spent
        if policy.total_spent_gte is not None and spent >= policy.total_spent_gte:
            return f"spent {spent} in the shop"
        least = policy.orders_count_gte
        if least is not None and customer.orders_count >= least:
            return f"{customer.orders_count} orders in the shop"
        if tagged := sorted(wanted_tags & {tag.lower() for tag in customer.tags}):
            return f"tagged {tagged[0]} in the shop"
    return None


def make_vip(session: Session, desk: Desk, ticket: Ticket, reason: str) -> bool:
    """Marks the ticket VIP, raises it to the policy's priority and gives its clocks the VIP
    targets; False when it already was."""
    if ticket.vip:
        return False
    ticket.vip = True
    record_event(session, ticket, "vip", ACTOR, reason=reason)
    wanted = Priority(desk.policy.vip.priority)
    raised = _PRESSING.index(wanted) < _PRESSING.index(Priority(ticket.priority))
    # A new priority retargets the running clocks itself; otherwise the VIP targets do.
    if not (raised and set_priority(session, desk, ticket, wanted, actor=ACTOR)):
        clocks.retarget(session, desk.sla, ticket, utcnow())
        outbox.refresh_root(session, ticket.id)
    return True
