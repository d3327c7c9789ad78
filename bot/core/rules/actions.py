"""What a policy rule can do to a ticket: one entry per action in `ACTIONS`, applied in that
order. Each returns whether it changed anything; the engine logs and announces what did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.core import outbox, tickets
from bot.core import sla as clocks
from bot.core.assignment import assign_by_rule
from bot.core.context import Desk
from bot.storage.models import Priority, Ticket, TicketStatus, utcnow


@dataclass(frozen=True)
class Acting:
    """A rule acting; `opening`: in the transaction that opens the ticket, before its root is
    posted, so a change shows in the first root rather than as a move."""

    rule: str
    opening: bool

    @property
    def actor(self) -> str:
        return f"rule:{self.rule}"


def add_tags(session: Session, _desk: Desk, ticket: Ticket, acting: Acting, tags: list) -> bool:
    current = tickets.tags_of(session, ticket.id)
    return tickets.set_tags(session, ticket, [*current, *tags], actor=acting.actor) != current


def set_priority(session: Session, desk: Desk, ticket: Ticket, acting: Acting, value: str) -> bool:
    return tickets.set_priority(session, desk, ticket, Priority(value), actor=acting.actor)


def set_status(session: Session, desk: Desk, ticket: Ticket, acting: Acting, value: str) -> bool:
    if ticket.status == value:
        return False
    status = TicketStatus(value)
    # A rule closes noise nobody answered: never counted as solved, never surveyed.
    tickets.set_status(
        session, desk, ticket, status, actor=acting.actor, reason=acting.actor,
        resolving=status != TicketStatus.CLOSED,
    )  # fmt: skip
    return True


def mark_vip(session: Session, desk: Desk, ticket: Ticket, acting: Acting, _: bool) -> bool:
    """A VIP's ticket: the `vip` section's SLA targets from now on (clocks it has a target for
    start as of the ticket's opening), and a badge on the root."""
    if ticket.vip:
        return False
    ticket.vip = True
    tickets.record_event(session, ticket, "vip_marked", acting.actor)
    clocks.retarget(session, desk.sla, ticket, utcnow())
    if ticket.first_response_at is None:
        clocks.start(session, desk.sla, ticket, clocks.FIRST_RESPONSE, ticket.created_at)
    clocks.start(session, desk.sla, ticket, clocks.RESOLUTION, ticket.created_at)
    outbox.refresh_root(session, ticket.id)
    return True


def post_to_channel(
    session: Session, _desk: Desk, ticket: Ticket, acting: Acting, channel: str
) -> bool:
    """Before the root is posted the ticket simply goes there; after, its thread moves
    (`bot/deliverers/thread_move.py`: a new root there, a link left in the old thread)."""
    if ticket.channel == channel:
        return False
    if acting.opening:
        previous, ticket.channel = ticket.channel, channel
        tickets.record_event(
            session, ticket, "channel_changed", acting.actor, old=previous, new=channel
        )
    else:
        outbox.move_thread(session, ticket.id, channel, rule=acting.rule)
    return True


def assign_ticket(
    session: Session, desk: Desk, ticket: Ticket, acting: Acting, target: str
) -> bool:
    """A person at once, or whoever's turn it is in a pool once Slack has said who is there
    (bot.core.assignment); never over a person's own choice."""
    return assign_by_rule(session, desk, ticket, target, rule=acting.rule)


Action = Callable[[Session, Desk, Ticket, Acting, Any], bool]

# In the order they act.
ACTIONS: dict[str, Action] = {
    "vip": mark_vip,
    "tags": add_tags,
    "priority": set_priority,
    "channel": post_to_channel,
    "assign": assign_ticket,
    "status": set_status,
}
# Actions whose outcome the thread hears of on its own (an assignment names its assignee, or a
# pool's later pick or failure): left out of the rule's summary note.
ANNOUNCED_APART = frozenset({"assign"})
