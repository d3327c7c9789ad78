"""Live-chat conversations: a website visitor's ticket, over storage; no HTTP here.

A conversation is a ticket with source `chat` plus a `ChatConversation` row holding who the
visitor is and the hash of their token. What the visitor sees is the ticket's inbound and
outbound messages (never internal notes). An agent's reply to a chat waits in the
conversation; when the visitor has been away for the policy's `away_after` without seeing
it, `email_unseen_replies` sends it by email, if the visitor gave an address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.core import outbox, tickets
from bot.core.context import Desk
from bot.core.visitors import anonymous_address
from bot.mail.ids import new_message_id
from bot.storage.models import (
    ChatConversation,
    Delivery,
    Direction,
    Message,
    Source,
    Ticket,
    TicketStatus,
    utcnow,
)

SUBJECT_CHARS = 80
CLIENT_ID_LIMIT = 64
# A start's client_id can win a new token, so it must be as hard to guess as one.
START_CLIENT_ID_MIN = 16
VISIBLE = (Direction.INBOUND, Direction.OUTBOUND)


class ConversationUnusable(Exception):
    """The conversation exists but can't take part any more; `code` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Visitor:
    name: str = ""
    email: str | None = None
    page_url: str = ""
    user_agent: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(conversation: ChatConversation, token: str) -> bool:
    return hmac.compare_digest(conversation.token_hash, token_hash(token))


def subject_of(text: str, otherwise: str = "Live chat") -> str:
    """The text's first line, cut to a subject's length; `otherwise` when it has none. Also
    names tickets made from Slack messages (bot.core.slack_origins)."""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first_line) > SUBJECT_CHARS:
        first_line = first_line[: SUBJECT_CHARS - 1].rstrip() + "…"
    return first_line or otherwise


def start(
    session: Session, desk: Desk, visitor: Visitor, text: str, client_id: str | None
) -> tuple[ChatConversation, str, bool]:
    """Opens the ticket and its conversation: (the conversation, the visitor's token, created).

    A start retried with the same `client_id` (whose answer the visitor never received)
    opens nothing new: the conversation it opened gets a fresh token, returned instead. Only
    the holder of the `client_id` can ask, and it never saw the first token.
    """
    start_key = _start_key(client_id)
    if start_key is not None:
        first = session.exec(select(Message).where(Message.request_key == start_key)).first()
        if first is not None:
            conversation = conversation_of(session, first.ticket_id)
            token = secrets.token_urlsafe(32)
            conversation.token_hash = token_hash(token)
            return conversation, token, False
    public_id = secrets.token_urlsafe(16)
    token = secrets.token_urlsafe(32)
    address = visitor.email or anonymous_address(public_id)
    customer = tickets.customer_for(session, address, visitor.name)
    chat = desk.policy.chat
    ticket, _ = tickets.open_ticket(
        session,
        desk,
        customer=customer,
        subject=subject_of(text),
        channel=chat.channel or desk.support_channel,
        source=Source.CHAT,
        tags=chat.tags,
        first_message=_visitor_message(customer.email, visitor.name, text, start_key),
    )
    conversation = ChatConversation(
        public_id=public_id,
        token_hash=token_hash(token),
        ticket_id=ticket.id,
        visitor_name=visitor.name,
        visitor_email=visitor.email,
        page_url=visitor.page_url,
        user_agent=visitor.user_agent,
    )
    session.add(conversation)
    session.flush()
    return conversation, token, True


def find(session: Session, public_id: str) -> ChatConversation | None:
    return session.exec(
        select(ChatConversation).where(ChatConversation.public_id == public_id)
    ).first()


def conversation_of(session: Session, ticket_id: int) -> ChatConversation | None:
    return session.exec(
        select(ChatConversation).where(ChatConversation.ticket_id == ticket_id)
    ).first()


def require_current(
    session: Session, conversation: ChatConversation, resume_for: timedelta, now: datetime
) -> Ticket:
    """The conversation's ticket, unless the conversation has been idle past `resume_for`:
    then it is expired for every use, reading included."""
    ticket = session.get(Ticket, conversation.ticket_id)
    if conversation.last_seen_at < now - resume_for and ticket.updated_at < now - resume_for:
        raise ConversationUnusable(
            "conversation_expired", "This conversation has expired; start a new one."
        )
    return ticket


def require_open(
    session: Session, conversation: ChatConversation, resume_for: timedelta, now: datetime
) -> Ticket:
    """The conversation's ticket, when the visitor may still write in it."""
    ticket = require_current(session, conversation, resume_for, now)
    if ticket.status == TicketStatus.CLOSED:
        raise ConversationUnusable(
            "conversation_closed", "This conversation has been closed; start a new one."
        )
    return ticket


def add_visitor_message(
    session: Session,
    desk: Desk,
    conversation: ChatConversation,
    ticket: Ticket,
    text: str,
    client_id: str | None,
) -> tuple[Message, bool]:
    """Stores the visitor's message; (the earlier one, False) when `client_id` was seen."""
    key = _message_key(conversation, client_id)
    if key is not None:
        earlier = session.exec(select(Message).where(Message.request_key == key)).first()
        if earlier is not None:
            return earlier, False
    customer_address = tickets.customer_address(session, ticket)
    message = tickets.add_customer_message(
        session,
        desk,
        ticket,
        _visitor_message(customer_address, conversation.visitor_name, text, key),
    )
    conversation.last_seen_at = message.created_at
    return message, True


def set_contact(
    session: Session,
    conversation: ChatConversation,
    ticket: Ticket,
    name: str | None,
    email: str | None,
) -> None:
    """A visitor's name or address given later, e.g. when told the team is away."""
    if name is not None:
        conversation.visitor_name = name
    if email is not None and email != conversation.visitor_email:
        conversation.visitor_email = email
        customer = tickets.customer_for(session, email, conversation.visitor_name)
        previous = ticket.customer_id
        ticket.customer_id = customer.id
        tickets.record_event(
            session, ticket, "contact_given", email, old_customer=previous, new_customer=customer.id
        )
        outbox.refresh_root(session, ticket.id)


def visible_messages(
    session: Session, ticket_id: int, after: int = 0, limit: int = 200
) -> list[Message]:
    return list(
        session.exec(
            select(Message)
            .where(
                Message.ticket_id == ticket_id,
                Message.id > after,
                Message.direction.in_(VISIBLE),
                Message.deleted_at.is_(None),
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def mark_seen(session: Session, conversation: ChatConversation, up_to: int | None) -> None:
    """The visitor has the conversation open and has received every message up to `up_to`."""
    now = utcnow()
    session.execute(
        update(ChatConversation)
        .where(ChatConversation.id == conversation.id)
        .values(last_seen_at=now)
    )
    if up_to is not None:
        session.execute(
            update(Message)
            .where(
                Message.ticket_id == conversation.ticket_id,
                Message.id <= up_to,
                Message.source == Source.CHAT,
                Message.direction == Direction.OUTBOUND,
                Message.delivery == Delivery.PENDING,
            )
            .values(delivery=Delivery.SENT)
        )


def email_unseen_replies(
    session: Session, support_address: str, away_after: timedelta, now: datetime
) -> int:
    """Emails the replies visitors left without seeing; returns how many were sent off."""
    gone_since = now - away_after
    waiting = session.exec(
        select(Message)
        .join(ChatConversation, ChatConversation.ticket_id == Message.ticket_id)
        .where(
            Message.delivery == Delivery.PENDING,
            Message.source == Source.CHAT,
            Message.direction == Direction.OUTBOUND,
            Message.email_message_id.is_(None),
            Message.created_at <= gone_since,
            ChatConversation.visitor_email.is_not(None),
            ChatConversation.last_seen_at <= gone_since,
        )
        .order_by(Message.id)
        .with_for_update(skip_locked=True)
    ).all()
    for message in waiting:
        message.email_message_id = new_message_id(support_address)
        outbox.send_email(session, message.ticket_id, message.id)
    return len(waiting)


def _message_key(conversation: ChatConversation, client_id: str | None) -> str | None:
    if not client_id:
        return None
    return f"chat:{conversation.public_id}:{client_id[:CLIENT_ID_LIMIT]}"


def _start_key(client_id: str | None) -> str | None:
    # Hashed: it proves the right to a new token, so the database doesn't keep it readable.
    if not client_id or len(client_id) < START_CLIENT_ID_MIN:
        return None
    return "chat-start:" + hashlib.sha256(client_id.encode()).hexdigest()


def _visitor_message(address: str, name: str, text: str, key: str | None) -> tickets.NewMessage:
    return tickets.NewMessage(
        source=Source.CHAT,
        author=address,
        author_name=name,
        body=text,
        full_body=text,
        request_key=key,
    )
