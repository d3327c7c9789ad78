"""Pending until a given time (a snooze): the ticket waits, its clocks paused as pending pauses
them, and reopens by itself at that time, or at once when the customer writes first.

The time is the ticket's `pending_until`; every other status change clears it (`set_status`),
so a customer's message, a reply that solves, or an agent reopening all end the snooze.
`wake_due` is called by a scheduled job: it finds due tickets by their index, and claims each
under its row lock, so a second process or a late run wakes each ticket once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.core import outbox
from bot.core.context import Desk
from bot.core.notices import Notice
from bot.core.tickets import record_event, set_status
from bot.storage.models import Ticket, TicketStatus

LONGEST = timedelta(days=365)
WAKER = "helpdesk"  # the actor of a snooze ending on time, in the event log
BATCH = 200  # tickets woken per transaction; a larger backlog goes on at the next run


class SnoozeRefused(ValueError):
    """The time can't be a snooze; the message says why, for the person who picked it."""


def snooze(
    session: Session, desk: Desk, ticket: Ticket, until: datetime, *, actor: str, now: datetime
) -> None:
    if until <= now:
        raise SnoozeRefused("Pick a time in the future.")
    if until > now + LONGEST:
        raise SnoozeRefused(f"Pick a time within {LONGEST.days} days.")
    if ticket.status == TicketStatus.CLOSED:
        raise SnoozeRefused(f"Ticket #{ticket.number} is closed; reopen it first.")
    set_status(session, desk, ticket, TicketStatus.PENDING, actor=actor, reason="snoozed")
    ticket.pending_until = until
    record_event(session, ticket, "snoozed", actor, until=until.isoformat())
    outbox.notice(session, ticket.id, Notice.SNOOZED, by=actor, until=int(until.timestamp()))
    outbox.refresh_root(session, ticket.id)


def wake_due(session: Session, desk: Desk, now: datetime) -> int:
    """Reopens the tickets whose snooze has ended, the longest due first; returns how many."""
    due = session.exec(
        select(Ticket.id)
        .where(Ticket.pending_until <= now)
        .order_by(Ticket.pending_until)
        .limit(BATCH)
    ).all()
    woken = 0
    for ticket_id in due:
        ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
        if ticket is None or ticket.pending_until is None or ticket.pending_until > now:
            continue  # woken, or snoozed again, since the query
        until = ticket.pending_until
        set_status(session, desk, ticket, TicketStatus.OPEN, actor=WAKER, reason="snooze ended")
        outbox.notice(session, ticket.id, Notice.SNOOZE_ENDED, until=int(until.timestamp()))
        woken += 1
    return woken
