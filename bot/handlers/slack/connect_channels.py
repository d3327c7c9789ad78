"""Slack Connect channels (the policy's `connect_channels`), shared with customers: each
top-level message a customer writes there (anyone but an agent or a bot) is a ticket,
answered in its thread, and their later words in that thread join it."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.core.slack_origins import AlreadyATicket, add_thread_message, make_ticket
from bot.handlers.slack.common import services_of
from bot.handlers.slack.message_reading import (
    HUMAN_SUBTYPES,
    as_slack_message,
    written_by_a_bot,
)
from bot.storage.db import transaction

log = logging.getLogger(__name__)


def is_shared(event: dict, context) -> bool:
    return event.get("channel") in services_of(context).desk.policy.connect_channels


def on_customer_message(event: dict, client: WebClient, context) -> None:
    """A message event in a Connect channel (routed here by `thread_messages`, which owns
    Slack's message events)."""
    helpdesk = services_of(context)
    author = event.get("user")
    if event.get("subtype") not in HUMAN_SUBTYPES or written_by_a_bot(event) or not author:
        return  # edits, deletions, joins, and every app's posts (ours among them)
    if helpdesk.desk.roster.is_agent(author):
        return  # an agent talking with the customer in Slack, not a request
    message = as_slack_message(client, event["channel"], event)
    thread_ts = event.get("thread_ts")
    try:
        with transaction(helpdesk.engine) as session:
            if thread_ts and thread_ts != message.ts:
                add_thread_message(session, helpdesk.desk, message, thread_ts)
            else:
                make_ticket(session, helpdesk.desk, message, actor=author)
    except (AlreadyATicket, IntegrityError):
        log.info("%s/%s is a ticket already", message.channel, message.ts)
