"""SLA clocks follow the ticket: started on opening, restarted by a customer's message after an
answer, stopped by the answer, paused, stopped and resumed by status changes, retargeted by
priority changes."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import sla as clocks
from bot.core.context import Change, Desk
from bot.storage.models import Message, Ticket, TicketStatus


def start_clocks(session: Session, desk: Desk, ticket: Ticket, _facts: None) -> None:
    for kind in (clocks.FIRST_RESPONSE, clocks.RESOLUTION):
        clocks.start(session, desk.sla, ticket, kind, ticket.created_at)


def wait_for_next_response(session: Session, desk: Desk, ticket: Ticket, _: Message) -> None:
    if ticket.first_response_at is not None:
        # Each customer message after an agent's reply waits for the next one.
        clocks.start(session, desk.sla, ticket, clocks.NEXT_RESPONSE, ticket.updated_at)


def stop_response_clocks(session: Session, desk: Desk, ticket: Ticket, _: Message) -> None:
    answered_at = ticket.updated_at  # the reply's moment, as the core recorded it
    clocks.stop(
        session, desk.sla, ticket, (clocks.FIRST_RESPONSE, clocks.NEXT_RESPONSE), answered_at
    )


def move_clocks(session: Session, desk: Desk, ticket: Ticket, change: Change) -> None:
    """Pending pauses the clocks, solved and closed stop them, reopening resumes them; a new
    priority gives the running clocks its targets."""
    sla, now = desk.sla, change.at
    if change.field == "priority":
        clocks.retarget(session, sla, ticket, now)
    elif change.field != "status":
        return
    elif ticket.status == TicketStatus.PENDING:
        clocks.pause_all(session, sla, ticket, now)
    elif ticket.status in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        clocks.stop(session, sla, ticket, tuple(clocks.CLOCK_LABELS), now)
    elif change.old == TicketStatus.PENDING:
        clocks.resume_all(session, sla, ticket, now)
    else:
        clocks.reopen_resolution(session, sla, ticket, now)
