"""What replaces the helpdesk's Slack posts about a customer whose data was erased."""

from __future__ import annotations

from bot.views.elements import context

ERASED_TEXT = "[erased]"


def erased_text() -> str:
    return ERASED_TEXT


def erased_blocks() -> list[dict]:
    return [context(f"{ERASED_TEXT} _Removed at the customer's request._")]
