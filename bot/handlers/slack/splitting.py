"""Splitting from Slack: the "Split into a new ticket" shortcut on a customer's message in a
ticket's thread, and its modal (that message alone, or with those after it)."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.splitting import split, split_refusal
from bot.core.ticket_moves import MoveRefused, messages_of
from bot.handlers.slack.common import metadata_of, open_or_tell, services_of
from bot.storage.db import transaction
from bot.storage.models import Message, Ticket
from bot.storage.queries import message_posted_as
from bot.views import ids
from bot.views.move_modals import move_refused_modal, split_modal


def register(app: App) -> None:
    app.shortcut(ids.SHORTCUT_SPLIT)(on_shortcut)
    app.view(ids.SPLIT_MODAL)(on_submitted)


def on_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    ts = (body.get("message") or {}).get("ts") or ""
    with transaction(services_of(context).reader) as session:
        answer = _split_modal(session, message_posted_as(session, ts))
    open_or_tell(client, body, answer)


def _split_modal(session: Session, message: Message | None) -> dict | str:
    """The split modal for the message, or why not in words."""
    if message is None:
        return "Split works on a customer's message in a ticket's thread."
    refusal = split_refusal(session, message, following=False)
    if refusal:
        return refusal
    conversation = messages_of(session, message.ticket_id)
    after = len(conversation) - conversation.index(message) - 1
    number = session.get(Ticket, message.ticket_id).number
    return split_modal(message.id, number, message.body, after)


def on_submitted(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    ticked = (
        (view["state"]["values"].get(ids.SPLIT_FOLLOWING_BLOCK) or {}).get(ids.SPLIT_FOLLOWING)
        or {}
    ).get("selected_options")
    try:
        with transaction(helpdesk.engine) as session:
            message = session.get(Message, metadata_of(view).get("message_id", 0))
            if message is None:
                raise MoveRefused("That message no longer exists.")
            split(
                session,
                helpdesk.desk,
                message,
                following=bool(ticked),
                actor=body["user"]["id"],
                request_key=f"view:{view['id']}",
            )
    except MoveRefused as refused:
        ack(response_action="update", view=move_refused_modal(str(refused)))
        return
    ack()
