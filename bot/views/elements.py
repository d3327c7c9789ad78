"""Small Block Kit pieces shared by every surface."""

from __future__ import annotations

from bot.views.text import truncate


def plain(text: str, limit: int = 75) -> dict:
    return {"type": "plain_text", "text": truncate(text, limit)}


def option(label: str, value: str) -> dict:
    return {"text": plain(label), "value": value}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict:
    element = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}
