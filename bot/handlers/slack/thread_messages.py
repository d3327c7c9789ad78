"""Messages posted in channels the bot is in."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event("message")(on_message)


def on_message(ack: Ack, event: dict) -> None:
    # Acknowledged so that Slack does not redeliver it; nothing reaches a customer from here.
    ack()
    log.debug("message %s in %s acknowledged", event.get("ts"), event.get("channel"))
