"""A customer's message as a reply in the ticket thread."""

from __future__ import annotations

from dataclasses import dataclass

from bot.views import ids
from bot.views.elements import button, context, section
from bot.views.text import (
    FALLBACK_TEXT_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    VISITOR,
    escape_mrkdwn,
    shown_name,
    split_for_sections,
    truncate,
)

# Leaves room for the header, the unverified-sender marker and the truncation note.
BODY_BLOCK_LIMIT = MESSAGE_BLOCK_LIMIT - 4


@dataclass(frozen=True)
class CustomerMessage:
    author_name: str
    author_email: str  # empty when the customer can't be reached (a visitor who gave none)
    body: str
    source: str
    unverified_sender: str | None = None  # why the email's sender isn't verified


def customer_message_text(message: CustomerMessage) -> str:
    marker = "Unverified sender: " if message.unverified_sender else ""
    return truncate(marker + escape_mrkdwn(message.body), FALLBACK_TEXT_LIMIT)


def _author(message: CustomerMessage) -> str:
    """Who wrote it, escaped; by email with the real address, so no name can stand in. A chat
    visitor who gave neither name nor address is a website visitor (`author_email` is empty
    for the stand-in address the helpdesk keeps for them)."""
    if not message.author_email:
        return f"*{escape_mrkdwn(message.author_name or VISITOR)}*"
    if message.source != "email" or not message.author_name:
        return f"*{escape_mrkdwn(message.author_name or message.author_email)}*"
    return f"*{shown_name(message.author_name)}* {escape_mrkdwn(f'<{message.author_email}>')}"


VIA = {"email": "email", "chat": "live chat", "slack": "Slack"}


def customer_message_blocks(message: CustomerMessage) -> list[dict]:
    via = VIA.get(message.source, message.source)
    chunks = split_for_sections(escape_mrkdwn(message.body))
    blocks: list[dict] = [context(f":incoming_envelope: {_author(message)} wrote by {via}")]
    if message.unverified_sender:
        blocks.append(
            context(
                f":warning: *Unverified sender* ({escape_mrkdwn(message.unverified_sender)}): "
                f"this may not be from {escape_mrkdwn(message.author_email)}, so it can't join a "
                "ticket by its number or reply address."
            )
        )
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": c}}
        for c in chunks[:BODY_BLOCK_LIMIT]
    ]
    if len(chunks) > BODY_BLOCK_LIMIT:
        hidden = sum(len(c) for c in chunks[BODY_BLOCK_LIMIT:])
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f":scissors: Message truncated: {hidden:,} more characters are "
                        "stored with the ticket but too long for Slack.",
                    }
                ],
            }
        )
    return blocks


@dataclass(frozen=True)
class AgentReply:
    """An agent's answer as the thread shows it: what was sent, by whom, and if it arrived."""

    message_id: int
    agent_user_id: str
    body: str
    delivery: str  # pending, sent or failed
    error: str | None = None
    by_chat: bool = False
    emailed: bool = False  # a chat reply the visitor hadn't seen, sent on by email
    in_slack: bool = False  # posted in the Slack thread the ticket was made from


REPLY_STATUS_LINES = {
    "pending": ":hourglass_flowing_sand: Sending to the customer…",
    "sent": ":outbox_tray: Sent to the customer by <@{agent}>",
    "failed": ":warning: *Not delivered to the customer* (written by <@{agent}>): {error}",
}
CHAT_STATUS_LINES = {
    "chat": ":speech_balloon: Sent to the live chat by <@{agent}>",
    "emailed": ":speech_balloon: Sent to the live chat by <@{agent}>, and by email as the "
    "visitor had left",
}

SENT_IN_SLACK = ":speech_balloon: Sent to the customer in their Slack thread by <@{agent}>"


def _status_line(reply: AgentReply) -> str:
    if reply.in_slack and reply.delivery == "sent":
        return SENT_IN_SLACK
    if reply.by_chat and reply.delivery != "failed":
        return CHAT_STATUS_LINES["emailed" if reply.emailed else "chat"]
    return REPLY_STATUS_LINES[reply.delivery]


def agent_reply_text(reply: AgentReply) -> str:
    status = "Not delivered" if reply.delivery == "failed" else "Sent to the customer"
    return truncate(f"{status}: {escape_mrkdwn(reply.body)}", FALLBACK_TEXT_LIMIT)


def agent_reply_blocks(reply: AgentReply) -> list[dict]:
    status = _status_line(reply).format(
        agent=reply.agent_user_id, error=escape_mrkdwn(reply.error or "unknown error")
    )
    blocks = [context(status)]
    blocks += [section(chunk) for chunk in split_for_sections(escape_mrkdwn(reply.body))]
    if reply.delivery == "failed":
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("Retry sending", ids.REPLY_RETRY, str(reply.message_id), "primary")
                ],
            }
        )
    return blocks[:MESSAGE_BLOCK_LIMIT]
