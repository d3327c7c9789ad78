"""Messages in ticket threads: what agents type there is an internal note, never emailed."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.core import notes
from bot.core.threading import survivor
from bot.handlers.slack.common import services_of
from bot.storage.db import transaction
from bot.storage.queries import ticket_for_thread

# Posted by people; anything else (bots, channel joins, topic changes) is not a note.
HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}


def register(app: App) -> None:
    app.event("message")(on_message)


def on_message(ack: Ack, event: dict, context) -> None:
    # Acknowledged first so Slack does not redeliver; every change below is idempotent.
    ack()
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
