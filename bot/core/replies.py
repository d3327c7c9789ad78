"""An agent's answer to the customer: stored, emailed through the outbox, copied to the thread."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot.core import outbox
from bot.core.context import Desk
from bot.core.slack_origins import answered_in_slack
from bot.core.tickets import measured, record_event, set_status
from bot.mail.ids import new_message_id
from bot.storage.models import (
    Attachment,
    Delivery,
    Direction,
    Message,
    Source,
    Ticket,
    TicketStatus,
    utcnow,
)

ANSWER_LIMIT = 3000


class ReplyRefused(ValueError):
    """The answer can't be sent as it is; the message says why, for the agent."""


@dataclass(frozen=True)
class SharedFile:
    """A file the agent attached in Slack; its bytes are fetched when the email is sent."""

    slack_file_id: str
    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Agent:
    user_id: str
    name: str


def reply_to_customer(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    agent: Agent,
    body: str,
    *,
    new_status: TicketStatus | None = None,
    request_key: str | None = None,
    files: tuple[SharedFile, ...] = (),
    max_file_bytes: int = 20 * 1024 * 1024,
) -> Message:
    """Records the answer and enqueues the email and the thread copy, in that order.

    `request_key` makes a resubmitted modal a no-op: the first reply with it is returned.
    """
    if request_key:
        earlier = session.exec(select(Message).where(Message.request_key == request_key)).first()
        if earlier is not None:
            return earlier
    body = body.strip()
    if not body:
        raise ReplyRefused("Write an answer before sending.")
    if len(body) > ANSWER_LIMIT:
        raise ReplyRefused(f"Answers are limited to {ANSWER_LIMIT:,} characters.")
    if ticket.status == TicketStatus.CLOSED:
        raise ReplyRefused(f"Ticket #{ticket.number} is closed; reopen it to reply.")
    # A chat's answer goes to the widget; email comes later, if at all (core.chat). A ticket
    # made from a Slack user's message is answered in that message's thread.
    by_chat = ticket.source == Source.CHAT
    by_slack = answered_in_slack(session, ticket) is not None
    by_email = not (by_chat or by_slack)
    if by_email and not desk.support_address:
        raise ReplyRefused("HELPDESK_SUPPORT_ADDRESS is not set, so no email can be sent.")
    if files and by_chat:
        raise ReplyRefused("The live chat shows text only; send files by email instead.")
    if files and by_slack:
        raise ReplyRefused("Answers in Slack threads carry text only; share files there.")
    if sum(f.size for f in files) > max_file_bytes:
        limit = max_file_bytes // (1024 * 1024)
        raise ReplyRefused(f"Attachments are limited to {limit} MB in all; leave some out.")
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.OUTBOUND,
        source=Source.CHAT if by_chat else Source.SLACK if by_slack else Source.EMAIL,
        author=agent.user_id,
        author_name=agent.name,
        body=body,
        full_body=body,
        email_message_id=new_message_id(desk.support_address) if by_email else None,
        delivery=Delivery.PENDING,
        request_key=request_key,
    )
    session.add(message)
    session.flush()
    for shared in files:
        session.add(
            Attachment(
                message_id=message.id,
                filename=shared.name[:255] or "attachment",
                content_type=shared.content_type[:255] or "application/octet-stream",
                size=shared.size,
                sha256="",  # known once fetched from Slack, when the email is sent
                slack_file_id=shared.slack_file_id,
            )
        )
    now = utcnow()
    ticket.updated_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_seconds, ticket.first_response_business_seconds = measured(
            desk.sla, ticket.created_at, now
        )
        record_event(session, ticket, "first_response", agent.user_id, message_id=message.id)
    record_event(session, ticket, "replied", agent.user_id, message_id=message.id)
    desk.agent_replied(session, ticket, message)
    if by_chat:
        outbox.push_chat(session, ticket.id)
    elif by_slack:
        outbox.reply_in_slack(session, ticket.id, message.id)
    else:
        outbox.send_email(session, ticket.id, message.id)
    outbox.post_message(session, ticket.id, message.id)
    if new_status is not None:
        set_status(
            session, desk, ticket, new_status, actor=agent.user_id, reason="set with the reply"
        )
    return message


def retry_reply(session: Session, message: Message, actor: str) -> bool:
    """Sends a failed reply again; False when it is not in a state to be retried."""
    if message.direction != Direction.OUTBOUND or message.delivery != Delivery.FAILED:
        return False
    message.delivery = Delivery.PENDING
    message.delivery_error = None
    ticket = session.get(Ticket, message.ticket_id)
    record_event(session, ticket, "reply_retried", actor, message_id=message.id)
    # The row the outbox gave up on, if that is how it failed: it leaves `helpdesk outbox`.
    in_slack = message.source == Source.SLACK
    kind = outbox.SLACK_THREAD_REPLY if in_slack else outbox.EMAIL_SEND
    if not outbox.requeue_failed(session, kind, message.id):
        (outbox.reply_in_slack if in_slack else outbox.send_email)(session, ticket.id, message.id)
    outbox.refresh_message(session, ticket.id, message.id)
    return True


def record_delivery(session: Session, message: Message, failure: str | None) -> None:
    """A reply's outcome, once its deliverer is done with it: sent, or failed for good (the
    thread then shows it Not delivered, with Retry)."""
    ticket = session.get(Ticket, message.ticket_id)
    if failure is not None:
        message.delivery = Delivery.FAILED
        message.delivery_error = failure
        record_event(session, ticket, "reply_failed", "helpdesk", message_id=message.id)
    else:
        message.delivery = Delivery.SENT
        message.delivery_error = None
        record_event(session, ticket, "reply_sent", "helpdesk", message_id=message.id)
    if message.slack_ts:
        # A retried reply: its copy in the thread still says it failed.
        outbox.refresh_message(session, ticket.id, message.id)
