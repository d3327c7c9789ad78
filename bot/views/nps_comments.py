"""The detractors' comments of a digest's day, posted in the digest's thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.views.digest import counted
from bot.views.text import quoted

# Enough of each comment to act on, and of the list to stay one readable message (Slack
# shows about 4,000 characters); the whole comment stays on the survey.
COMMENT_LIMIT = 300
SHOWN = 10


@dataclass(frozen=True)
class DetractorComment:
    score: int
    ticket_number: int
    comment: str


def detractor_comments_text(day: date, comments: list[DetractorComment]) -> str:
    shown = comments[:SHOWN]
    lines = [
        f":speech_balloon: NPS detractors' comments (scores 0 to 6) on {day:%A} {day.day} {day:%B}:"
    ]
    for comment in shown:
        lines.append(f"*{comment.score}/10* · ticket #{comment.ticket_number}")
        lines.append(quoted(comment.comment, COMMENT_LIMIT))
    if len(comments) > SHOWN:
        lines.append(f"and {counted(len(comments) - SHOWN, 'more comment')}")
    return "\n".join(lines)
