"""What merges and splits share: moving messages between tickets, recording what moved (so
the same day it can be moved back), and the response clock following the customer's message
that has waited longest once a ticket's conversation changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core import outbox, sla
from bot.core.context import Desk
from bot.storage.models import Direction, Message, Source, Ticket, TicketMove, TicketStatus

MERGE = "merge"
SPLIT = "split"
RESPONSE_CLOCKS = (sla.FIRST_RESPONSE, sla.NEXT_RESPONSE)


class MoveRefused(Exception):
    """A merge, split or undo that can't be done, in words for the agent; nothing changed."""


def chat_refusal(*involved: Ticket) -> str | None:
    """A live chat's visitor sees its ticket's messages in the widget: moving messages in or
    out would hide their conversation from them, or show them someone else's."""
    for ticket in involved:
        if ticket.source == Source.CHAT:
            return f"#{ticket.number} is a live chat: its messages stay with its visitor."
    return None


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    """The ticket's messages in the order they were written."""
    return list(
        session.exec(
            select(Message)
            .where(Message.ticket_id == ticket_id)
            .order_by(Message.created_at, Message.id)
        )
    )


def move_messages(session: Session, messages: list[Message], to: Ticket) -> None:
    """Re-points the rows, their attachments with them; their time keeps their place."""
    for message in messages:
        message.ticket_id = to.id
    session.flush()


def lock(session: Session, *tickets: Ticket) -> None:
    """Locks the tickets' rows (in id order, so two moves never wait on each other) and reads
    them afresh: two agents merging A into B and B into A at once can't both pass the checks
    (on SQLite the write transaction holds the database already)."""
    session.exec(
        select(Ticket)
        .where(Ticket.id.in_([ticket.id for ticket in tickets]))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def done_before(
    session: Session, request_key: str | None, refusal: Callable[[], str | None]
) -> TicketMove | None:
    """The move a resubmitted Slack view already made; else None once `refusal` found no
    reason to refuse (it raises `MoveRefused` with the reason)."""
    if request_key is not None:
        earlier = session.exec(
            select(TicketMove).where(TicketMove.request_key == request_key)
        ).first()
        if earlier is not None:
            return earlier
    reason = refusal()
    if reason:
        raise MoveRefused(reason)
    return None


def record_move(session: Session, move: TicketMove) -> TicketMove:
    session.add(move)
    session.flush()
    return move


def undoable(desk: Desk, move: TicketMove, now: datetime) -> str | None:
    """Why the move can't be undone any more, or None."""
    if move.undone_at is not None:
        return "That was undone already."
    zone = ZoneInfo(desk.policy.timezone)
    if move.created_at.astimezone(zone).date() != now.astimezone(zone).date():
        return "Only a merge or split made today can be undone."
    return None


def earliest_unanswered(session: Session, ticket_id: int) -> datetime | None:
    """When the first customer message after the ticket's last answer arrived, if any."""
    last_answer = session.exec(
        select(func.max(Message.created_at)).where(
            Message.ticket_id == ticket_id, Message.direction == Direction.OUTBOUND
        )
    ).one()
    waiting = select(func.min(Message.created_at)).where(
        Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND
    )
    if last_answer is not None:
        waiting = waiting.where(Message.created_at > last_answer)
    return session.exec(waiting).one()


def follow_unanswered(session: Session, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """An open ticket's response clock counts from its earliest unanswered customer message,
    and stops when every message is answered."""
    wait_since(session, desk, ticket, earliest_unanswered(session, ticket.id), now)


def wait_since(
    session: Session, desk: Desk, ticket: Ticket, waiting: datetime | None, now: datetime
) -> None:
    """An open ticket's response clock counts from `waiting`; None: nothing waits."""
    if ticket.status != TicketStatus.OPEN:
        return
    if waiting is None:
        sla.stop(session, desk.sla, ticket, RESPONSE_CLOCKS, now)
        return
    kind = sla.FIRST_RESPONSE if ticket.first_response_at is None else sla.NEXT_RESPONSE
    sla.stop(session, desk.sla, ticket, tuple(k for k in RESPONSE_CLOCKS if k != kind), now)
    sla.restart_from(session, desk.sla, ticket, kind, min(waiting, now))


def announce(session: Session, move: TicketMove) -> None:
    """Each thread tells what happened; the roots show where each ticket stands."""
    for ticket_id in (move.to_ticket_id, move.from_ticket_id):
        outbox.move_notice(session, ticket_id, move.id, undone=move.undone_at is not None)
        outbox.refresh_root(session, ticket_id)
