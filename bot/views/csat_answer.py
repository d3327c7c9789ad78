"""A survey's answer as the agents see it in Slack: its thread message and the root's line."""

from __future__ import annotations

from bot.core.ratings import stars
from bot.views.text import escape_mrkdwn, quoted, truncate

# Keeps the thread readable; the whole comment stays on the survey.
NOTICE_COMMENT_LIMIT = 2000
ROOT_COMMENT_LIMIT = 150


def answer_notice(rating: int, comment: str | None) -> str:
    """The survey's one message in the thread: its current rating and comment.

    Changes update this message, so a customer trying every star posts nothing new.
    """
    text = f":star: The customer rated this ticket {stars(rating)} {rating}/5."
    if comment:
        text += f"\n:speech_balloon: Their comment:\n{quoted(comment, NOTICE_COMMENT_LIMIT)}"
    return text


def answer_line(rating: int, comment: str | None) -> str:
    """The root's CSAT line: the latest answer's rating and comment, on one line."""
    line = f"CSAT {stars(rating)} {rating}/5"
    if comment:
        line += f" · “{escape_mrkdwn(truncate(comment, ROOT_COMMENT_LIMIT))}”"
    return line.replace("\n", " ")
