"""What every listener needs: the services, private answers, the ticket."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from slack_sdk import WebClient
from sqlmodel import Session

from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.storage.models import Ticket

log = logging.getLogger(__name__)


def services_of(context) -> Services:
    return context["helpdesk"]


def tell(client: WebClient, body: dict, text: str) -> None:
    """A private answer where the person acted: the thread, the channel, or a DM."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    message = body.get("message") or {}
    if channel is None:
        channel = client.conversations_open(users=user)["channel"]["id"]
    client.chat_postEphemeral(
        channel=channel,
        user=user,
        text=text,
        thread_ts=message.get("thread_ts") or message.get("ts"),
    )


DATABASE_AWAY = (
    "The helpdesk can't reach its database right now, so nothing was changed. "
    "Try again in a minute."
)


def tell_if_possible(client: WebClient, body: dict, text: str) -> None:
    """`tell` for any request, even one without a user (an event): best effort, as it runs
    when something already went wrong."""
    # Interactions name the user as an object, slash commands by id, events in the event.
    user = body.get("user")
    user = user.get("id") if isinstance(user, dict) else user
    user = user or body.get("user_id") or (body.get("event") or {}).get("user")
    if not user:
        return
    try:
        tell(client, {**body, "user": {"id": user}}, text)
    except Exception:
        log.warning("could not tell %s: %s", user, text, exc_info=True)


def ticket_of_action(session: Session, action: dict) -> Ticket | None:
    """Buttons carry the ticket's id in their value, selects and menus in their block's ID.

    A stale or forged payload finds nothing.
    """
    raw = action.get("value") or action.get("block_id", "").rpartition(":")[2]
    return session.get(Ticket, int(raw)) if raw.isdigit() else None


def metadata_of(view: dict) -> dict:
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def open_ticket_modal(
    client: WebClient, body: dict, context, build: Callable[[Session, Ticket], dict]
) -> None:
    """A root button that opens a modal about its ticket: a clear answer when the ticket is
    gone, else the modal that `build` makes from the ticket."""
    helpdesk = services_of(context)
    with transaction(helpdesk.engine) as session:
        ticket = ticket_of_action(session, body["actions"][0])
        if ticket is None:
            tell(client, body, "That ticket no longer exists.")
            return
        view = build(session, ticket)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def open_or_tell(client: WebClient, body: dict, answer: dict | str) -> None:
    """Opens the modal, or tells the agent privately why not: called once the transaction
    that decided which is over, as both call Slack."""
    if isinstance(answer, str):
        tell(client, body, answer)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=answer)
