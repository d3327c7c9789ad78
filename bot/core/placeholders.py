"""`{{customer.first_name}}` and friends in saved replies, rendered when inserted."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)*)\s*\}\}")

# What a missing value reads as: words that still make a sentence, never raw braces.
FALLBACKS = {
    "customer.first_name": "there",
    "customer.name": "there",
    "agent.first_name": "the team",
    "ticket.number": "",
    "order.name": "your order",
    "order.status": "being processed",
    "order.tracking_url": "",
}


def render(
    template: str, values: dict[str, str | None], fallbacks: dict[str, str] = FALLBACKS
) -> str:
    def substitute(match: re.Match) -> str:
        key = match.group(1)
        value = values.get(key)
        if value:
            return value
        return fallbacks.get(key, "")

    return _PLACEHOLDER.sub(substitute, template)


def first_name(full_name: str) -> str:
    return full_name.strip().split(" ")[0] if full_name.strip() else ""
