"""The links between a ticket and the Slack message it was made from, both ways."""

from __future__ import annotations

from bot.views.text import escape_mrkdwn


def origin_note(author: str, channel: str, permalink: str | None) -> str:
    """In the ticket's thread: where it came from (no link once the message is gone)."""
    message = f"<{permalink}|a message>" if permalink else "a message (no longer in Slack)"
    return f":link: Made from {message} by <@{author}> in <#{channel}>."


def origin_reply(number: int, subject: str, permalink: str | None, *, shared: bool) -> str:
    """Under the original message. In a Slack Connect channel the customer reads it, and
    can't open the team's thread: no link there."""
    if shared:
        return f":ticket: Thanks, this is ticket #{number}; we'll answer in this thread."
    name = f"ticket #{number}: {escape_mrkdwn(subject)}"
    return f":ticket: This is now {f'<{permalink}|{name}>' if permalink else name}."
