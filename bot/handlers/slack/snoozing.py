"""The "Pending until…" modal: opened from the root, a time picked, the ticket snoozed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.snooze import SnoozeRefused, snooze
from bot.handlers.slack.common import metadata_of, open_ticket_modal, services_of
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views import ids
from bot.views.snooze_modal import snooze_modal

log = logging.getLogger(__name__)

PROPOSED_HOUR = time(9)  # the picker starts at tomorrow 09:00, the agent's time


def register(app: App) -> None:
    app.action(ids.TICKET_SNOOZE)(on_snooze_button)
    app.view(ids.SNOOZE_MODAL)(on_snooze_submitted)


def on_snooze_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    zone = agent_zone(client, body["user"]["id"], services_of(context).desk.policy.timezone)
    proposed = tomorrow_morning(utcnow(), zone)
    open_ticket_modal(
        client,
        body,
        context,
        lambda _session, ticket: snooze_modal(ticket.id, ticket.number, proposed),
    )


def agent_zone(client: WebClient, user: str, fallback: str) -> ZoneInfo:
    """The agent's own time zone as Slack knows it, else the policy's."""
    try:
        return ZoneInfo(client.users_info(user=user)["user"]["tz"])
    except Exception:  # Slack unreachable, no zone given, or one this machine doesn't know
        log.info("no time zone for %s; proposing a time in the policy's", user, exc_info=True)
        return ZoneInfo(fallback)


def tomorrow_morning(now: datetime, zone: ZoneInfo) -> datetime:
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, PROPOSED_HOUR, tzinfo=zone)


def picked_time(values: dict) -> datetime | None:
    picked = ((values.get(ids.SNOOZE_UNTIL_BLOCK) or {}).get(ids.SNOOZE_UNTIL) or {}).get(
        "selected_date_time"
    )
    return datetime.fromtimestamp(picked, UTC) if isinstance(picked, int) else None


def on_snooze_submitted(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    until = picked_time(view["state"]["values"])
    if until is None:
        ack(response_action="errors", errors={ids.SNOOZE_UNTIL_BLOCK: "Pick a date and a time."})
        return
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata_of(view).get("ticket_id", 0))
        if ticket is None:
            ack(response_action="errors", errors={ids.SNOOZE_UNTIL_BLOCK: "The ticket is gone."})
            return
        try:
            snooze(session, helpdesk.desk, ticket, until, actor=body["user"]["id"], now=utcnow())
        except SnoozeRefused as refused:
            ack(response_action="errors", errors={ids.SNOOZE_UNTIL_BLOCK: str(refused)})
            return
    ack()
