"""Internal notes: what agents type in a ticket thread, kept on the ticket, never emailed."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.tickets import record_event
from bot.storage.models import Direction, Message, Source, Ticket, utcnow


def _note(session: Session, ticket: Ticket, slack_ts: str) -> Message | None:
    return session.exec(
        select(Message).where(
            Message.ticket_id == ticket.id,
            Message.slack_ts == slack_ts,
            Message.direction == Direction.NOTE,
        )
    ).first()


def record_note(session: Session, ticket: Ticket, *, slack_ts: str, author: str, text: str) -> bool:
    """Stores the note once; a redelivered event finds it and changes nothing."""
    if _note(session, ticket, slack_ts) is not None:
        return False
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.NOTE,
        source=Source.SLACK,
        author=author,
        body=text,
        full_body=text,
        slack_ts=slack_ts,
    )
    session.add(message)
    session.flush()
    record_event(session, ticket, "note_added", author, message_id=message.id)
    return True


def edit_note(session: Session, ticket: Ticket, *, slack_ts: str, author: str, text: str) -> bool:
    note = _note(session, ticket, slack_ts)
    if note is None or note.deleted_at is not None or note.body == text:
        return False
    note.body = text
    note.full_body = text
    note.edited_at = utcnow()
    record_event(session, ticket, "note_edited", author, message_id=note.id)
    return True


def delete_note(
    session: Session, ticket: Ticket, *, slack_ts: str, author: str, text: str = ""
) -> bool:
    note = _note(session, ticket, slack_ts)
    if note is None or note.deleted_at is not None:
        return False
    note.deleted_at = utcnow()
    record_event(session, ticket, "note_deleted", author, message_id=note.id)
    return True
