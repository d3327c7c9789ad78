"""A Slack message as the core takes it: read from Slack, its author named. Network calls,
made before any transaction."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import text
from bot.core.slack_origins import SlackMessage
from bot.integrations.slack_roster import display_name

log = logging.getLogger(__name__)

# Posted by people; anything else (bots, channel joins, topic changes) is nobody's words.
HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}


def written_by_a_bot(message: dict) -> bool:
    """An app's or a bot's post (the helpdesk's own among them), not a person's words."""
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message"


def bot_in_channel(client: WebClient, channel: str) -> bool:
    """Whether the app can read and post in the channel; False when Slack won't even say."""
    try:
        return bool(client.conversations_info(channel=channel)["channel"].get("is_member"))
    except SlackApiError as exc:
        log.info("conversations.info on %s: %s", channel, exc.response.get("error"))
        return False


def read_message(client: WebClient, channel: str, ts: str) -> dict | None:
    """The message at `ts`, top-level or in a thread; None when it can't be read."""
    window = {"channel": channel, "oldest": ts, "latest": ts, "inclusive": True, "limit": 1}
    try:
        for message in client.conversations_history(**window).get("messages", []):
            if message.get("ts") == ts:
                return message
        for message in client.conversations_replies(ts=ts, **window).get("messages", []):
            if message.get("ts") == ts:
                return message
    except SlackApiError as exc:
        log.info("could not read %s/%s: %s", channel, ts, exc.response.get("error"))
    return None


def as_slack_message(client: WebClient, channel: str, message: dict) -> SlackMessage:
    author = str(message.get("user") or "")
    words = message.get("text")
    return SlackMessage(
        channel=channel,
        ts=str(message.get("ts") or ""),
        author=author,
        author_name=display_name(client, author) if author else "",
        text=text.multi_line(words) if isinstance(words, str) else "",
        thread_ts=message.get("thread_ts"),
    )
