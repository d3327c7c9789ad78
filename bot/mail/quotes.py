"""The new part of a reply: quoted history and signatures removed.

Two passes over the lines, both linear:

1. Top down, the first place where unquoted history starts cuts the text: a header block
   ("From:/Sent:/To:", or opened by "Date:"/"Sent:"/"Subject:"), an "-----Original
   Message-----" or forward separator, a helpdesk's "reply above this line" or GroupWise's
   ">>> ... >>>" marker, or an "On <date>, <name> wrote:" header followed by unquoted
   text. Whatever is below is the previous mail, not the reply. (bot/mail/reply_headers.py
   recognises these lines.)
2. Bottom up, as github/email_reply_parser does: trailing ">" quoted blocks (with the reply
   header above them), signatures and blank lines are peeled off until the first line the
   sender wrote. Quoted blocks between the sender's own paragraphs (inline replies) stay.
"""

from __future__ import annotations

from bot.mail.reply_headers import (
    GMAIL_WRAPPED_ADDRESS,
    MAX_HEADER_LENGTH,
    SEPARATOR,
    glued_header_start,
    glued_history_start,
    header_block_top,
    header_ending_at,
    header_head_above,
    header_starting_at,
    is_blank,
    is_groupwise_header,
    is_history_marker,
    is_outlook_block,
)
from bot.mail.signatures import signature_start

# Nobody writes a reply this long; what follows is history (or an attack on our time:
# a line costs a few microseconds at worst, so this bounds the work at about a second).
_MAX_LINES = 100_000
# Mail clients re-wrap long quoted lines and leave the tail without its ">"; such a tail
# sits between two quoted lines, right below a line as long as the wrap width.
_WRAP_WIDTH = 60
_MAX_WRAPPED_TAIL = 2
# "> a écrit :" is the longest tail of a reply header wrapped inside its address.
_MAX_WRAPPED_ADDRESS_TAIL = 40
# A reply header glued to a line of the reply may wrap onto the lines after it.
_GLUED_LOOKAHEAD = 4


def visible_reply(text: str) -> str:
    """What the sender wrote in this message, without quoted history or signature.

    When nothing would be left (a forward, or a mail that is all quote) the whole text is
    returned instead, stripped: an empty message helps nobody.
    """
    return strip_quoted_history(text) or "\n".join(_lines(text)).strip()


def strip_quoted_history(text: str) -> str:
    """The reply without history or signature; "" when the text holds nothing else."""
    lines = _lines(text)[:_MAX_LINES]
    lines = lines[: _history_start(lines)]
    quoted = _quoted_lines(lines)
    # Trailing spaces are invisible; format=flowed mail is full of them.
    return "\n".join(line.rstrip() for line in lines[: _reply_end(lines, quoted)]).strip()


def _lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _closes_wrapped_address(lines, line):
            lines[-1] = lines[-1].rstrip() + line.strip()
        else:
            lines.append(line)
    return lines


def _closes_wrapped_address(lines: list[str], line: str) -> bool:
    """Gmail wraps "...Ann <ann@x.org> wrote:" inside the address, leaving ">:" or
    "> wrote:" on a line of its own, which would pass for a quote."""
    if not lines or "@" not in lines[-1]:
        return False  # most lines: one look at the line above
    line = line.strip()
    return (
        line.startswith(">")
        and line.endswith((":", "\uff1a"))
        and len(line) <= _MAX_WRAPPED_ADDRESS_TAIL
        and GMAIL_WRAPPED_ADDRESS.search(lines[-1]) is not None
    )


def _quoted_lines(lines: list[str]) -> list[bool]:
    quoted = [line.lstrip().startswith(">") for line in lines]
    index = 0
    while index < len(lines):
        if quoted[index] or is_blank(lines[index]):
            index += 1
            continue
        tail_end = index
        while tail_end < len(lines) and not quoted[tail_end] and not is_blank(lines[tail_end]):
            tail_end += 1
        wrapped_tail = (
            index > 0
            and quoted[index - 1]
            and len(lines[index - 1].rstrip()) >= _WRAP_WIDTH
            and tail_end < len(lines)
            and quoted[tail_end]
            and tail_end - index <= _MAX_WRAPPED_TAIL
        )
        if wrapped_tail:
            quoted[index:tail_end] = [True] * (tail_end - index)
        index = tail_end
    return quoted


def _next_content_is_quoted(lines: list[str], index: int) -> bool:
    while index < len(lines) and is_blank(lines[index]):
        index += 1
    return index < len(lines) and lines[index].lstrip().startswith(">")


def _history_start(lines: list[str]) -> int:
    """Where unquoted history begins (len(lines) when it does not)."""
    for index, line in enumerate(lines):
        if is_blank(line) or len(line) > MAX_HEADER_LENGTH:
            continue
        if line.lstrip().startswith(">"):
            if line.lstrip().startswith(">>> ") and is_groupwise_header(line):
                return index
            continue
        if is_history_marker(line):
            return _with_separators_above(lines, index)
        if is_outlook_block(lines, index):
            return _with_separators_above(lines, header_block_top(lines, index))
        header_end = header_starting_at(lines, index)
        if header_end is not None and not _next_content_is_quoted(lines, header_end):
            return _history_from_header(lines, index)
        glued = glued_history_start(line)
        if glued is not None:
            lines[index] = line[:glued]  # the reply's part of the line, in this working copy
            return index + 1
    return len(lines)


def _history_from_header(lines: list[str], first: int) -> int:
    """Where history starts given a reply header whose first line is `first`.

    A header glued to the reply's last line ("thanks On Tue, ... wrote:") leaves that
    line's reply text in place: lines[first] is shortened to it, in this working copy.
    """
    following = lines[first + 1 : first + _GLUED_LOOKAHEAD]
    start = glued_header_start(lines[first], following)
    if start is None:
        return _with_separators_above(lines, header_head_above(lines, first))
    lines[first] = lines[first][:start]
    return first + 1


def _with_separators_above(lines: list[str], index: int) -> int:
    """Moves a cut above the "____" or "-----" line Outlook draws over the history."""
    above = index
    while above > 0 and is_blank(lines[above - 1]):
        above -= 1
    return above - 1 if above > 0 and SEPARATOR.match(lines[above - 1]) else index


def _reply_end(lines: list[str], quoted: list[bool]) -> int:
    end = len(lines)
    while True:
        while end > 0 and is_blank(lines[end - 1]):
            end -= 1
        if end == 0:
            return 0
        if quoted[end - 1]:
            while end > 0 and (quoted[end - 1] or is_blank(lines[end - 1])):
                end -= 1
            if end > 0 and (header := header_ending_at(lines, end - 1)) is not None:
                end = _history_from_header(lines, header)
            # A rule over the quote belongs to the history it introduces.
            end = _with_separators_above(lines, end)
            continue
        signature = signature_start(lines, quoted, end)
        if signature is None:
            return end
        end = signature
