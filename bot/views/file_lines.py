"""The thread's lines about a customer's files: the upload's comment, and the refused files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.notices import TOO_LARGE
from bot.core.units import human_size
from bot.views.elements import context, section
from bot.views.text import (
    FALLBACK_TEXT_LIMIT,
    SECTION_LIMIT,
    escape_mrkdwn,
    shown_sender,
    truncate,
)

# Files listed by name; a mail with more refused files says how many others there were.
LISTED_LIMIT = 20
NAME_SHOWN_LIMIT = 80


@dataclass(frozen=True)
class RefusedFile:
    filename: str
    size: int
    reason: str


def upload_comment(sender_name: str, sender_email: str, count: int, part: int = 1) -> str:
    """The initial comment of an upload of the customer's files (Slack mrkdwn)."""
    who = shown_sender(sender_name, sender_email)
    files = "file" if count == 1 else "files"
    more = " (continued)" if part > 1 else ""
    return truncate(f":paperclip: {count} {files} from {who}{more}", FALLBACK_TEXT_LIMIT)


def refused_text(sender_name: str, sender_email: str, files: Sequence[RefusedFile]) -> str:
    lines = [_headline(sender_name, sender_email, files)]
    lines += [_line(file) for file in files[:LISTED_LIMIT]]
    if len(files) > LISTED_LIMIT:
        lines.append(_others(len(files) - LISTED_LIMIT))
    return truncate("\n".join(lines), FALLBACK_TEXT_LIMIT)


def refused_blocks(sender_name: str, sender_email: str, files: Sequence[RefusedFile]) -> list:
    listed = [_line(file) for file in files[:LISTED_LIMIT]]
    if len(files) > LISTED_LIMIT:
        listed.append(_others(len(files) - LISTED_LIMIT))
    return [
        context(_headline(sender_name, sender_email, files)),
        section(truncate("\n".join(listed), SECTION_LIMIT)),
    ]


def _headline(sender_name: str, sender_email: str, files: Sequence[RefusedFile]) -> str:
    who = shown_sender(sender_name, sender_email)
    count = "1 file" if len(files) == 1 else f"{len(files)} files"
    return f":no_entry_sign: {count} from {who} not shared in Slack:"


def _line(file: RefusedFile) -> str:
    # In a code span, so that "*" or "_" in a name can't format the line.
    name = escape_mrkdwn(truncate(file.filename, NAME_SHOWN_LIMIT).replace("`", "'"))
    return f"• `{name}` ({human_size(file.size)}): {escape_mrkdwn(refusal_words(file.reason))}"


def refusal_words(reason: str) -> str:
    """A recorded refusal in words: the size limit is recorded as a number of bytes."""
    kind, _, limit = reason.partition(":")
    if kind == TOO_LARGE and limit.isdigit():
        return f"larger than the {human_size(int(limit))} limit for attachments"
    return reason


def _others(count: int) -> str:
    return f"…and {count} more"
