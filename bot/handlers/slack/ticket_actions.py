"""The buttons on a ticket's root message."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.handlers.slack.not_yet import tell_not_yet
from bot.views import ids

ROOT_BUTTONS = (
    ids.TICKET_REPLY,
    ids.TICKET_TAG,
    ids.TICKET_ESCALATE,
    ids.TICKET_ASSIGN,
    ids.TICKET_CLOSE,
)


def register(app: App) -> None:
    for action_id in ROOT_BUTTONS:
        app.action(action_id)(on_root_button)


def on_root_button(ack: Ack, body: dict, client: WebClient) -> None:
    ack()
    tell_not_yet(client, body)
