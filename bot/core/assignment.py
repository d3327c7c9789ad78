"""Automatic assignment: a rule gives a ticket to a person, or to whoever's turn it is in a
pool of agents; never over an assignment a person made.

Assigning to a person happens at once. A pool needs Slack first (its user group's members,
who is away), which can't be asked inside the transaction, so `assign_by_rule` records the
intent as an outbox row; its deliverer (`bot/deliverers/pool_assignment.py`) asks the desk's
roster, then calls `assign_from_pool` in a short transaction of its own. That locks the
pool's row (`assignment_pools`: its turn, and whether its channel was told nobody is
available), so processes sharing a database take turns: the open tickets it counts are
those committed before, and no agent is given a ticket past their limit by two at once. On
SQLite every write transaction holds the database's write lock, which serialises the same.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.config import POOL_TARGET, Pool
from bot.core import outbox
from bot.core.context import Desk
from bot.core.notices import Notice
from bot.core.tickets import assign, record_event
from bot.storage.models import AssignmentPoolState, Ticket, TicketEvent, TicketStatus, utcnow

HELPDESK = "helpdesk"  # the actor of automatic assignments in the event log
OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)  # what counts towards `max_open`
NOBODY_AVAILABLE = "nobody_available"
UNKNOWN_POOL = "unknown_pool"
DEFAULT_POOL_RULE = "default pool"


def assign_by_rule(session: Session, desk: Desk, ticket: Ticket, target: str, *, rule: str) -> bool:
    """Assigns `ticket` as the rule named `rule` says: `target` is a Slack user ID (assigned
    now) or `pool:<name>` (assigned once the pool's members and presence are read, through
    the outbox). Inside the caller's transaction; imports nothing of Slack. A ticket a person
    has assigned (or unassigned) is left alone, with an `assignment_skipped` event. True when
    the ticket was assigned, or its pool asked."""
    if assigned_by_hand(session, ticket):
        record_event(
            session, ticket, "assignment_skipped", HELPDESK, rule=rule, target=target,
            reason="assigned by hand",
        )  # fmt: skip
        return False
    if not target.startswith(POOL_TARGET):
        return assign(session, ticket, target, actor=HELPDESK, rule=rule)
    name = target.removeprefix(POOL_TARGET)
    if name not in desk.policy.assignment.pools:  # validated at start-up; a policy reloaded?
        _unassigned(session, ticket, name, rule, UNKNOWN_POOL)
        return False
    record_event(session, ticket, "assignment_requested", HELPDESK, rule=rule, pool=name)
    outbox.assign_from_pool(session, ticket.id, name, rule)
    return True


def assigned_by_hand(session: Session, ticket: Ticket) -> bool:
    """Whether a person assigned or unassigned the ticket: their choice stands."""
    for actor, data in session.exec(
        select(TicketEvent.actor, TicketEvent.data).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "assigned"
        )
    ):
        if actor != HELPDESK and "rule" not in data:
            return True
    return False


def assign_to_default_pool(session: Session, desk: Desk, ticket: Ticket, _: None) -> None:
    """A rule on new tickets, registered last when the policy names `default_pool`: a ticket
    no rule before it assigned (or asked a pool for) goes to that pool."""
    asked = session.exec(
        select(TicketEvent.id).where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.kind.in_(("assigned", "assignment_requested", "assignment_skipped")),
        )
    ).first()
    if asked is None and ticket.assignee is None:
        target = POOL_TARGET + desk.policy.assignment.default_pool
        assign_by_rule(session, desk, ticket, target, rule=DEFAULT_POOL_RULE)


@dataclass(frozen=True)
class Reachable:
    """What the roster said of a pool when its ticket's turn came: its members in turn order
    and those not away, or why its members couldn't be read."""

    members: tuple[str, ...] = ()
    available: frozenset[str] = frozenset()
    problem: str | None = None


def assign_from_pool(
    session: Session, desk: Desk, ticket_id: int, name: str, rule: str, found: Reachable
) -> str | None:
    """Gives the ticket to whoever's turn it is among the pool's available agents below their
    limit; returns them, or None when the ticket stays unassigned (with a note in its thread,
    and once per spell the pool's channel told). Called in its own short transaction."""
    # Locked first: a person assigning the ticket meanwhile waits, then has the last word.
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    pool = desk.policy.assignment.pools.get(name)
    if reason := _left_alone(session, ticket):
        record_event(
            session, ticket, "assignment_skipped", HELPDESK, rule=rule, pool=name, reason=reason
        )
        return None
    if pool is None or found.problem is not None:
        _unassigned(session, ticket, name, rule, UNKNOWN_POOL if pool is None else found.problem)
        return None
    state = _locked_state(session, name)
    counts = open_tickets(session, found.members)
    agent = choose(pool, found.members, state.last_agent, found.available, counts)
    state.updated_at = utcnow()
    if agent is None:
        _unassigned(session, ticket, name, rule, NOBODY_AVAILABLE)
        if not state.told_unavailable:
            state.told_unavailable = True
            channel = pool.channel or desk.support_channel
            outbox.channel_notice(
                session, ticket.id, channel, Notice.POOL_UNAVAILABLE,
                pool=name, rule=rule, reason=NOBODY_AVAILABLE,
            )  # fmt: skip
        return None
    state.last_agent, state.told_unavailable = agent, False
    assign(session, ticket, agent, actor=HELPDESK, rule=rule)
    return agent


def choose(
    pool: Pool,
    members: Sequence[str],
    last_agent: str | None,
    available: Collection[str],
    open_counts: Mapping[str, int],
) -> str | None:
    """Who gets the next ticket: members in turn order starting after `last_agent`, less those
    away or at the pool's `max_open`; the first of them (round_robin), or the one with the
    fewest open tickets, ties going to the earliest in turn (least_open)."""
    start = members.index(last_agent) + 1 if last_agent in members else 0
    in_turn = [*members[start:], *members[:start]]
    cap = pool.max_open
    candidates = [
        agent
        for agent in in_turn
        if (agent in available or not pool.skip_away)
        and (cap is None or open_counts.get(agent, 0) < cap)
    ]
    if not candidates:
        return None
    if pool.strategy == "least_open":
        return min(candidates, key=lambda agent: open_counts.get(agent, 0))
    return candidates[0]


def open_tickets(session: Session, agents: Collection[str]) -> dict[str, int]:
    """Open and pending tickets per agent (those with none are absent)."""
    rows = session.exec(
        select(Ticket.assignee, func.count())
        .where(Ticket.assignee.in_(agents), Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.assignee)
    )
    return dict(rows.all())


def _left_alone(session: Session, ticket: Ticket) -> str | None:
    """Why a pool's pick no longer applies to the ticket: things changed while Slack was asked."""
    if ticket.status not in OPEN_STATUSES:
        return f"ticket {ticket.status}"
    if assigned_by_hand(session, ticket):
        return "assigned by hand"
    return None


def _locked_state(session: Session, name: str) -> AssignmentPoolState:
    """The pool's row, locked until the transaction ends (created on its first ticket)."""
    locked = select(AssignmentPoolState).where(AssignmentPoolState.name == name).with_for_update()
    state = session.exec(locked.execution_options(populate_existing=True)).first()
    if state is not None:
        return state
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # A second process creating the row meanwhile waits for the first, then finds it.
    session.execute(
        insert(AssignmentPoolState)
        .values(name=name, told_unavailable=False, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    return session.exec(locked.execution_options(populate_existing=True)).one()


def _unassigned(session: Session, ticket: Ticket, pool: str, rule: str, reason: str) -> None:
    record_event(
        session, ticket, "assignment_failed", HELPDESK, rule=rule, pool=pool, reason=reason
    )
    outbox.notice(session, ticket.id, Notice.POOL_UNAVAILABLE, pool=pool, rule=rule, reason=reason)
