"""Read queries shared by handlers, jobs and views' callers."""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.storage.models import (
    Customer,
    Direction,
    Message,
    SavedReply,
    Ticket,
    TicketStatus,
)

ACTIVE = (TicketStatus.OPEN, TicketStatus.PENDING)


def ticket_for_thread(session: Session, channel: str, thread_ts: str) -> Ticket | None:
    return session.exec(
        select(Ticket).where(Ticket.channel == channel, Ticket.thread_ts == thread_ts)
    ).first()


def ticket_by_number(session: Session, number: int) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.number == number)).first()


def last_customer_message(session: Session, ticket_id: int) -> Message | None:
    return session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND)
        .order_by(Message.id.desc())
    ).first()


def email_chain(session: Session, ticket_id: int, before_id: int) -> list[Message]:
    """The ticket's emails, both ways, before a message: what its References must name."""
    return list(
        session.exec(
            select(Message)
            .where(
                Message.ticket_id == ticket_id,
                Message.id < before_id,
                Message.email_message_id.is_not(None),
                Message.direction != Direction.NOTE,
            )
            .order_by(Message.id)
        )
    )


def tickets_assigned_to(session: Session, user: str, limit: int = 45) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.assignee == user, Ticket.status.in_(ACTIVE))
            .order_by(Ticket.updated_at)
            .limit(limit)
        )
    )


def unassigned_tickets(session: Session, limit: int = 45) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.assignee.is_(None), Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.updated_at)
            .limit(limit)
        )
    )


def find_tickets(session: Session, query: str, limit: int = 20) -> list[Ticket]:
    """`#12` or `12` by number, an address by customer, anything else in subjects and messages."""
    query = query.strip()
    number = query.lstrip("#")
    # Longer numbers would overflow the column and can't be a ticket's anyway.
    if number.isdecimal() and len(number) <= 18:
        ticket = ticket_by_number(session, int(number))
        return [ticket] if ticket else []
    # The user's % and _ are searched for as themselves, not as LIKE wildcards.
    escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"

    def contains(column):
        return func.lower(column).like(pattern, escape="\\")

    if "@" in query:
        condition = contains(Customer.email)
    else:
        in_messages = select(Message.ticket_id).where(
            contains(Message.body), Message.deleted_at.is_(None)
        )
        condition = or_(contains(Ticket.subject), Ticket.id.in_(in_messages))
    return list(
        session.exec(
            select(Ticket)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(condition)
            .order_by(Ticket.updated_at.desc())
            .limit(limit)
        )
    )


def saved_replies(session: Session) -> list[SavedReply]:
    return list(session.exec(select(SavedReply).order_by(SavedReply.title)))
