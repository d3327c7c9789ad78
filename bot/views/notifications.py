"""Direct messages to agents."""

from __future__ import annotations

from bot.views.text import escape_mrkdwn, truncate


def assigned_text(number: int, subject: str, permalink: str | None, assigned_by: str) -> str:
    title = f"#{number} {escape_mrkdwn(truncate(subject, 150))}"
    link = f"<{permalink}|{title}>" if permalink else title
    return f"<@{assigned_by}> assigned you ticket {link}."
