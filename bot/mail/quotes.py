"""The new part of a message: quoted history and signatures removed, forwards kept.

Passes over the lines, each linear:

1. Top down, the first place where history starts ends what the customer wrote: a
   header block ("From:/Sent:/To:", or opened by "Date:"/"Sent:"/"Subject:"), an
   "-----Original Message-----" rule, a helpdesk's "reply above this line" or GroupWise's
   ">>> ... >>>" marker, an "On <date>, <name> wrote:" header followed by unquoted text
   (also wrapped, or glued to the end of the reply's last line, whose reply part stays),
   or the line a phone adds ("Sent from my iPhone"), below which everything is the
   previous mail (bot/mail/reply_headers.py recognises these lines). A forward separator
   there (or glued to the note's last line, or below the phone's line) starts a forwarded
   mail, which is kept and shown as forwarded (bot/mail/forwards.py); so is a message that
   is nothing but a pasted mail, and any history when the subject says the message is a
   forward.
2. Bottom up, as github/email_reply_parser does: trailing ">" quoted blocks (with the
   attribution above them: a reply header, an Outlook header block, "Ann <ann@x.org>:",
   and a rule drawn over them), signatures and blank lines are peeled off until the first
   line the sender wrote. A typed sign-off under a quote ("Thanks,\\nMaria" below the
   history of a top-posted reply) is kept, and the quote above it goes.
3. A quote at the top (with its attribution) with the answer below it and no quote after
   (bottom-posting) goes. Quoted blocks between the sender's own paragraphs (inline
   replies) stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.mail.attributions import (
    attribution_end,
    attribution_start,
    block_or_address_line_start,
    header_block_end,
    next_content_is_quoted,
    with_separators_above,
)
from bot.mail.forwards import FORWARD_SEPARATOR, forwarded_mail
from bot.mail.reply_headers import (
    GMAIL_WRAPPED_ADDRESS,
    MAX_HEADER_LENGTH,
    ORIGINAL_MESSAGE,
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
from bot.mail.signatures import is_device_sign_off, is_sign_off, signature_start

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
# Forwards of forwards are shown to this depth; each level reads only what is below it.
_MAX_FORWARD_DEPTH = 4
_SENTENCE_END = (".", "?", "!", ":", ";")


def visible_reply(text: str, *, forwarded: bool = False, quotes_are_history: bool = True) -> str:
    """What the sender wrote in this message, without quoted history or signature, with
    any mail they forwarded shown as forwarded.

    `forwarded`: the subject says the message is a forward ("Fwd:"), so the history below
    what the sender wrote is the forwarded mail. `quotes_are_history=False`: the ">" lines
    are quotes the sender made (an HTML blockquote nothing marks as a reply's history).
    When nothing would be left, a message that is only a pasted mail (its first line opens
    a header block) is shown as forwarded, and any other (a mail that is all quote) whole,
    stripped: an empty message helps nobody.
    """
    stripped = strip_quoted_history(
        text, forwarded=forwarded, quotes_are_history=quotes_are_history
    )
    return stripped or _pasted_mail(_lines(text)[:_MAX_LINES]) or "\n".join(_lines(text)).strip()


def strip_quoted_history(
    text: str, *, forwarded: bool = False, quotes_are_history: bool = True
) -> str:
    """The reply without history or signature; "" when the text holds nothing else."""
    lines = _lines(text)[:_MAX_LINES]
    return _new_text(lines, forwarded=forwarded, quotes_are_history=quotes_are_history, depth=0)


@dataclass(frozen=True)
class _History:
    reply_end: int  # where what the sender wrote ends
    forward: int | None = None  # where a forwarded mail starts, when one is shown


def _new_text(lines: list[str], *, forwarded: bool, quotes_are_history: bool, depth: int) -> str:
    marked = [line.lstrip().startswith(">") for line in lines]
    if not quotes_are_history:
        marked = _attributed_quotes(lines, marked)
    history = _history_start(lines, marked, forwarded=forwarded)
    end = history.reply_end
    # Re-wrapped quote lines matter only in what the sender wrote; history is cut anyway.
    quoted = _with_wrapped_tails(lines[:end], marked[:end])
    # A forwarded mail keeps its signature: what a shop's mail has under a dashed line (an
    # order table, its footer) is part of what the customer forwarded it for.
    reply = _reply(lines[:end], quoted, cut_signatures=depth == 0)
    if history.forward is None or depth >= _MAX_FORWARD_DEPTH:
        return reply

    def shown_body(body: list[str]) -> str:
        return _new_text(body, forwarded=False, quotes_are_history=True, depth=depth + 1)

    forward = forwarded_mail(lines, history.forward, shown_body)
    return "\n\n".join(part for part in (reply, forward) if part)


def _attributed_quotes(lines: list[str], marked: list[bool]) -> list[bool]:
    """Of the ">" lines, those of quotes with an attribution right above them (a reply
    header, an Outlook block): when quotes the sender made stay, these are still history."""
    attributed = [False] * len(lines)
    index = 0
    last_text = None  # the last unquoted, non-blank line above
    while index < len(lines):
        if not marked[index]:
            if not is_blank(lines[index]):
                last_text = index
            index += 1
            continue
        end = index
        while end < len(lines) and (marked[end] or is_blank(lines[end])):
            end += 1
        if last_text is not None and attribution_start(lines, last_text) is not None:
            attributed[index:end] = marked[index:end]
        index = end
    return attributed


def _pasted_mail(lines: list[str]) -> str:
    """A message that is nothing but a mail pasted with its header block (or with Outlook's
    "Original Message" line over it), shown as forwarded; "" for any other message."""
    first = 0
    while first < len(lines) and is_blank(lines[first]):
        first += 1
    if first == len(lines) or not (
        ORIGINAL_MESSAGE.match(lines[first]) or is_outlook_block(lines, first)
    ):
        return ""
    return _new_text(lines, forwarded=True, quotes_are_history=True, depth=0)


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


def _with_wrapped_tails(lines: list[str], marked: list[bool]) -> list[bool]:
    """Which lines belong to a ">" quote: the `marked` ones, and the unquoted pieces a
    client's re-wrapping broke out of a quote (a tail below a line as long as the wrap width,
    a link wrapped onto its own line or broken inside one) when the quote goes on below."""
    quoted = list(marked)
    index = 0
    while index < len(lines):
        if quoted[index] or is_blank(lines[index]):
            index += 1
            continue
        tail_end = index
        while tail_end < len(lines) and not quoted[tail_end] and not is_blank(lines[tail_end]):
            tail_end += 1
        inside_quote = (
            index > 0
            and quoted[index - 1]
            and tail_end < len(lines)
            and quoted[tail_end]
            and tail_end - index <= _MAX_WRAPPED_TAIL
        )
        if inside_quote and _breaks_quote(lines[index - 1], lines[index]):
            quoted[index:tail_end] = [True] * (tail_end - index)
        index = tail_end
    return quoted


def _breaks_quote(quoted_line: str, line: str) -> bool:
    """Whether `line`, under `quoted_line`, is a piece of the quote a client re-wrapped."""
    return (
        len(quoted_line.rstrip()) >= _WRAP_WIDTH
        or _is_link(line.split(maxsplit=1)[0])
        # "Click here<https://…" broken inside the link
        or quoted_line.rfind("<") > quoted_line.rfind(">")
    )


def _is_link(line: str) -> bool:
    stripped = line.strip().strip("<>")
    return stripped.startswith(("http://", "https://", "www.")) and " " not in stripped


def _history_start(lines: list[str], quoted: list[bool], *, forwarded: bool) -> _History:
    """Where what the sender wrote ends, and where a forwarded mail starts if one does.

    A reply header or header block glued to the end of a line of the reply shortens that
    line to the reply's part, in this working copy.
    """
    device_line = None  # below a phone's sign-off line, the next thing is history
    typed_above = False

    def reply_end(index: int) -> int:
        return with_separators_above(lines, index) if device_line is None else device_line

    index = 0
    while index < len(lines):
        line = lines[index]
        if is_blank(line) or len(line) > MAX_HEADER_LENGTH:
            index += 1
            continue
        if line.lstrip().startswith(">>> ") and is_groupwise_header(line):
            return _History(reply_end(index))
        if quoted[index]:
            index += 1
            continue
        if FORWARD_SEPARATOR.match(line):
            return _History(reply_end(index), forward=index)
        if device_line is None and is_device_sign_off(line):
            device_line = with_separators_above(lines, index)  # with a rule drawn over it
            index += 1
            continue
        if ORIGINAL_MESSAGE.match(line) or is_outlook_block(lines, index):
            block_end = header_block_end(lines, index)
            if not typed_above and next_content_is_quoted(lines, quoted, block_end):
                index = block_end  # the header of a quote at the top: a bottom-post's
                continue
            top = header_block_top(lines, index)
            forward = with_separators_above(lines, top) if forwarded else None
            return _History(reply_end(top), forward=forward)
        if is_history_marker(line):  # a helpdesk's "reply above this line"
            return _History(reply_end(index))
        header_end = header_starting_at(lines, index)
        if header_end is not None and not next_content_is_quoted(lines, quoted, header_end):
            return _History(
                _history_from_header(lines, index) if device_line is None else device_line
            )
        if device_line is not None:
            return _History(device_line)  # the previous mail, without a header over it
        glued = glued_history_start(line, lines[index + 1] if index + 1 < len(lines) else "")
        if glued is not None:
            lines[index] = line[:glued]  # the reply's part of the line
            # A forward's separator glued to the note ("See below---------- Forwarded
            # message ----------") still starts the forwarded mail under it.
            glued_forward = forwarded or FORWARD_SEPARATOR.match(line[glued:]) is not None
            return _History(index + 1, forward=index + 1 if glued_forward else None)
        typed_above = typed_above or not SEPARATOR.match(line)
        index += 1
    return _History(len(lines) if device_line is None else device_line)


def _history_from_header(lines: list[str], first: int) -> int:
    """Where history starts given a reply header whose first line is `first`: above a rule
    drawn over it, and above its head when a blank line split it after the date.

    A header glued to the reply's last line ("thanks On Tue, ... wrote:") leaves that
    line's reply text in place: lines[first] is shortened to it, in this working copy.
    """
    following = lines[first + 1 : first + _GLUED_LOOKAHEAD]
    start = glued_header_start(lines[first], following)
    if start is None:
        return with_separators_above(lines, header_head_above(lines, first))
    lines[first] = lines[first][:start]
    return first + 1


def _reply(lines: list[str], quoted: list[bool], *, cut_signatures: bool) -> str:
    end, sign_off = _reply_end(lines, quoted, cut_signatures=cut_signatures)
    begin = _bottom_post_start(lines, quoted, end)
    reply = "\n".join(line.rstrip() for line in lines[begin:end]).strip()
    # Trailing spaces are invisible; format=flowed mail is full of them.
    return "\n\n".join(part for part in (reply, sign_off) if part)


def _reply_end(lines: list[str], quoted: list[bool], *, cut_signatures: bool) -> tuple[int, str]:
    """Where the reply ends bottom up, and the typed sign-off found under its history."""
    end = len(lines)
    sign_off = ""
    looked_below_quote = False  # once: the sign-off is the last thing the sender typed
    history_peeled = False  # an attributed quote, a reply's history, was peeled off
    while True:
        while end > 0 and is_blank(lines[end - 1]):
            end -= 1
        if end == 0:
            return 0, sign_off
        if quoted[end - 1]:
            quote_end = end
            while end > 0 and (quoted[end - 1] or is_blank(lines[end - 1])):
                end -= 1
            attribution = _history_above(lines, end - 1) if end > 0 else None
            if attribution is None and history_peeled:
                # A quote nothing attributes, over the attributed history: the sender's own
                # (a product page, a policy), as their client sent it.
                return quote_end, sign_off
            history_peeled = history_peeled or attribution is not None
            # A rule over the quote belongs to the history it introduces.
            end = with_separators_above(lines, end if attribution is None else attribution)
            continue
        signature = signature_start(lines, quoted, end) if cut_signatures else None
        if signature is not None:
            end = signature
            continue
        below_quote = None if looked_below_quote else _sign_off_below_quote(lines, quoted, end)
        looked_below_quote = True
        if below_quote is None:
            return end, sign_off
        end, sign_off = below_quote


def _history_above(lines: list[str], last: int) -> int | None:
    """Where the history of a quote right below lines[last] starts: its attribution (a reply
    header, with the reply's text kept when it is glued to one, or a header block); None
    when nothing attributes the quote."""
    header = header_ending_at(lines, last)
    if header is None:
        return block_or_address_line_start(lines, last)
    return _history_from_header(lines, header)


def _sign_off_below_quote(lines: list[str], quoted: list[bool], end: int) -> tuple[int, str] | None:
    """When the unquoted lines that end at `end` follow a quote and are only a sign-off (or
    only the quote's re-wrapped last words): where the quote ends, so that it is peeled
    next, and the sign-off, to keep."""
    block = end
    while block > 0 and not quoted[block - 1]:
        block -= 1
    if block == 0 or not _last_of_a_reply_or_alone(lines, quoted, block):
        return None
    top_posted = _top_posted(lines, quoted, block)
    first = block
    while first < end and is_blank(lines[first]):
        first += 1
    if top_posted and _wraps_quote_line(lines, first):
        first += 1  # the last quoted line's tail, re-wrapped without its ">"
        if all(is_blank(line) for line in lines[first:end]):
            return block, ""
    if not is_sign_off(lines[first:end], top_posted=top_posted):
        return None
    sign_off = "\n".join(line.rstrip() for line in lines[first:end]).strip()
    return block, sign_off


def _last_of_a_reply_or_alone(lines: list[str], quoted: list[bool], quote_end: int) -> bool:
    """Whether the quote that ends at `quote_end` is a reply's attributed history, or the
    only quote: the last of several answered quotes (an inline reply) keeps its answer,
    "Thanks, blue!" under "> Which colour?", with it."""
    start = quote_end
    while start > 0 and (quoted[start - 1] or is_blank(lines[start - 1])):
        start -= 1
    if start > 0 and attribution_start(lines, start - 1) is not None:
        return True
    return not any(quoted[:start])


def _wraps_quote_line(lines: list[str], index: int) -> bool:
    """Whether lines[index] is the re-wrapped end of the quoted line right above it."""
    above = lines[index - 1].rstrip()
    line = lines[index].strip()
    return (
        above.lstrip().startswith(">")
        and len(above) >= _WRAP_WIDTH
        and not above.endswith(_SENTENCE_END)
        and line[:1].islower()
        and (index + 1 == len(lines) or is_blank(lines[index + 1]))
    )


def _top_posted(lines: list[str], quoted: list[bool], quote_end: int) -> bool:
    """Whether the quote that ends at `quote_end` is a reply's history under what the sender
    wrote: an attribution over it, and the sender's text over that."""
    start = quote_end
    while start > 0 and (quoted[start - 1] or is_blank(lines[start - 1])):
        start -= 1
    attribution = attribution_start(lines, start - 1) if start > 0 else None
    if attribution is None:
        return False
    return any(not quoted[index] and not is_blank(lines[index]) for index in range(attribution))


def _bottom_post_start(lines: list[str], quoted: list[bool], end: int) -> int:
    """Where the answer starts when the reply is a quote (with its header) and the answer
    below it; 0 when the quote is not at the top or another quote follows the answer."""
    index = 0
    while index < end and (is_blank(lines[index]) or SEPARATOR.match(lines[index])):
        index += 1
    if index == end:
        return 0
    if not quoted[index]:
        answer_side = attribution_end(lines, quoted, index)
        if answer_side is None:
            return 0
        index = answer_side
    while index < end and (quoted[index] or is_blank(lines[index])):
        index += 1
    if index == end or any(quoted[index:end]):
        return 0
    return index
