"""Agents' emoji reactions (the policy's `reactions`): one makes a ticket from any person's
message, one on a ticket's root claims it, one solves it. Anyone else's reactions, reactions
on messages they don't apply to, and removed reactions change nothing, silently."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.core import tickets
from bot.core.slack_origins import AlreadyATicket, make_ticket
from bot.handlers.slack.common import services_of
from bot.handlers.slack.message_reading import as_slack_message, read_message, written_by_a_bot
from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.storage.models import TicketStatus
from bot.storage.queries import ticket_for_thread

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event("reaction_added")(on_reaction_added)


def on_reaction_added(ack: Ack, event: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    user = str(event.get("user") or "")
    item = event.get("item") or {}
    action = helpdesk.desk.policy.reactions.action_of(str(event.get("reaction") or ""))
    if action is None or item.get("type") != "message":
        return
    if not helpdesk.desk.roster.is_agent(user):
        log.info("ignored :%s: by non-agent %s", event.get("reaction"), user)
        return
    channel, ts = str(item.get("channel") or ""), str(item.get("ts") or "")
    if action == "ticket":
        _make_ticket(helpdesk, client, channel, ts, user)
        return
    with transaction(helpdesk.engine) as session:
        ticket = ticket_for_thread(session, channel, ts)  # a root: its ts is the thread's
        if ticket is None or ticket.status == TicketStatus.CLOSED:
            return
        if action == "claim":
            tickets.assign(session, ticket, user, actor=user)
        else:
            tickets.set_status(session, helpdesk.desk, ticket, TicketStatus.SOLVED, actor=user)


def _make_ticket(helpdesk: Services, client: WebClient, channel: str, ts: str, user: str) -> None:
    """The message as it is, its author the requester (an internal request, answered in its
    thread), its first line the subject: no modal to fill."""
    raw = read_message(client, channel, ts)
    if raw is None or written_by_a_bot(raw) or not raw.get("user"):
        log.info("no ticket from %s/%s: unreadable, or a bot's message", channel, ts)
        return
    message = as_slack_message(client, channel, raw)
    try:
        with transaction(helpdesk.engine) as session:
            make_ticket(session, helpdesk.desk, message, actor=user)
    except (AlreadyATicket, IntegrityError):
        log.info("%s/%s is a ticket already", channel, ts)
