"""Customer email becoming ticket messages: dedupe, thread, route, store, enqueue."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Row
from sqlmodel import Session, select

from bot.core import outbox, tickets
from bot.core.acknowledgements import acknowledge
from bot.core.attachments import keep
from bot.core.context import Desk
from bot.core.notices import Notice
from bot.core.threading import find_ticket, reply_token_in, thread_root
from bot.mail.authentication import unverified_reason
from bot.mail.files import extract
from bot.mail.ids import is_own_message_id
from bot.mail.parse import ParsedEmail
from bot.storage.models import (
    Customer,
    Delivery,
    Direction,
    Message,
    Source,
    Ticket,
    TicketStatus,
    utcnow,
)

log = logging.getLogger(__name__)

EMPTY_BODY = "(no text in this message)"
NAME_LIMIT = 200  # the storage columns' size; display names can be any length


@dataclass(frozen=True)
class IntakeResult:
    ticket_number: int | None
    created: bool = False
    duplicate: bool = False
    ignored: str | None = None


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def receive_email(
    session: Session, mail: ParsedEmail, raw: bytes, *, recipients: list[str], desk: Desk
) -> IntakeResult:
    all_recipients = [
        *recipients,
        *(a.address for a in [*mail.to, *mail.cc, *mail.delivered_to]),
    ]
    if mail.bounce is not None:
        return bounced(session, mail)
    same_id = _stored_with_id(session, mail.message_id)
    loop = _own_mail(mail, desk, same_id)
    if loop:
        log.warning("ignored mail %s from %s: %s", mail.message_id, _from_of(mail), loop)
        return IntakeResult(ticket_number=None, ignored=loop)
    unverified = _unverified(mail, desk)
    if unverified:
        log.warning("unverified sender %s of %s: %s", _from_of(mail), mail.message_id, unverified)
    if mail.auto_submitted_reason:
        return automatic_reply(session, mail, all_recipients, desk, unverified)
    if mail.sender is None:
        log.warning("ignored mail %s without a usable From address", mail.message_id)
        return IntakeResult(ticket_number=None, ignored="no From address")

    digest = content_hash(raw)
    message_id = mail.message_id
    if same_id:
        known = same_id[0]
        if known.content_hash == digest:
            log.info("duplicate delivery of %s ignored", message_id)
            return IntakeResult(ticket_number=known.number, duplicate=True)
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
        email_thread_root=thread_root(mail.in_reply_to, mail.references),
        content_hash=digest,
        unverified_sender=unverified,
    )
    ticket = find_ticket(
        session,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        recipients=all_recipients,
        subject=mail.subject,
        sender=mail.sender.address,
        support_address=desk.support_address,
        sender_verified=unverified is None,
    )
    customer = tickets.customer_for(session, mail.sender.address, mail.sender.name[:NAME_LIMIT])
    if ticket is None:
        ticket = _flooding(session, customer, desk.policy.mail.loop_limit_per_hour)
    if ticket is not None and ticket.status != TicketStatus.CLOSED:
        message = tickets.add_customer_message(session, desk, ticket, new_message)
        _keep_files(session, message, raw, desk)
        return IntakeResult(ticket_number=ticket.number)

    inbox = desk.policy.inbox_for(all_recipients)
    created, message = tickets.open_ticket(
        session,
        desk,
        customer=customer,
        subject=mail.subject,
        channel=inbox.channel if inbox else desk.support_channel,
        source=Source.EMAIL,
        tags=inbox.tags if inbox else [],
        first_message=new_message,
        support_address=inbox.address if inbox else None,
    )
    _keep_files(session, message, raw, desk)
    if ticket is not None:
        tickets.record_event(
            session, created, "follow_up_of", new_message.author, number=ticket.number
        )
    else:  # only a new conversation is acknowledged: a follow-up's sender is in one with us
        acknowledge(
            session,
            desk,
            created,
            message,
            mailing_list=mail.mailing_list,
            now=created.created_at,
            written_at=mail.date,
        )
    return IntakeResult(ticket_number=created.number, created=True)


def _keep_files(session: Session, message: Message, raw: bytes, desk: Desk) -> None:
    """The mail's attachments, stored and queued for the thread after the message itself."""
    if desk.files is not None:
        limit = desk.policy.mail.max_attachment_bytes
        files = extract(raw, max_bytes=limit)
        if files:  # most mail has none: no lookup of rows recorded before
            keep(session, message, files, desk.files, limit)


def bounced(session: Session, mail: ParsedEmail) -> IntakeResult:
    """A delivery failure report: the reply it is about is marked not delivered, with why."""
    bounce = mail.bounce
    reply = None
    if bounce.original_message_id:
        reply = session.exec(
            select(Message).where(
                Message.email_message_id == bounce.original_message_id,
                Message.direction == Direction.OUTBOUND,
            )
        ).first()
    if reply is None:
        log.info("bounce %s matches no reply of ours: %s", mail.message_id, bounce.reason)
        return IntakeResult(ticket_number=None, ignored=f"bounce: {bounce.reason}")
    ticket = session.get(Ticket, reply.ticket_id)
    reply.delivery = Delivery.FAILED
    reply.delivery_error = f"not delivered: {bounce.reason}"
    tickets.record_event(
        session, ticket, "reply_bounced", bounce.recipient or "mailer-daemon",
        message_id=reply.id, status=bounce.status, reason=bounce.reason,
    )  # fmt: skip
    outbox.refresh_message(session, ticket.id, reply.id)
    log.info("reply %s on ticket #%s bounced: %s", reply.id, ticket.number, bounce.reason)
    return IntakeResult(ticket_number=ticket.number, ignored="bounce")


def automatic_reply(
    session: Session,
    mail: ParsedEmail,
    recipients: list[str],
    desk: Desk,
    unverified: str | None = None,
) -> IntakeResult:
    """An out-of-office or other machine-written answer: noted on its ticket, never a new
    ticket, never a reopening, never an SLA clock restarted. Answering it starts loops."""
    sender = _from_of(mail)
    ticket = find_ticket(
        session,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        recipients=recipients,
        subject=mail.subject,
        sender=sender,
        support_address=desk.support_address,
        sender_verified=unverified is None,
    )
    log.info(
        "automatic mail %s from %s (%s)%s",
        mail.message_id,
        sender,
        mail.auto_submitted_reason,
        f" noted on ticket #{ticket.number}" if ticket else " ignored",
    )
    if ticket is None:
        return IntakeResult(ticket_number=None, ignored=mail.auto_submitted_reason)
    tickets.record_event(
        session, ticket, "automatic_reply", sender,
        reason=mail.auto_submitted_reason, subject=mail.subject[:200],
    )  # fmt: skip
    outbox.notice(
        session, ticket.id, Notice.AUTOMATIC_REPLY, sender=sender, subject=mail.subject[:200]
    )
    return IntakeResult(ticket_number=ticket.number, ignored=mail.auto_submitted_reason)


def _own_mail(mail: ParsedEmail, desk: Desk, same_id: list[Row]) -> str | None:
    """Why this is the helpdesk's own mail come back (a loop), or None.

    Only the message's own Message-ID counts: a customer's reply carries ours in
    In-Reply-To and References, as it should.
    """
    ours = [a for a in [desk.support_address, *(i.address for i in desk.policy.inboxes)] if a]
    for mailbox in mail.from_mailboxes:
        address = mailbox.address.lower()
        if any(address == own.lower() or reply_token_in([address], own) for own in ours):
            return f"loop: From is the helpdesk's own address {address}"
    if is_own_message_id(mail.message_id):
        return "loop: the Message-ID is one the helpdesk generated"
    # Also knows the ids made before they took a recognisable form.
    if any(row.direction == Direction.OUTBOUND for row in same_id):
        return "loop: the Message-ID is one of the helpdesk's replies"
    return None


def _stored_with_id(session: Session, message_id: str | None) -> list[Row]:
    """The messages already stored with this Message-ID, oldest first, with their tickets'
    numbers: one lookup answers both "is it our own reply?" and "is it a redelivery?"."""
    if not message_id:
        return []
    return list(
        session.exec(
            select(Message.direction, Message.content_hash, Ticket.number)
            .outerjoin(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.email_message_id == message_id)
            .order_by(Message.id)
        )
    )


def _unverified(mail: ParsedEmail, desk: Desk) -> str | None:
    """Why the From address can't be taken at its word; see bot/core/threading.py."""
    return mail.sender_ambiguous or unverified_reason(
        mail.authentication_results, desk.policy.mail.authserv_id
    )


def _from_of(mail: ParsedEmail) -> str:
    return mail.sender.address if mail.sender else "?"


def _flooding(session: Session, customer: Customer, limit: int) -> Ticket | None:
    """The sender's newest ticket when they opened `limit` in the last hour: a mail loop or a
    misfiring system then adds messages to one ticket instead of flooding the channel."""
    recent = session.exec(
        select(Ticket)
        .where(
            Ticket.customer_id == customer.id,
            Ticket.created_at > utcnow() - timedelta(hours=1),
            Ticket.status != TicketStatus.CLOSED,
        )
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return None
    log.warning(
        "%s opened %d tickets within an hour; more mail joins #%s",
        customer.email, limit, recent[0].number,
    )  # fmt: skip
    return recent[0]
