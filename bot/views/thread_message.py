"""A customer's message as a reply in the ticket thread."""

from __future__ import annotations

from dataclasses import dataclass

from bot.views.text import (
    FALLBACK_TEXT_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    escape_mrkdwn,
    split_for_sections,
    truncate,
)

# Leaves room for the header and the truncation note.
BODY_BLOCK_LIMIT = MESSAGE_BLOCK_LIMIT - 3


@dataclass(frozen=True)
class CustomerMessage:
    author_name: str
    author_email: str
    body: str
    source: str


def customer_message_text(message: CustomerMessage) -> str:
    return truncate(escape_mrkdwn(message.body), FALLBACK_TEXT_LIMIT)


def customer_message_blocks(message: CustomerMessage) -> list[dict]:
    who = escape_mrkdwn(message.author_name or message.author_email)
    via = "email" if message.source == "email" else "live chat"
    chunks = split_for_sections(escape_mrkdwn(message.body))
    blocks: list[dict] = [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": truncate(f":incoming_envelope: *{who}* wrote by {via}", 3000),
                }
            ],
        }
    ]
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
