"""The answer for features this version does not have yet, worded for the agent."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.handlers.slack.common import tell

NOT_YET = (
    "Escalating from Slack is coming soon. Until then, mention the next tier in this "
    "thread; what you write here stays internal."
)


def tell_not_yet(client: WebClient, body: dict) -> None:
    tell(client, body, NOT_YET)
