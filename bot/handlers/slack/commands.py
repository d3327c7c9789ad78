"""The `/escalate` and `/helpdesk` slash commands."""

from __future__ import annotations

from slack_bolt import Ack, App

from bot.handlers.slack.not_yet import NOT_YET

HELP = (
    "*Helpdesk*: customer email arrives in this channel as one thread per ticket.\n"
    "• `/helpdesk help`: this message\n"
    "• `/escalate #number reason`: escalate a ticket\n"
)


def register(app: App) -> None:
    app.command("/helpdesk")(on_helpdesk)
    app.command("/escalate")(on_escalate)


def on_helpdesk(ack: Ack, command: dict) -> None:
    text = (command.get("text") or "").strip()
    if text in ("", "help"):
        ack(HELP)
    else:
        ack(f"`/helpdesk {text.split()[0]}` is not available yet. {NOT_YET}")


def on_escalate(ack: Ack) -> None:
    ack(NOT_YET)
