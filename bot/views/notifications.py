"""Direct messages to agents."""

from __future__ import annotations

from bot.views.text import escape_mrkdwn, truncate


def assigned_text(number: int, subject: str, permalink: str | None, assigned_by: str) -> str:
    title = f"#{number} {escape_mrkdwn(truncate(subject, 150))}"
    link = f"<{permalink}|{title}>" if permalink else title
    return f"<@{assigned_by}> assigned you ticket {link}."


def escalated_text(
    number: int, subject: str, permalink: str | None, escalated_by: str, tier: str, reason: str
) -> str:
    title = f"#{number} {escape_mrkdwn(truncate(subject, 150))}"
    link = f"<{permalink}|{title}>" if permalink else title
    return truncate(
        f"<@{escalated_by}> escalated ticket {link} to *{tier}*: {escape_mrkdwn(reason)}", 3000
    )


def direct_message_text(
    about: str, number: int, subject: str, permalink: str | None, details: dict
) -> str:
    if about in ("sla_warning", "sla_breach"):
        what = "is due soon" if about == "sla_warning" else "was missed"
        title = f"#{number} {escape_mrkdwn(truncate(subject, 150))}"
        link = f"<{permalink}|{title}>" if permalink else title
        return f"{details['clock']} ({details['target']}) on your ticket {link} {what}."
    if about == "escalated":
        return escalated_text(
            number, subject, permalink, details["by"], details["tier"], details["reason"]
        )
    return assigned_text(number, subject, permalink, details["by"])
