"""Direct messages to agents, rendered from the notice the core recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.notices import Notice
from bot.views.notices import Renderer, read, render
from bot.views.text import escape_mrkdwn, truncate


def ticket_link(number: int, subject: str, permalink: str | None) -> str:
    title = f"#{number} {escape_mrkdwn(truncate(subject, 150))}"
    return f"<{permalink}|{title}>" if permalink else title


def assigned_text(link: str, by: str, rule: str | None = None) -> str:
    if rule is not None:
        return f"Ticket {link} was assigned to you automatically by rule *{escape_mrkdwn(rule)}*."
    return f"<@{by}> assigned you ticket {link}."


def escalated_text(link: str, by: str, tier: str, reason: str) -> str:
    return truncate(f"<@{by}> escalated ticket {link} to *{tier}*: {escape_mrkdwn(reason)}", 3000)


def sla_warning_text(link: str, clock: str, target: str) -> str:
    return f"{clock} ({target}) on your ticket {link} is due soon."


def sla_breach_text(link: str, clock: str, target: str) -> str:
    return f"{clock} ({target}) on your ticket {link} was missed."


DIRECT: dict[str, Renderer] = {
    Notice.ASSIGNED: assigned_text,
    Notice.ESCALATED: escalated_text,
    Notice.SLA_WARNING: sla_warning_text,
    Notice.SLA_BREACH: sla_breach_text,
}


def direct_message_text(
    payload: Mapping[str, Any], number: int, subject: str, permalink: str | None
) -> str:
    """The DM a notice row asks for; its `user` is whom it goes to, not a fact to render."""
    kind, facts = read(payload)
    facts.pop("user")
    return render(DIRECT, kind, {**facts, "link": ticket_link(number, subject, permalink)})
