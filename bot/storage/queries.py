"""Read queries shared by handlers, jobs and views' callers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, case, cast, func, or_
from sqlmodel import Session, select

from bot.storage.models import (
    CsatSurvey,
    Customer,
    Direction,
    Escalation,
    Message,
    SavedReply,
    SlaClock,
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


def last_customer_message(
    session: Session, ticket_id: int, author: str | None = None
) -> Message | None:
    """`author`: only that address's messages."""
    statement = select(Message).where(
        Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND
    )
    if author is not None:
        statement = statement.where(Message.author == author)
    return session.exec(statement.order_by(Message.id.desc())).first()


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


def _clock_urgency():
    """Per ticket: whether a running SLA clock was missed, and the nearest due instant."""
    return (
        select(
            SlaClock.ticket_id,
            func.max(case((SlaClock.breached, 1), else_=0)).label("missed"),
            func.min(SlaClock.due_at).label("due"),
        )
        .where(SlaClock.stopped_at.is_(None))
        .group_by(SlaClock.ticket_id)
        .subquery()
    )


def _most_urgent_first(statement, limit: int) -> list[Ticket]:
    urgency = _clock_urgency()
    return (
        statement.join(urgency, urgency.c.ticket_id == Ticket.id, isouter=True)
        .order_by(
            urgency.c.missed.desc().nulls_last(),
            urgency.c.due.asc().nulls_last(),
            Ticket.updated_at,
        )
        .limit(limit)
    )


def sla_urgency(session: Session, ticket_ids: list[int]) -> dict[int, tuple[bool, datetime | None]]:
    """For list views: (missed, nearest due instant) of each ticket with running clocks."""
    urgency = _clock_urgency()
    rows = session.exec(
        select(urgency.c.ticket_id, urgency.c.missed, urgency.c.due).where(
            urgency.c.ticket_id.in_(ticket_ids)
        )
    )
    return {ticket_id: (bool(missed), due) for ticket_id, missed, due in rows}


def tickets_assigned_to(session: Session, user: str, limit: int = 45) -> list[Ticket]:
    """An agent's open and pending tickets, at-risk SLAs first."""
    statement = select(Ticket).where(Ticket.assignee == user, Ticket.status.in_(ACTIVE))
    return list(session.exec(_most_urgent_first(statement, limit)))


def unassigned_tickets(session: Session, limit: int = 45) -> list[Ticket]:
    """Open tickets nobody has, at-risk SLAs first."""
    statement = select(Ticket).where(Ticket.assignee.is_(None), Ticket.status == TicketStatus.OPEN)
    return list(session.exec(_most_urgent_first(statement, limit)))


def contains(column, text: str):
    """Case-insensitive substring match; the user's % and _ are searched for as themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def find_tickets(session: Session, query: str, limit: int = 20) -> list[Ticket]:
    """`#12` or `12` by number, an address by customer, anything else in subjects and messages."""
    query = query.strip()
    number = query.lstrip("#")
    # Longer numbers would overflow the column and can't be a ticket's anyway.
    if number.isdecimal() and len(number) <= 18:
        ticket = ticket_by_number(session, int(number))
        return [ticket] if ticket else []
    if "@" in query:
        condition = contains(Customer.email, query)
    else:
        in_messages = select(Message.ticket_id).where(
            contains(Message.body, query), Message.deleted_at.is_(None)
        )
        condition = or_(contains(Ticket.subject, query), Ticket.id.in_(in_messages))
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


def escalation_candidates(
    session: Session, query: str, channel: str | None, limit: int = 20
) -> list[Ticket]:
    """Open tickets for the escalation picker: by number or subject, else the channel's newest."""
    query = query.strip().lstrip("#")
    statement = select(Ticket).where(Ticket.status.in_(ACTIVE))
    if query.isdigit():
        statement = statement.where(cast(Ticket.number, String).like(f"{query}%"))
    elif query:
        statement = statement.where(contains(Ticket.subject, query))
    elif channel:
        in_channel = statement.where(Ticket.channel == channel)
        if session.exec(in_channel.limit(1)).first() is not None:
            statement = in_channel
    return list(session.exec(statement.order_by(Ticket.created_at.desc()).limit(limit)))


def open_escalations(session: Session, limit: int = 30) -> list[tuple[Escalation, Ticket]]:
    return list(
        session.exec(
            select(Escalation, Ticket)
            .join(Ticket, Ticket.id == Escalation.ticket_id)
            .where(Escalation.resolved_at.is_(None))
            .order_by(Escalation.created_at)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CustomerFigures:
    """A customer's past with the helpdesk, before some instant."""

    tickets: int
    last_contact: datetime | None  # when the latest of those tickets opened
    ratings: int  # survey answers given, ever
    average_rating: float | None


def customer_figures(session: Session, customer_id: int, before: datetime) -> CustomerFigures:
    """One statement, each part answered from an index (tickets by customer and date, surveys
    by customer and date), so a customer with thousands of tickets costs what one with two does."""
    earlier = (Ticket.customer_id == customer_id, Ticket.created_at < before)
    answered = (CsatSurvey.customer_id == customer_id, CsatSurvey.rating.is_not(None))
    row = session.exec(
        select(
            select(func.count()).where(*earlier).scalar_subquery(),
            select(func.max(Ticket.created_at)).where(*earlier).scalar_subquery(),
            select(func.count(CsatSurvey.rating)).where(*answered).scalar_subquery(),
            select(func.avg(CsatSurvey.rating)).where(*answered).scalar_subquery(),
        )
    ).one()
    tickets, last_contact, ratings, average = row
    return CustomerFigures(
        tickets or 0,
        last_contact,
        ratings or 0,
        float(average) if average is not None else None,
    )


def customer_tickets(
    session: Session, customer_id: int, page: int, per_page: int, *, leaving_out: int | None
) -> list[Ticket]:
    """One page of a customer's tickets, newest first (one more than `per_page` when there
    are more), through the customer-and-date index."""
    statement = select(Ticket).where(Ticket.customer_id == customer_id)
    if leaving_out is not None:
        statement = statement.where(Ticket.id != leaving_out)
    return list(
        session.exec(
            statement.order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .offset(page * per_page)
            .limit(per_page + 1)
        )
    )


def find_customers(session: Session, query: str, limit: int) -> list[Customer]:
    """The customer with this address, else those whose name or address contains the text."""
    query = query.strip()
    # Addresses are stored lower-cased (core.tickets.customer_for): the unique index answers.
    exact = session.exec(select(Customer).where(Customer.email == query.lower())).first()
    if exact is not None:
        return [exact]
    return list(
        session.exec(
            select(Customer)
            .where(or_(contains(Customer.name, query), contains(Customer.email, query)))
            .order_by(Customer.name, Customer.email)
            .limit(limit)
        )
    )


def customers_waiting(session: Session, user: str, limit: int = 45) -> list[Ticket]:
    """The agent's open and pending tickets whose customer wrote last, longest waiting first."""
    mine = select(Ticket.id).where(Ticket.assignee == user, Ticket.status.in_(ACTIVE))
    latest = (
        select(Message.ticket_id, func.max(Message.id).label("last_id"))
        .where(Message.ticket_id.in_(mine), Message.direction != Direction.NOTE)
        .group_by(Message.ticket_id)
        .subquery()
    )
    return list(
        session.exec(
            select(Ticket)
            .join(latest, latest.c.ticket_id == Ticket.id)
            .join(Message, Message.id == latest.c.last_id)
            .where(Message.direction == Direction.INBOUND)
            .order_by(Message.created_at)
            .limit(limit)
        )
    )


def merge_candidates(
    session: Session, query: str, merged_id: int, limit: int = 20
) -> list[tuple[Ticket, Customer]]:
    """Tickets another one can be merged into, for the type-ahead: not closed nor merged, by
    number, or by words of the subject or the customer's name or address; newest first."""
    query = query.strip().lstrip("#")
    statement = (
        select(Ticket, Customer)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(
            Ticket.id != merged_id,
            Ticket.status != TicketStatus.CLOSED,
            Ticket.merged_into_id.is_(None),
        )
    )
    if query.isdigit():
        statement = statement.where(cast(Ticket.number, String).like(f"{query}%"))
    elif query:
        statement = statement.where(
            or_(
                contains(Ticket.subject, query),
                contains(Customer.email, query),
                contains(Customer.name, query),
            )
        )
    return list(session.exec(statement.order_by(Ticket.created_at.desc()).limit(limit)))


def message_posted_as(session: Session, slack_ts: str) -> Message | None:
    """The ticket message the helpdesk posted (or an agent wrote) as this Slack message."""
    if not slack_ts:
        return None
    return session.exec(select(Message).where(Message.slack_ts == slack_ts)).first()
