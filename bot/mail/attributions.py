"""Which lines attribute a quote to earlier mail: a reply header ("On …, Ann wrote:"), an
Outlook header block ("From:/Sent:/To:/Subject:", with the "-----Original Message-----" or
"____" line over it), or a line ending in an address and a colon ("Zitat von Ann
<ann@x.org>:"). Each test looks at a few lines around an index, so callers stay linear.
"""

from __future__ import annotations

import re

from bot.mail.reply_headers import (
    ORIGINAL_MESSAGE,
    SEPARATOR,
    header_ending_at,
    header_starting_at,
    is_blank,
    is_outlook_block,
)

# An Outlook header block ("From:", "Sent:", "To:", "Cc:", "Subject:", wrapped recipients).
_MAX_HEADER_BLOCK_LINES = 12
# "Zitat von Ann <ann@x.org>:" (Horde), "Ann <ann@x.org> sent:": a line ending in a colon
# after an address, right over a quote, attributes it whatever its language.
_ATTRIBUTION_LINE = re.compile(r"@[^\s@]+\s*[:\uff1a]\s*$")


def next_content_is_quoted(lines: list[str], quoted: list[bool], index: int) -> bool:
    while index < len(lines) and is_blank(lines[index]):
        index += 1
    return index < len(lines) and quoted[index]


def header_block_end(lines: list[str], first: int) -> int:
    """The line after the header block at `first`: an "Original Message" line and the
    "From:/Sent:/To:/Subject:" lines under it, up to a blank or quoted line."""
    end = first + 1
    limit = min(len(lines), first + _MAX_HEADER_BLOCK_LINES)
    while end < limit and not is_blank(lines[end]) and not lines[end].lstrip().startswith(">"):
        end += 1
    return end


def _header_block_ending_at(lines: list[str], last: int) -> int | None:
    """The first line of an Outlook header block (or its "Original Message" line, or the
    "____" over it) that ends at `last`, if one does."""
    found = None
    index = last
    while index >= 0 and last - index < _MAX_HEADER_BLOCK_LINES and not is_blank(lines[index]):
        if ORIGINAL_MESSAGE.match(lines[index]) or is_outlook_block(lines, index):
            found = index
        index -= 1
    return None if found is None else with_separators_above(lines, found)


def attribution_end(lines: list[str], quoted: list[bool], first: int) -> int | None:
    """The line after the attribution of a quote that starts at lines[first]: a reply
    header, an "Original Message" or Outlook header block, or an "… <address>:" line;
    None when lines[first] starts none or no quote follows it."""
    if ORIGINAL_MESSAGE.match(lines[first]) or is_outlook_block(lines, first):
        end = header_block_end(lines, first)
    elif _ATTRIBUTION_LINE.search(lines[first]):
        end = first + 1
    else:
        end = header_starting_at(lines, first)
    return end if end is not None and next_content_is_quoted(lines, quoted, end) else None


def attribution_start(lines: list[str], last: int) -> int | None:
    """The first line of the attribution of a quote that ends at `last`, as above."""
    header = header_ending_at(lines, last)
    return header if header is not None else block_or_address_line_start(lines, last)


def block_or_address_line_start(lines: list[str], last: int) -> int | None:
    """The first line of an attribution other than a reply header that ends at `last`: an
    "… <address>:" line, or a header block with its "Original Message" or "____" line."""
    if _ATTRIBUTION_LINE.search(lines[last]):
        return last
    return _header_block_ending_at(lines, last)


def with_separators_above(lines: list[str], index: int) -> int:
    """Moves a cut above the "____" or "-----" line Outlook draws over the history."""
    above = index
    while above > 0 and is_blank(lines[above - 1]):
        above -= 1
    return above - 1 if above > 0 and SEPARATOR.match(lines[above - 1]) else index
