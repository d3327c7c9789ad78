"""Messages in ticket threads: what agents type there is an internal note, never emailed.

Slack's message events all come here; those of Slack Connect channels, where customers
write, go on to `connect_channels`."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core import notes
from bot.core.threading import survivor
from bot.handlers.slack import connect_channels
from bot.handlers.slack.common import services_of
from bot.handlers.slack.message_reading import HUMAN_SUBTYPES
from bot.storage.db import transaction
from bot.storage.queries import ticket_for_thread


def register(app: App) -> None:
    app.event("message")(on_message)


def on_message(ack: Ack, event: dict, client: WebClient, context) -> None:
    # Acknowledged first so Slack does not redeliver; every change below is idempotent.
    ack()
    if connect_channels.is_shared(event, context):
        # Customers' own threads, never the team's ticket threads.
        connect_channels.on_customer_message(event, client, context)
        return
    subtype = event.get("subtype")
    if subtype == "message_changed":
        message, previous = event.get("message") or {}, event.get("previous_message") or {}
        if message.get("subtype") == "tombstone":
            _apply(context, event["channel"], previous, notes.delete_note)
        else:
            _apply(context, event["channel"], message, notes.edit_note)
    elif subtype == "message_deleted":
        _apply(context, event["channel"], event.get("previous_message") or {}, notes.delete_note)
    elif subtype in HUMAN_SUBTYPES and not event.get("bot_id"):
        _apply(context, event["channel"], event, notes.record_note)


def _apply(context, channel: str, message: dict, change) -> None:
    thread_ts, ts, user = message.get("thread_ts"), message.get("ts"), message.get("user")
    if not thread_ts or thread_ts == ts or not user or message.get("bot_id"):
        return
    helpdesk = services_of(context)
    with transaction(helpdesk.engine) as session:
        ticket = ticket_for_thread(session, channel, thread_ts)
        if ticket is not None:
            # A merged ticket's notes, moved or new, are the kept ticket's.
            ticket = survivor(session, ticket)
            text = message.get("text")
            # A note's text is a string (cleaned by the app's middleware); never store another type.
            text = text if isinstance(text, str) else ""
            change(session, ticket, slack_ts=ts, author=user, text=text)
