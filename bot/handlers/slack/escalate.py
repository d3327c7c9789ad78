"""Escalation from Slack: `/escalate`, the Escalate button and shortcuts, the modal, and the
tier channel's Take it / De-escalate buttons."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.escalation import EscalationRefused, de_escalate, escalate, take
from bot.handlers.slack.common import (
    metadata_of,
    services_of,
    tell,
    ticket_of_action,
)
from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.storage.models import Escalation, Ticket, TicketStatus
from bot.storage.queries import escalation_candidates, ticket_by_number, ticket_for_thread
from bot.views import ids
from bot.views.escalation_surfaces import TicketChoice, escalation_modal, ticket_option

log = logging.getLogger(__name__)

COMMAND = re.compile(r"^\s*#?(\d{1,18})\b\s*(.*)$", re.DOTALL)
# The buttons on an escalation's post in its tier's channel.
POST_ACTIONS = (ids.ESCALATION_TAKE, ids.ESCALATION_RESOLVE, ids.ESCALATION_OPEN_THREAD)
QUEUED_ACTIONS = (ids.ESCALATION_TAKE, ids.ESCALATION_RESOLVE)


def register(app: App) -> None:
    app.command("/escalate")(on_command)
    app.action(ids.TICKET_ESCALATE)(on_button)
    app.shortcut(ids.SHORTCUT_ESCALATE)(on_message_shortcut)
    app.shortcut(ids.SHORTCUT_ESCALATE_GLOBAL)(on_global_shortcut)
    app.options(ids.ESCALATION_TICKET)(on_ticket_options)
    app.view(ids.ESCALATION_MODAL)(on_submitted)
    app.action(ids.ESCALATION_TAKE)(on_take)
    app.action(ids.ESCALATION_RESOLVE)(on_resolve)
    # A link button still reports its click; acknowledging is all there is to do.
    app.action(ids.ESCALATION_OPEN_THREAD)(lambda ack: ack())


def by_tier_member(helpdesk: Services, body: dict, user: str) -> bool:
    """Members of a tier's channel may take and return the escalations posted there."""
    actions = body.get("actions") or [{}]
    channel = (body.get("channel") or {}).get("id")
    tiers = helpdesk.desk.tiers
    return (
        body.get("type") == "block_actions"
        and all(action.get("action_id") in POST_ACTIONS for action in actions)
        and channel in {tier.channel for tier in tiers}
        and helpdesk.desk.roster.is_member(channel, user)
    )


def _open_modal(client: WebClient, helpdesk: Services, trigger_id: str, ticket, channel) -> None:
    tiers = helpdesk.desk.tiers
    choice = TicketChoice(ticket.id, ticket.number, ticket.subject) if ticket else None
    view = escalation_modal([(t.index, t.name) for t in tiers], choice, channel)
    client.views_open(trigger_id=trigger_id, view=view)


def _closed(ticket: Ticket) -> str:
    return f"Ticket #{ticket.number} is closed; reopen it before escalating."


def on_command(ack: Ack, command: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    match = COMMAND.match(command.get("text") or "")
    number, reason = (int(match[1]), match[2].strip()) if match else (None, "")
    with transaction(helpdesk.engine) as session:
        ticket = ticket_by_number(session, number) if number is not None else None
        if number is not None and ticket is None:
            ack(f"There is no ticket #{number}.")
            return
        if ticket is not None and ticket.status == TicketStatus.CLOSED:
            ack(_closed(ticket))
            return
        if ticket is None or not reason:
            ack()
            _open_modal(client, helpdesk, command["trigger_id"], ticket, command["channel_id"])
            return
        try:
            escalation = escalate(
                session,
                helpdesk.desk,
                ticket,
                tiers=helpdesk.desk.tiers,
                actor=command["user_id"],
                reason=reason,
                request_key=f"command:{command['trigger_id']}",
            )
        except EscalationRefused as refused:
            ack(str(refused))
            return
        done = f"Escalated #{ticket.number} to {escalation.tier_name}."
        channel = escalation.channel
    ack(" ".join(filter(None, [done, _membership_warning(client, channel)])))


def on_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    with transaction(helpdesk.engine) as session:
        ticket = ticket_of_action(session, body["actions"][0])
    _open_for(client, helpdesk, body, ticket)


def on_message_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    with transaction(helpdesk.engine) as session:
        ticket = ticket_for_thread(session, channel, message.get("thread_ts") or message["ts"])
    _open_for(client, helpdesk, body, ticket)


def _open_for(client: WebClient, helpdesk: Services, body: dict, ticket: Ticket | None) -> None:
    if ticket is None:
        tell(client, body, "This is not a ticket thread, or the ticket no longer exists.")
    elif ticket.status == TicketStatus.CLOSED:
        tell(client, body, _closed(ticket))
    else:
        _open_modal(client, helpdesk, body["trigger_id"], ticket, ticket.channel)


def on_global_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    _open_modal(client, services_of(context), body["trigger_id"], None, None)


def on_ticket_options(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    channel = metadata_of(body.get("view") or {}).get("channel")
    with transaction(helpdesk.engine) as session:
        tickets = escalation_candidates(session, body.get("value") or "", channel)
        options = [ticket_option(TicketChoice(t.id, t.number, t.subject)) for t in tickets]
    ack(options=options)


def _selected(values: dict, block: str, action: str) -> str | None:
    element = (values.get(block) or {}).get(action) or {}
    return (element.get("selected_option") or {}).get("value")


def on_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    user = body["user"]["id"]
    view = body["view"]
    values = view["state"]["values"]
    ticket_id = _selected(values, ids.ESCALATION_TICKET_BLOCK, ids.ESCALATION_TICKET) or ""
    tier = _selected(values, ids.ESCALATION_TIER_BLOCK, ids.ESCALATION_TIER)
    reason = (values[ids.ESCALATION_REASON_BLOCK][ids.ESCALATION_REASON] or {}).get("value")
    try:
        with transaction(helpdesk.engine) as session:
            ticket = session.get(Ticket, int(ticket_id)) if ticket_id.isdigit() else None
            if ticket is None:
                raise EscalationRefused("Pick a ticket to escalate.")
            escalation = escalate(
                session,
                helpdesk.desk,
                ticket,
                tiers=helpdesk.desk.tiers,
                actor=user,
                reason=reason or "",
                urgency=_selected(values, ids.ESCALATION_URGENCY_BLOCK, ids.ESCALATION_URGENCY)
                or "normal",
                tier=int(tier) if tier and tier.isdigit() else None,
                request_key=f"view:{view['id']}",
            )
            channel = escalation.channel
    except EscalationRefused as refused:
        block = {"reason": ids.ESCALATION_REASON_BLOCK}.get(
            refused.field, ids.ESCALATION_TICKET_BLOCK
        )
        ack(response_action="errors", errors={block: str(refused)})
        return
    ack()
    warning = _membership_warning(client, channel)
    if warning:
        tell(client, body, warning)


def _membership_warning(client: WebClient, channel: str) -> str | None:
    """What to do when the bot can't post in the tier's channel; the escalation waits for it."""
    try:
        if client.conversations_info(channel=channel)["channel"].get("is_member"):
            return None
    except SlackApiError as exc:
        log.warning("escalation channel %s: %s", channel, exc.response.get("error"))
    return (
        f"I can't post in <#{channel}> yet: invite me there with `/invite @Helpdesk`. "
        "The escalation is saved and will be posted as soon as I'm in."
    )


def _on_escalation(change):
    def on_action(ack: Ack, body: dict, client: WebClient, context) -> None:
        ack()
        helpdesk = services_of(context)
        user = body["user"]["id"]
        raw = body["actions"][0].get("value", "")
        try:
            with transaction(helpdesk.engine) as session:
                escalation = session.get(Escalation, int(raw)) if raw.isdigit() else None
                if escalation is None:
                    raise EscalationRefused("That escalation no longer exists.")
                change(session, escalation, user)
        except EscalationRefused as refused:
            tell(client, body, str(refused))

    return on_action


on_take = _on_escalation(take)
on_resolve = _on_escalation(de_escalate)
