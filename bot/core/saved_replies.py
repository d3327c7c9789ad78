"""Saved replies: canned answers with placeholders, checked when saved and filled in when used."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot import config
from bot.core import placeholders
from bot.core.tickets import name_given
from bot.storage.models import SavedReply, Ticket, utcnow

TITLE_LIMIT = 75
BODY_LIMIT = 3000  # what a Reply modal's answer can hold
KNOWN_PLACEHOLDERS = tuple(f"{{{{{name}}}}}" for name in placeholders.FALLBACKS)
PLACEHOLDER_LIST = ", ".join(KNOWN_PLACEHOLDERS)


class SavedReplyRefused(ValueError):
    """The saved reply can't be stored as it is; the message is for the agent."""

    def __init__(self, message: str, field: Literal["title", "body"]):
        super().__init__(message)
        self.field = field


def unknown_placeholders(body: str) -> list[str]:
    """Each `{{…}}` in `body` that `render` can't fill, as written, once, in order."""
    return config.unknown_placeholders(body, placeholders.FALLBACKS)


def create(session: Session, title: str, body: str, actor: str) -> SavedReply:
    reply = SavedReply(
        title=_checked_title(session, title, None), body=_checked_body(body), created_by=actor
    )
    return _saved(session, reply)


def update(session: Session, saved_reply_id: int, title: str, body: str) -> SavedReply:
    reply = session.get(SavedReply, saved_reply_id)
    if reply is None:
        raise SavedReplyRefused(
            "Someone deleted this saved reply meanwhile; go back and create it anew.", "title"
        )
    reply.title = _checked_title(session, title, reply.id)
    reply.body = _checked_body(body)
    reply.updated_at = utcnow()
    return _saved(session, reply)


def delete(session: Session, saved_reply_id: int) -> bool:
    reply = session.get(SavedReply, saved_reply_id)
    if reply is None:
        return False
    session.delete(reply)
    return True


def render_for(
    session: Session,
    saved_reply_id: int,
    ticket: Ticket,
    agent_name: str,
    more: dict[str, str | None] | None = None,
) -> str | None:
    """The saved reply's text for this ticket's customer, or None when it no longer exists.

    `more` adds values found elsewhere, such as the customer's latest Shopify order."""
    reply = session.get(SavedReply, saved_reply_id)
    if reply is None:
        return None
    name = name_given(session, ticket)  # not the name on file: the address may be a claim
    values = {
        "customer.first_name": placeholders.first_name(name),
        "customer.name": name,
        "ticket.number": str(ticket.number),
        "agent.first_name": placeholders.first_name(agent_name),
        **(more or {}),
    }
    return placeholders.render(reply.body, values)


def _saved(session: Session, reply: SavedReply) -> SavedReply:
    session.add(reply)
    try:
        session.flush()
    except IntegrityError:
        # Another agent saved the same title between our check and this write.
        raise _title_taken(reply.title) from None
    return reply


def _checked_title(session: Session, title: str, own_id: int | None) -> str:
    title = title.strip()
    if not title:
        raise SavedReplyRefused("Give the saved reply a title.", "title")
    if len(title) > TITLE_LIMIT:
        raise SavedReplyRefused(f"Titles are limited to {TITLE_LIMIT} characters.", "title")
    # Titles differing only in case would look the same in the Reply modal's picker.
    same = select(SavedReply.id).where(func.lower(SavedReply.title) == title.lower())
    if own_id is not None:
        same = same.where(SavedReply.id != own_id)
    if session.exec(same).first() is not None:
        raise _title_taken(title)
    return title


def _title_taken(title: str) -> SavedReplyRefused:
    return SavedReplyRefused(
        f'There is already a saved reply called "{title}"; choose another title.', "title"
    )


def _checked_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise SavedReplyRefused("Write the text of the saved reply.", "body")
    if len(body) > BODY_LIMIT:
        raise SavedReplyRefused(f"Saved replies are limited to {BODY_LIMIT:,} characters.", "body")
    if unknown := unknown_placeholders(body):
        named = ", ".join(unknown[:3]) + (", …" if len(unknown) > 3 else "")
        verb = "is not a placeholder" if len(unknown) == 1 else "are not placeholders"
        raise SavedReplyRefused(f"{named} {verb}; use {PLACEHOLDER_LIST}.", "body")
    return body
