"""The "Make a ticket" message shortcut: any person's message in a channel the app is in
becomes a ticket through a modal (requester, subject, priority). A message made a ticket
before points to that ticket instead."""

from __future__ import annotations

from dataclasses import replace

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core import text
from bot.core.slack_origins import AlreadyATicket, SlackMessage, make_ticket, ticket_made_from
from bot.handlers.slack.common import metadata_of, services_of
from bot.handlers.slack.message_reading import bot_in_channel, written_by_a_bot
from bot.handlers.slack.services import Services
from bot.integrations.slack_roster import display_name
from bot.storage.db import transaction
from bot.storage.models import Priority, Ticket
from bot.views import ids
from bot.views.make_ticket_modal import (
    TicketDraft,
    already_a_ticket,
    make_ticket_modal,
    refusal_modal,
)

FROM_A_BOT = (
    "Messages from bots and apps can't be made tickets: make one from the person's message "
    "they answer, or from a message saying what is needed."
)
NOT_IN_CHANNEL = (
    "I'm not in <#{channel}>, so I can't link a ticket to this message. Invite me with "
    "`/invite @Helpdesk` and try again."
)
NOT_AN_ADDRESS = "Give an email address such as jane@example.com, or leave it empty."


def register(app: App) -> None:
    app.shortcut(ids.SHORTCUT_MAKE_TICKET)(on_shortcut)
    app.view(ids.MAKE_TICKET_MODAL)(on_submitted)


def on_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    channel = (body.get("channel") or {}).get("id", "")
    message = body.get("message") or {}
    words = message.get("text")
    draft = TicketDraft(
        channel=channel,
        ts=str(message.get("ts") or ""),
        author=str(message.get("user") or ""),
        text=words if isinstance(words, str) else "",
        subject="",
        thread_ts=message.get("thread_ts"),
    )
    if written_by_a_bot(message) or not draft.author:
        view = refusal_modal(FROM_A_BOT)
    elif not bot_in_channel(client, channel):
        view = refusal_modal(NOT_IN_CHANNEL.format(channel=channel))
    else:
        with Session(helpdesk.reader) as session:
            earlier = ticket_made_from(session, draft.channel, draft.ts)
        if earlier is not None:
            view = refusal_modal(pointer_to(helpdesk, earlier))
        else:
            subject = SlackMessage(channel, draft.ts, draft.author, "", draft.text).subject
            view = make_ticket_modal(replace(draft, subject=subject))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def pointer_to(helpdesk: Services, ticket: Ticket) -> str:
    permalink = helpdesk.permalinks.thread(ticket.channel, ticket.thread_ts)
    return already_a_ticket(ticket.number, ticket.subject, permalink)


def _typed(values: dict, block: str, action: str) -> str:
    typed = (values.get(block) or {}).get(action) or {}
    chosen = (typed.get("selected_option") or {}).get("value")
    return str(chosen or typed.get("value") or "")


def on_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    origin = metadata_of(view)
    values = (view.get("state") or {}).get("values") or {}
    requester = _typed(values, ids.MAKE_TICKET_REQUESTER_BLOCK, ids.MAKE_TICKET_REQUESTER)
    address = text.plain_address(requester) if requester.strip() else None
    if requester.strip() and address is None:
        ack(response_action="errors", errors={ids.MAKE_TICKET_REQUESTER_BLOCK: NOT_AN_ADDRESS})
        return
    priority = _typed(values, ids.MAKE_TICKET_PRIORITY_BLOCK, ids.MAKE_TICKET_PRIORITY)
    author = str(origin.get("author") or "")
    # Asked before the transaction: no Slack call while holding the database.
    message = SlackMessage(
        channel=str(origin.get("channel") or ""),
        ts=str(origin.get("ts") or ""),
        author=author,
        author_name=display_name(client, author),
        text=_typed(values, ids.MAKE_TICKET_TEXT_BLOCK, ids.MAKE_TICKET_TEXT),
        thread_ts=str(origin["thread_ts"]) if origin.get("thread_ts") else None,
    )
    try:
        with transaction(helpdesk.engine) as session:
            make_ticket(
                session,
                helpdesk.desk,
                message,
                actor=body["user"]["id"],
                subject=text.subject(
                    _typed(values, ids.MAKE_TICKET_SUBJECT_BLOCK, ids.MAKE_TICKET_SUBJECT)
                ),
                priority=Priority(priority) if priority in set(Priority) else Priority.NORMAL,
                requester_email=address,
            )
    except (AlreadyATicket, IntegrityError):
        # Made meanwhile: by another modal, a reaction, or Slack's retry of this one.
        with Session(helpdesk.reader) as session:
            earlier = ticket_made_from(session, message.channel, message.ts)
        number = f" #{earlier.number}" if earlier else ""
        ack(
            response_action="errors",
            errors={ids.MAKE_TICKET_TEXT_BLOCK: f"This message is already ticket{number}."},
        )
        return
    ack()
