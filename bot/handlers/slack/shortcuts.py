"""The escalation shortcuts declared in manifest.yml (Reply's lives in replies.py)."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.handlers.slack.not_yet import tell_not_yet
from bot.views import ids


def register(app: App) -> None:
    for callback_id in (ids.SHORTCUT_ESCALATE, ids.SHORTCUT_ESCALATE_GLOBAL):
        app.shortcut(callback_id)(on_shortcut)


def on_shortcut(ack: Ack, body: dict, client: WebClient) -> None:
    ack()
    tell_not_yet(client, body)
