"""Customer email becoming ticket messages: dedupe, thread, route, store, enqueue."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from sqlmodel import Session, select

from bot.config import Policy
from bot.core import tickets
from bot.core.sla import SlaRules
from bot.core.threading import find_ticket
from bot.mail.parse import ParsedEmail
from bot.storage.models import Message, Source, Ticket, TicketStatus

log = logging.getLogger(__name__)

EMPTY_BODY = "(no text in this message)"
NAME_LIMIT = 200  # the storage columns' size; display names can be any length


@dataclass(frozen=True)
class Routing:
    """Where new tickets go; built from settings and policy by the composition root."""

    support_channel: str
    support_address: str | None
    policy: Policy = field(default_factory=Policy)
    sla: SlaRules | None = None
    order_context: bool = False  # Shopify is connected: new tickets get the customer's orders


@dataclass(frozen=True)
class IntakeResult:
    ticket_number: int | None
    created: bool = False
    duplicate: bool = False
    ignored: str | None = None


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def receive_email(
    session: Session, mail: ParsedEmail, raw: bytes, *, recipients: list[str], routing: Routing
) -> IntakeResult:
    if mail.auto_submitted_reason:
        # Answering machines must never open tickets: that is how mail loops start.
        log.info(
            "ignored automatic mail %s from %s: %s",
            mail.message_id,
            mail.sender.address if mail.sender else "?",
            mail.auto_submitted_reason,
        )
        return IntakeResult(ticket_number=None, ignored=mail.auto_submitted_reason)
    if mail.sender is None:
        log.warning("ignored mail %s without a usable From address", mail.message_id)
        return IntakeResult(ticket_number=None, ignored="no From address")

    digest = content_hash(raw)
    message_id = mail.message_id
    if message_id is not None:
        known = session.exec(select(Message).where(Message.email_message_id == message_id)).first()
        if known is not None:
            if known.content_hash == digest:
                log.info("duplicate delivery of %s ignored", message_id)
                return IntakeResult(ticket_number=_number_of(session, known), duplicate=True)
            log.warning("Message-ID %s reused for different content; stored separately", message_id)
            message_id = None
    if message_id is None:
        # A stable stand-in, so that a redelivery of the same bytes is still recognised.
        message_id = f"sha256-{digest}@helpdesk.invalid"
        if session.exec(select(Message.id).where(Message.email_message_id == message_id)).first():
            return IntakeResult(ticket_number=None, duplicate=True)

    new_message = tickets.NewMessage(
        source=Source.EMAIL,
        author=mail.sender.address.lower(),
        author_name=mail.sender.name[:NAME_LIMIT],
        body=mail.visible_text.strip() or mail.text.strip() or EMPTY_BODY,
        full_body=mail.text,
        email_message_id=message_id,
        content_hash=digest,
    )
    all_recipients = [*recipients, *(a.address for a in [*mail.to, *mail.cc])]
    ticket = find_ticket(
        session,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        recipients=all_recipients,
        subject=mail.subject,
        sender=mail.sender.address,
        support_address=routing.support_address,
    )
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        tickets.add_customer_message(session, ticket, new_message, routing.sla)
        return IntakeResult(ticket_number=ticket.number)

    inbox = routing.policy.inbox_for(all_recipients)
    customer = tickets.customer_for(session, mail.sender.address, mail.sender.name[:NAME_LIMIT])
    created = tickets.open_ticket(
        session,
        customer=customer,
        subject=mail.subject,
        channel=inbox.channel if inbox else routing.support_channel,
        source=Source.EMAIL,
        tags=inbox.tags if inbox else [],
        first_message=new_message,
        sla=routing.sla,
        order_context=routing.order_context,
    )
    if ticket is not None:
        tickets.record_event(
            session, created, "follow_up_of", new_message.author, number=ticket.number
        )
    return IntakeResult(ticket_number=created.number, created=True)


def _number_of(session: Session, message: Message) -> int | None:
    ticket = session.get(Ticket, message.ticket_id)
    return ticket.number if ticket else None
