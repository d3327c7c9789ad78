"""Tickets and their lifecycle, over storage; no Slack, no SMTP."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.context import Change, Desk
from bot.core.notices import Notice
from bot.core.sla import SlaRules
from bot.core.visitors import reachable
from bot.storage.models import (
    Counter,
    Customer,
    Direction,
    Message,
    Priority,
    Source,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketTag,
    utcnow,
)
from bot.storage.queries import last_customer_message

TICKET_NUMBER = "ticket_number"
SUBJECT_LIMIT = 998  # RFC 5322's line limit; longer subjects are cut, never refused
REOPENS_ON_CUSTOMER_REPLY = {TicketStatus.PENDING, TicketStatus.SOLVED}


@dataclass(frozen=True)
class NewMessage:
    """A customer's message as the core needs it, whatever channel it came through."""

    source: Source
    author: str
    author_name: str
    body: str
    full_body: str = ""
    email_message_id: str | None = None
    email_thread_root: str | None = None
    content_hash: str | None = None
    # Makes a resent message a no-op, e.g. a chat message retried by the widget.
    request_key: str | None = None
    unverified_sender: str | None = None  # why the email's sender isn't verified


def next_ticket_number(session: Session) -> int:
    # One UPDATE … RETURNING takes the row lock, so concurrent writers get distinct numbers.
    result = session.execute(
        update(Counter)
        .where(Counter.name == TICKET_NUMBER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return int(result)


def customer_for(session: Session, email: str, name: str) -> Customer:
    email = email.lower()
    customer = session.exec(select(Customer).where(Customer.email == email)).first()
    if customer is None:
        customer = Customer(email=email, name=name)
        session.add(customer)
        session.flush()
    elif name and not customer.name:
        customer.name = name
    return customer


def record_event(
    session: Session, ticket: Ticket, kind: str, actor: str, **data: Any
) -> TicketEvent:
    event = TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, data=data)
    session.add(event)
    return event


def open_ticket(
    session: Session,
    desk: Desk,
    *,
    customer: Customer,
    subject: str,
    channel: str,
    source: Source,
    tags: list[str] = (),
    first_message: NewMessage,
    support_address: str | None = None,
) -> tuple[Ticket, Message]:
    """The new ticket and its first message. Everything the ticket row holds is known before
    its INSERT, so the row is written once, not inserted and then updated."""
    now = utcnow()
    ticket = new_ticket(
        session,
        customer=customer,
        subject=subject,
        channel=channel,
        source=source,
        support_address=support_address,
        now=now,
    )
    for tag in sorted(set(tags)):
        session.add(TicketTag(ticket_id=ticket.id, tag=tag))
    record_event(session, ticket, "created", customer.email, source=source, channel=channel)
    outbox.post_root(session, ticket.id)
    message = add_customer_message(session, desk, ticket, first_message, at=now)
    desk.ticket_opened(session, ticket)
    return ticket, message


def new_ticket(
    session: Session,
    *,
    customer: Customer,
    subject: str,
    channel: str,
    source: Source,
    support_address: str | None,
    now: datetime,
) -> Ticket:
    """The ticket's row, numbered and flushed: no message, no event, no rule run yet."""
    ticket = Ticket(
        number=next_ticket_number(session),
        subject=subject[:SUBJECT_LIMIT] or "(no subject)",
        source=source,
        customer_id=customer.id,
        channel=channel,
        reply_token=secrets.token_hex(10),
        support_address=support_address,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    return ticket


def add_customer_message(
    session: Session, desk: Desk, ticket: Ticket, new: NewMessage, *, at: datetime | None = None
) -> Message:
    """`at`: when the message arrived, if not now (a new ticket's opening time)."""
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.INBOUND,
        source=new.source,
        author=new.author,
        author_name=new.author_name,
        body=new.body,
        full_body=new.full_body,
        email_message_id=new.email_message_id,
        email_thread_root=new.email_thread_root,
        content_hash=new.content_hash,
        request_key=new.request_key,
        unverified_sender=new.unverified_sender,
    )
    session.add(message)
    session.flush()
    ticket.updated_at = at or utcnow()
    if ticket.status in REOPENS_ON_CUSTOMER_REPLY:
        set_status(
            session, desk, ticket, TicketStatus.OPEN, actor=new.author, reason="customer replied"
        )
    desk.message_arrived(session, ticket, message)
    if ticket.source == Source.CHAT:
        outbox.push_chat(session, ticket.id)
    outbox.post_message(session, ticket.id, message.id)
    return message


def customer_address(session: Session, ticket: Ticket) -> str:
    return session.get(Customer, ticket.customer_id).email


def name_given(session: Session, ticket: Ticket) -> str:
    """The name the person writing on this ticket last gave (a chat visitor's, an email's From),
    not the one on file for the address: anyone can type someone else's address into the chat
    widget, and a reply must not greet them by the owner's name. Only the ticket's customer's
    own messages count: another customer's merged into it (bot.core.merging) are not theirs."""
    customer = session.get(Customer, ticket.customer_id)
    last = last_customer_message(session, ticket.id, author=customer.email)
    return last.author_name if last else customer.name


def customer_email(session: Session, ticket: Ticket) -> str | None:
    """Where the customer can be written to; None for a chat visitor who gave no address."""
    return reachable(customer_address(session, ticket))


def set_status(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    status: TicketStatus,
    *,
    actor: str,
    reason: str = "",
    resolving: bool = True,
) -> None:
    """Closing resolves the ticket as solving does (solved time, resolution time, survey)
    unless it was solved already, or `resolving` is False: closed as spam or needing no
    answer, which counts nowhere as solved. Any change ends a snooze (`pending_until`)."""
    if ticket.status == status:
        return
    previous = ticket.status
    ticket.status = status
    ticket.updated_at = utcnow()
    ticket.pending_until = None
    closing = status == TicketStatus.CLOSED
    if status == TicketStatus.SOLVED or (closing and resolving and ticket.solved_at is None):
        ticket.solved_at = ticket.updated_at
        ticket.resolution_seconds, ticket.resolution_business_seconds = measured(
            desk.sla, ticket.created_at, ticket.solved_at
        )
    elif status == TicketStatus.OPEN or (closing and not resolving):
        ticket.solved_at = None
    if closing and not resolving:
        ticket.resolution_seconds = ticket.resolution_business_seconds = None
        reason = reason or "closed without resolving"
    record_event(session, ticket, "status_changed", actor, old=previous, new=status, reason=reason)
    outbox.refresh_root(session, ticket.id)
    desk.ticket_changed(
        session, ticket, Change("status", previous, status, ticket.updated_at, by=actor)
    )


def resolved_now(ticket: Ticket, change: Change) -> bool:
    """Whether this status change is the one that resolved the ticket (solved, or closed as
    resolved), not a solved ticket being closed or a change of some other kind."""
    return change.field == "status" and ticket.solved_at == change.at


def measured(sla: SlaRules, start, end) -> tuple[int, int]:
    """Wall-clock and business seconds between two instants."""
    wall = int((end - start).total_seconds())
    business = int(sla.calendar.elapsed(start, end).total_seconds())
    return wall, business


def tags_of(session: Session, ticket_id: int) -> list[str]:
    return list(
        session.exec(
            select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id).order_by(TicketTag.tag)
        )
    )


TAG_LIMIT = 64
_TAG_JUNK = re.compile(r"[^a-z0-9_-]+")


def normalize_tag(raw: str) -> str:
    """`Order Status!` becomes `order-status`: one spelling per tag, safe in any view."""
    words = _TAG_JUNK.sub("-", raw.strip().lower().replace(" ", "-"))
    return re.sub(r"-{2,}", "-", words).strip("-")[:TAG_LIMIT]


def set_tags(session: Session, ticket: Ticket, tags: list[str], *, actor: str) -> list[str]:
    wanted = sorted({t for t in (normalize_tag(raw) for raw in tags) if t})
    current = tags_of(session, ticket.id)
    if wanted == current:
        return current
    for row in session.exec(select(TicketTag).where(TicketTag.ticket_id == ticket.id)):
        if row.tag not in wanted:
            session.delete(row)
    for tag in set(wanted) - set(current):
        session.add(TicketTag(ticket_id=ticket.id, tag=tag))
    ticket.updated_at = utcnow()
    record_event(session, ticket, "tags_changed", actor, old=current, new=wanted)
    outbox.refresh_root(session, ticket.id)
    return wanted


def assign(
    session: Session,
    ticket: Ticket,
    assignee: str | None,
    *,
    actor: str,
    rule: str | None = None,
) -> bool:
    """`rule`: the name of the rule assigning the ticket automatically (the actor is then
    the helpdesk); the event log keeps it, and the thread and the assignee's DM say it."""
    if ticket.assignee == assignee:
        return False
    previous = ticket.assignee
    ticket.assignee = assignee
    ticket.updated_at = utcnow()
    because = {"rule": rule} if rule is not None else {}
    record_event(session, ticket, "assigned", actor, old=previous, new=assignee, **because)
    outbox.refresh_root(session, ticket.id)
    if rule is not None:
        outbox.notice(session, ticket.id, Notice.ASSIGNED, assignee=assignee, rule=rule)
    if assignee and assignee != actor:
        outbox.direct_message(session, ticket.id, assignee, Notice.ASSIGNED, by=actor, **because)
    return True


def set_priority(
    session: Session, desk: Desk, ticket: Ticket, priority: Priority, *, actor: str
) -> bool:
    if ticket.priority == priority:
        return False
    previous = ticket.priority
    ticket.priority = priority
    ticket.updated_at = utcnow()
    record_event(session, ticket, "priority_changed", actor, old=previous, new=priority)
    outbox.refresh_root(session, ticket.id)
    desk.ticket_changed(
        session, ticket, Change("priority", previous, priority, ticket.updated_at, by=actor)
    )
    return True
