"""The thread's note about an effect that could not be delivered and was given up."""

from __future__ import annotations

from bot.core import outbox as kinds
from bot.views.text import escape_mrkdwn, truncate

REASON_SHOWN_LIMIT = 300

# What each kind of outbox row is, in the agents' words; others are named by their kind.
WHAT = {
    kinds.SLACK_POST_MESSAGE: "a message of this ticket",
    kinds.SLACK_UPDATE_MESSAGE: "an update of a message in this thread",
    kinds.SLACK_UPDATE_ROOT: "an update of this ticket's first message",
    kinds.SLACK_ATTACHMENTS: "the customer's files",
    kinds.SHOPIFY_CONTEXT: "the customer's orders",
    kinds.DIRECT_MESSAGE: "a direct message about this ticket",
    kinds.CHANNEL_NOTICE: "a notice about this ticket in another channel",
    kinds.SLACK_POST_ESCALATION: "this ticket's escalation",
    kinds.SLACK_UPDATE_ESCALATION: "an update of this ticket's escalation",
    kinds.SLACK_REANNOUNCE_ESCALATION: "a reminder of this ticket's escalation",
    kinds.EMAIL_SURVEY: "the satisfaction survey email",
    kinds.ASSIGN_FROM_POOL: "the automatic assignment of this ticket",
}


def failed_delivery_text(item_id: int, kind: str, reason: str) -> str:
    """Names what failed and why, and how to try again (Slack mrkdwn; the reason may quote
    customer text, so it is escaped)."""
    what = WHAT.get(kind, f"`{kind}`")
    why = escape_mrkdwn(truncate(" ".join(reason.split()), REASON_SHOWN_LIMIT)).replace("`", "'")
    return (
        f":warning: Could not deliver {what} (outbox row {item_id}), so it was given up: "
        f"`{why}`. The ticket's later messages go on. To try again: "
        f"`helpdesk outbox retry {item_id}`."
    )
