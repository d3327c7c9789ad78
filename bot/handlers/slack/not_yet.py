"""The answer for features this version does not have yet, worded for the agent."""

from __future__ import annotations

from slack_sdk import WebClient

NOT_YET = (
    "Replying, tagging, assigning, escalating and closing from Slack are coming soon. "
    "Until then, answer the customer from the support mailbox; their reply will land in "
    "this thread."
)


def tell_not_yet(client: WebClient, body: dict) -> None:
    """Tells the agent privately, in the thread the request came from."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    if channel is None:
        # A global shortcut has no channel; a DM from the bot is where the agent will look.
        channel = client.conversations_open(users=user)["channel"]["id"]
    client.chat_postEphemeral(
        channel=channel,
        user=user,
        text=NOT_YET,
        thread_ts=message.get("thread_ts") or message.get("ts"),
    )
