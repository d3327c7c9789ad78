"""The Tag modal: open it from the root, apply what was chosen."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.tickets import set_tags, tags_of
from bot.handlers.slack.common import (
    metadata_of,
    open_ticket_modal,
    services_of,
)
from bot.storage.db import transaction
from bot.storage.models import Ticket
from bot.views import ids
from bot.views.tag_modal import tag_modal


def register(app: App) -> None:
    app.action(ids.TICKET_TAG)(on_tag_button)
    app.view(ids.TAG_MODAL)(on_tags_submitted)


def on_tag_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    policy_tags = services_of(context).desk.policy.tags
    open_ticket_modal(
        client,
        body,
        context,
        lambda session, ticket: tag_modal(
            ticket.id, ticket.number, tags_of(session, ticket.id), policy_tags
        ),
    )


def chosen_tags(values: dict) -> list[str]:
    picked = (values.get(ids.TAG_PICK_BLOCK) or {}).get(ids.TAG_PICK) or {}
    typed = ((values.get(ids.TAG_NEW_BLOCK) or {}).get(ids.TAG_NEW) or {}).get("value") or ""
    return [o["value"] for o in picked.get("selected_options") or []] + typed.split(",")


def on_tags_submitted(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata_of(view).get("ticket_id", 0))
        if ticket is None:
            ack(response_action="errors", errors={ids.TAG_NEW_BLOCK: "The ticket is gone."})
            return
        set_tags(session, ticket, chosen_tags(view["state"]["values"]), actor=body["user"]["id"])
    ack()
