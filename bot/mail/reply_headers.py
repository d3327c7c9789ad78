"""Recognising the lines where earlier mail begins: reply headers, header blocks,
"Original Message" rules, helpdesk and GroupWise markers, and history glued to the end of a
line of the reply. Each test looks at a few lines around an index, so callers stay linear
in the message size. The words themselves, per language, are in bot/mail/reply_words.py.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from itertools import pairwise
from typing import NamedTuple

from bot.mail.reply_words import (
    ABOVE_THIS_LINE,
    FROM_LABELS,
    ORIGINAL_MESSAGE_NAMES,
    OTHER_LABELS,
    SENT_OR_SUBJECT_LABELS,
    UNSPACED_WRITING_VERBS,
    WRITING_VERBS,
)

# A reply header ("On Tue, 1 Mar 2011, Ann <ann@x.org> wrote:") is at most a few lines long.
_MAX_HEADER_LINES = 4
MAX_HEADER_LENGTH = 500
# "Ann Smith wrote:" with neither address nor date is a header only above a quote, and short.
_MAX_BARE_HEADER = 100
_MAX_NAME_WORDS = 4
_VERBS = WRITING_VERBS.split("|")
# "… Ann <ann@x.org> sent:", "… ann@x.org sent:"
_ADDRESS_SENT = re.compile(r"(?:>|@[^\s<>()@]++)\)?\s*+sent\b", re.IGNORECASE)
# Looking a text's words up in sets is far cheaper than a regex trying ~60 verbs at every
# position of every line (about 40 µs for a line of 100 characters).
# Words end at punctuation and at invisible marks: bidi controls around Hebrew and Arabic
# names and addresses, and the zero-width spaces of Outlook's HTML.
_INVISIBLE = "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"
_INVISIBLE_CHARS = "".join(
    map(chr, [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])
)
_WORDS = re.compile(rf"[^\s.,;:!?()\[\]<>\"'*/\uff1a{_INVISIBLE}]++")
_ONE_WORD_VERBS = frozenset(verb for verb in _VERBS if " " not in verb)
_TWO_WORD_VERBS = frozenset(tuple(verb.split()) for verb in _VERBS if " " in verb)
_TWO_WORD_ENDS = frozenset(second for _, second in _TWO_WORD_VERBS)
_VERB_TAIL = 40  # characters: the longest verb and the punctuation after it


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _has_verb(text: str) -> bool:
    """Whether a verb of writing is in the text ("wrote", "a écrit", "写道", "<...> sent")."""
    words = _words(text)
    if not _ONE_WORD_VERBS.isdisjoint(words):
        return True
    if not _TWO_WORD_ENDS.isdisjoint(words) and not _TWO_WORD_VERBS.isdisjoint(pairwise(words)):
        return True
    return (
        any(verb in text for verb in UNSPACED_WRITING_VERBS)
        or _ADDRESS_SENT.search(text) is not None
    )


def _ends_with_verb(text: str) -> bool:
    """Whether the text ends with a verb of writing ("... Ann <ann@x.org> wrote")."""
    # "napisał(a)" and its Cyrillic twin: the verb with its feminine ending in brackets
    tail = text[-_VERB_TAIL:].rstrip().removesuffix("(a)").removesuffix("(\u0430)")
    if not tail or not (tail[-1].isalpha() or tail.endswith(")")):
        return False  # most lines end with punctuation: no need to split them into words
    words = _words(tail)
    return bool(words) and (words[-1] in _ONE_WORD_VERBS or tuple(words[-2:]) in _TWO_WORD_VERBS)


# Gmail's header without a verb: "2014-03-20 8:48 GMT+01:00 Ann <ann@x.org>:", a time
# somewhere before an address that ends the line.
_ENDS_WITH_ADDRESS = re.compile(r"@[^\s<>@]+>?\s*[:\uff1a]$")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}\b")
_DIGIT = re.compile(r"\d")
_COLONS = (":", "\uff1a")
_FRAMING = string.whitespace + "\xa0\u3000-" + _INVISIBLE_CHARS
# Old Gmail wrote only a numeric date and the sender: "2011/4/7 Ann <ann@x.org>".
_DATE_THEN_ADDRESS = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b[^<>@]*+<[^<>\s@]++@[^<>\s]++>\s*+[:\uff1a]?$"
)
# How multi-line reply headers begin: a word like "On"/"Le"/"Am", or a date.
_OPENER_WORDS = r"on|le|el|il|am|op|em|pe|på|den|dne|dňa|dnia|w dniu|vào|pada|στις|בתאריך"
HEADER_OPENER = re.compile(rf"^[-*\s{_INVISIBLE}]*+(?:(?:{_OPENER_WORDS})\b|\d|在)", re.IGNORECASE)
# A reply header glued to the end of the reply's last line ("thanks On Tue, ..."): it
# starts at a capitalised opener word after a space, a sentence's end or, where HTML lost
# the line break, a lower-case letter ("MariaOn Tue, ...").
_GLUED_WORD = r"(?:On|Le|El|Il|Am|Op|Em|Pe|På|Den|Dne|Dňa|Dnia|W dniu|Vào|Pada)\s"
_GLUED_WORD_OPENER = re.compile(rf"(?<=[\s.!?,;)]|[a-zà-ÿ]){_GLUED_WORD}")
# ... or a numeric date right after a sentence's end ("よろしくお願いします。2026年11月3日(火)
# ..."); after a space a date is the header's own ("uto, 3. stu 2026. u 10:14 ...").
_GLUED_OPENER = re.compile(
    rf"(?<=[\s.!?,;)]|[a-zà-ÿ]){_GLUED_WORD}|(?<=[.!?。\uff01\uff1f])\d{{4}}[-/.年년]"
)
_MAX_GLUED_TRIES = 3
# A line of a wrapped header that starts with a capitalised opener starts the header ("AM
# Northwind ..." after "at 10:14" and "am Di., 3. Nov." after "schrieb" do not).
_LINE_OPENER = re.compile(
    r"^\s*+(?:On|Le|El|Il|Am|Op|Em|Pe|På|Den|Dne|Dňa|Dnia|W dniu|Vào|Pada|Στις|בתאריך)\s|^\s*+在"
)
_STARTS_WITH_WORD_OPENER = re.compile(rf"^[-*\s]*+(?:{_OPENER_WORDS})\b", re.IGNORECASE)
# A line that starts like a header is one, whatever openers its middle holds ("On Tue,
# ... AM El Niño <el@x.org> wrote:").
_STARTS_AS_HEADER = re.compile(
    rf"^[-*\s]*+(?:(?:{_OPENER_WORDS})\b|\d{{1,4}}[-/.年년]\d|在)", re.IGNORECASE
)
# A header label: a word or two and a colon. Labels may be bold ("*From:*" in text made
# from HTML), French puts a space before the colon ("De :"), and a French webmail opens
# its block with "-------- Message du :". One pattern finds the label and a second
# names it, which keeps the test cheap on every line of a long mail. Possessive
# quantifiers (*+, ++) keep the engine from retrying every split of a run of spaces.
_LABEL = re.compile(
    rf"^[\s{_INVISIBLE}]*+(?:-{{2,}}+\s*+)?+(?:[*_]++\s*+)?+"
    r"(?:([^\W\d_][^:\uff1a*_\d]{0,24}?)\s*+(?:[*_]++\s*+)?+[:\uff1a]|(message du)\s++\d)",
    re.IGNORECASE,
)
_FROM_LABELS = re.compile(FROM_LABELS)
# When and what: the labels that make "From:" a header block rather than a note the
# customer typed ("From: Grandma / To: Lily / Message: ..." on a gift card).
_OTHER_LABEL_TEXT = f"{SENT_OR_SUBJECT_LABELS}|{OTHER_LABELS}"
_SENT_OR_SUBJECT_LABELS = re.compile(SENT_OR_SUBJECT_LABELS)
# A "From:" label glued to the end of a line of the reply ("Thanks, AnnaFrom: ...").
_GLUED_FROM_LABEL = re.compile(
    rf"(?<=[\s.!?,;)]|[a-zà-ÿ])({FROM_LABELS})\s?[:\uff1a]", re.IGNORECASE
)
_MIN_GLUED_BLOCK_COLONS = 3
_OTHER_LABELS = re.compile(_OTHER_LABEL_TEXT)
# A block run together on one line where HTML lost its line breaks ("From: Ann <ann@x.org>
# Sent: Tuesday ... To: Bob Subject: RE: ...").
_INLINE_LABEL = re.compile(rf"\s({_OTHER_LABEL_TEXT})\s?[:\uff1a]", re.IGNORECASE)
_MIN_INLINE_LABELS = 2


# The tests below look at each line from several starting points (a header is up to four
# lines, a header block six); a small cache makes that one look per line.
_LINE_CACHE = 8


@lru_cache(maxsize=_LINE_CACHE)
def _label(line: str) -> str | None:
    """The header label that starts the line, lower-cased ("from", "objet"), if any."""
    match = _LABEL.match(line)
    if match is None:
        return None
    # Orange's webmail writes "Message du 03/11/26 10:14" without a colon.
    return " ".join((match.group(1) or match.group(2)).lower().split())


def _is_from_label(line: str) -> bool:
    return _is_label(_label(line), _FROM_LABELS)


def _is_other_label(line: str) -> bool:
    return _is_label(_label(line), _OTHER_LABELS)


def _is_label(label: str | None, labels: re.Pattern[str]) -> bool:
    return label is not None and labels.fullmatch(label) is not None


_OUTLOOK_BLOCK_LINES = 6
_MIN_LABELS_BELOW = 2
_FROM_WITHIN = 3
_DASHES = "-_=*\u2010-\u2015\u2212"  # hyphens, en and em dashes, minus
_ORIGINAL_PHRASES = f"(?:{ORIGINAL_MESSAGE_NAMES})"
ORIGINAL_MESSAGE = re.compile(
    rf"^\s*+[{_DASHES}]{{2,}}+\s*+{_ORIGINAL_PHRASES}\s*[{_DASHES}]{{2,}}\s*$"
    r"|^\s*+(?:begin forwarded message|début du message réexpédié|"
    r"anfang der weitergeleiteten nachricht|inicio del mensaje reenviado)\s*[:\uff1a]\s*$",
    re.IGNORECASE,
)
# The same rule glued to the end of the reply's last line ("Cheers, Ben-----Original
# Message-----"), looked for in the line's tail only.
_GLUED_ORIGINAL = re.compile(
    rf"[{_DASHES}]{{2,}}+\s*+{_ORIGINAL_PHRASES}\s*[{_DASHES}]{{2,}}\s*$", re.IGNORECASE
)
_GLUED_TAIL = 80
# Helpdesks mark where the customer's answer must end: Zendesk's "##- Please type your
# reply above this line -##" in the customer's language, a bare "Reply above this line.",
# and others' "--- Reply above this line ---" (in any language when framed so).
_HELPDESK_MARKER = re.compile(
    r"^##+-.*-##+$"
    r"|^(?:please\s++)?+(?:type\s++|write\s++)?+(?:your\s++)?+(?:reply|respond|answer)"
    r"\w*+\s++(?:\w++\s++)?above\s++this\s++line\b",
    re.IGNORECASE,
)
_FRAME = "-=_#*\u2013\u2014 "
_MAX_FRAMED_MARKER = 80
_ABOVE_THIS_LINE = re.compile(
    ABOVE_THIS_LINE,
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^\s*+(?:-{3,}|_{3,}|={3,}|\*{3,})\s*$")
GMAIL_WRAPPED_ADDRESS = re.compile(r"<[^<>\s]+@[^<>\s]+$")


def is_blank(line: str) -> bool:
    return not line.strip()


def _is_reply_header(candidate: str, above_quote: bool = False) -> bool:
    """Whether the text is a reply header. Right above a quote, plainer forms count too:
    "Ann Smith wrote:", mutt's "* Ann <ann@x.org> [2026-11-03 10:14]:"."""
    if _is_framed_header(candidate):
        return len(candidate) <= MAX_HEADER_LENGTH
    candidate = _unframed(candidate)
    if len(candidate) > MAX_HEADER_LENGTH:
        return False
    if not candidate.endswith(_COLONS):
        # Without the colon only the plainest forms count: the verb ends the line after
        # an address and a date, or Gmail's "2011/4/7 Ann <ann@x.org>".
        if _ends_with_verb(candidate):
            # Above a quote, an opener word may stand in for the address ("On Tue, 3 Nov
            # 2026 09:14, Ann wrote").
            anchored = "@" in candidate or (
                above_quote and _STARTS_WITH_WORD_OPENER.match(candidate) is not None
            )
            return anchored and _DIGIT.search(candidate) is not None
        return _DATE_THEN_ADDRESS.match(candidate) is not None
    if ("@" in candidate or _DIGIT.search(candidate)) and _has_verb(candidate):
        return True
    if _DATE_THEN_ADDRESS.match(candidate):
        return True
    address = _ENDS_WITH_ADDRESS.search(candidate)
    if address and _TIME.search(candidate, 0, address.start()):
        return True
    return above_quote and len(candidate) <= _MAX_BARE_HEADER and _is_bare_header(candidate)


def _is_bare_header(candidate: str) -> bool:
    """ "Ann Smith wrote:" (a name of a few capitalised words, then the verb; "what you
    wrote:" is the customer's own sentence), or mutt's "* Ann <ann@x.org> [date time]:"."""
    if "@" in candidate:
        return _TIME.search(candidate) is not None
    text = candidate.rstrip(":\uff1a ")
    if not _ends_with_verb(text):
        return False
    words = text.split()
    name = words[: -2 if tuple(_words(" ".join(words[-2:]))) in _TWO_WORD_VERBS else -1]
    return 0 < len(name) <= _MAX_NAME_WORDS and all(not word[:1].islower() for word in name)


def _ends_header(line: str) -> bool:
    """Whether a reply header could end with this line: a colon, its verb of writing, or
    an old Gmail header's address."""
    if _is_framed_header(line):
        return True
    line = _unframed(line)
    return (
        line.endswith(_COLONS)
        or _ends_with_verb(line)
        or (line[:1].isdigit() and _DATE_THEN_ADDRESS.match(line) is not None)
    )


def _unframed(line: str) -> str:
    """The line without the dashes Lotus Notes and Android frame a header in
    ("-----Ann wrote: -----", "-------- Ann <ann@x.org> wrote --------") and the bidi
    marks Gmail closes a right-to-left header with (":\u202c")."""
    return line.strip(_FRAMING)


def _is_framed_header(line: str) -> bool:
    """A verb of writing framed by dashes on both sides is a header on its own, with an
    address or a date, or after a name alone ("---- Ann Smith wrote ----"): "---- As I
    wrote yesterday ----" is a banner the customer typed."""
    line = line.strip()
    if not (line.startswith("--") and line.endswith("--")) or len(line) > MAX_HEADER_LENGTH:
        return False
    inner = _unframed(line)
    if "@" in inner or _DIGIT.search(inner):
        return _has_verb(inner)
    return _is_bare_header(inner)


def _opens_header(lines: list[str], first: int) -> bool:
    """Whether a wrapped header can start at `first`.

    Strongly: an opener ("On", a date), the sender's address or the verb ("Ann <ann@x.org>
    schrieb am Montag, 2. November"), an opener glued to the reply ("thank you On Tue, Nov
    3, 2026 at 10:14 AM Ann <"), or a display name whose address the next line holds.
    Weakly, at a paragraph's start: a line with a digit that does not end a sentence ("wt.,
    3 lis 2026 o", Polish Gmail's weekday first).
    """
    line = lines[first]
    if HEADER_OPENER.match(line) or "@" in line or _has_verb(line):
        return True
    if _GLUED_WORD_OPENER.search(line):
        return True
    if line.rstrip().endswith(("<", "(")) or lines[first + 1].lstrip().startswith(("<", "(<")):
        return True
    return (
        (first == 0 or is_blank(lines[first - 1]))
        and _DIGIT.search(line) is not None
        and not line.rstrip().endswith((".", "!", "?"))
    )


class _Line(NamedTuple):
    """What the header tests ask of a line, worked out once per line."""

    ends_header: bool
    ends_with_colon: bool
    has_address_or_digit: bool
    blank_or_quoted: bool
    starts_with_opener: bool  # a capitalised opener word: the header starts here


@lru_cache(maxsize=_LINE_CACHE)
def _facts(line: str) -> _Line:
    stripped = line.strip()
    return _Line(
        ends_header=_ends_header(line),
        ends_with_colon=_ends_with_colon(line),
        has_address_or_digit="@" in line or _DIGIT.search(line) is not None,
        blank_or_quoted=not stripped or stripped.startswith(">"),
        starts_with_opener=_LINE_OPENER.match(line) is not None,
    )


def _ends_with_colon(line: str) -> bool:
    return _unframed(line).endswith(_COLONS)


def _header_lines(lines: list[str], first: int, last: int, above_quote: bool = False) -> bool:
    """Whether lines[first..last] (inclusive) are one reply header.

    Only its last line ends like a header (an earlier line may end with the verb: "... 10:14
    skrev" / "Ann <ann@x.org>:"); a wrapped header's first line opens one, and a later line
    that starts with an opener word starts it instead: without those rules "Thanks,\nOn
    ... wrote:" would swallow "Thanks,".
    """
    span = lines[first : last + 1]
    facts = [_facts(line) for line in span]
    if not facts[-1].ends_header or any(fact.blank_or_quoted for fact in facts):
        return False
    if any(fact.ends_with_colon for fact in facts[:-1]):
        return False
    if any(fact.starts_with_opener for fact in facts[1:]):
        return False
    # Only the bare form above a quote ("Ann wrote:") and a framed one ("---- Ann wrote
    # ----") have neither an address nor a digit.
    if not (above_quote or any(fact.has_address_or_digit for fact in facts)):
        return len(span) == 1 and _is_framed_header(span[0])
    # The opener test last: most spans fail the header test, and both search the text.
    return _is_reply_header(" ".join(line.strip() for line in span), above_quote) and (
        len(span) == 1 or _opens_header(lines, first)
    )


def header_starting_at(lines: list[str], first: int) -> int | None:
    """The index after a reply header that starts at `first`, if one does."""
    for last in range(first, min(first + _MAX_HEADER_LINES, len(lines))):
        facts = _facts(lines[last])
        if facts.ends_header and _header_lines(lines, first, last):
            return last + 1
        if facts.ends_with_colon:
            return None
    return None


def header_ending_at(lines: list[str], last: int) -> int | None:
    """The first line of a reply header that ends at `last`, right above a quote.

    The longest that begins with an opener word ("On Tuesday, ... at" over its wrapped
    "10:14 AM, ..." line, and "On ..." over a reply line "2 mugs, please." above it), else
    the longest ("Ann <ann@x.org> 于2026年11月3日周二" over its wrapped "10:14写道").
    """
    matches = []
    for first in range(last, max(last - _MAX_HEADER_LINES, -1), -1):
        if first < last and _facts(lines[first]).ends_with_colon:
            break
        if _header_lines(lines, first, last, above_quote=True):
            matches.append(first)
    words = [first for first in matches if _STARTS_WITH_WORD_OPENER.match(lines[first])]
    return (words or matches or [None])[-1]


def header_head_above(lines: list[str], first: int) -> int:
    """The header's real first line when a blank line split it after the date ("Am
    03.11.2026 um 10:14" / "" / "schrieb Ann <ann@x.org>:", as HTML mail turns into text);
    `first` otherwise."""
    head = first - 2
    if head < 0 or not is_blank(lines[first - 1]) or _STARTS_AS_HEADER.match(lines[first]):
        return first
    line = lines[head].strip()
    is_head = (
        len(line) <= _MAX_BARE_HEADER
        and _STARTS_WITH_WORD_OPENER.match(line) is not None
        and _TIME.search(line) is not None
        and not line.endswith((".", "!", "?", ":", "\uff1a"))
    )
    return head if is_head else first


def glued_header_start(line: str, following: list[str]) -> int | None:
    """Where, in the first line of a reply header, the header starts after reply text glued
    before it ("thanks On Tue, ... wrote:"); None when the line starts with the header.

    `following` are the lines after it, for a glued header that wraps. Called only where a
    header was found, so its tries cost nothing on the rest of the mail.
    """
    if line.lstrip().startswith(">") or _STARTS_AS_HEADER.match(line):
        return None
    tail_from = max(0, len(line) - MAX_HEADER_LENGTH)
    for tries, opener in enumerate(_GLUED_OPENER.finditer(line, tail_from)):
        if tries == _MAX_GLUED_TRIES:
            break
        start, reply = opener.start(), line[: opener.start()]
        # Text holding the sender's address, the verb or a time is the header's own
        # beginning ("Ann <ann@x.org> 於 2026年11月3日 ...", "uto, 3. stu 2026. u 10:14 Le
        # Minh <le@x.org> napisao je:").
        if not reply.strip() or "@" in reply or _TIME.search(reply) or _has_verb(reply):
            return None
        if header_starting_at([line[start:], *following], 0):
            return start
    return None


def is_outlook_block(lines: list[str], first: int) -> bool:
    """Whether a block of mail headers ("From:", "Sent:", "To:", ...) starts at `first`.

    Outlook opens it with "From:"; Hotmail with "Date:" or "Subject:", GMX with "Sent:",
    a French webmail with "-------- Message du :". Not opened by "From:", it must open a
    paragraph and have two more header lines, one a "From:" (a customer may type "Date:"
    and "Subject:").
    """
    label = _label(lines[first])
    if label is None:
        return False
    window = lines[first + 1 : first + _OUTLOOK_BLOCK_LINES]
    opens_paragraph = first == 0 or is_blank(lines[first - 1]) or SEPARATOR.match(lines[first - 1])
    if _is_label(label, _FROM_LABELS):
        # With the sender's address, any other label makes it a block; without, one that
        # says when or what: "From: Grandma / To: Lily" is a gift note.
        confirms = _OTHER_LABELS if "@" in lines[first] else _SENT_OR_SUBJECT_LABELS
        if any(_is_label(_label(line), confirms) for line in window):
            return True
        if _holds_block(lines[first]):
            return True
        # A lone "From: Ann <ann@x.org>" counts when it opens a paragraph.
        return bool(opens_paragraph and "@" in lines[first])
    if not opens_paragraph or not _is_label(label, _OTHER_LABELS):
        return False
    has_from, labels = False, 0
    for offset, line in enumerate(window):
        label = _label(line)
        if label is None:
            if is_blank(line):
                break
            continue  # a wrapped "To:" list's next line
        labels += 1
        # Every client puts "From:" within three lines of the block's top.
        has_from = has_from or (offset < _FROM_WITHIN and _is_label(label, _FROM_LABELS))
        if has_from and labels >= _MIN_LABELS_BELOW:
            return True
    return False


def _holds_block(line: str) -> bool:
    found = 0
    for label in _INLINE_LABEL.finditer(line):
        # Capitalised as clients write them: "to: my home, subject: ..." is a sentence.
        found += not label[1][0].islower()
        if found == _MIN_INLINE_LABELS:
            return True
    return False


def glued_history_start(line: str, next_line: str = "") -> int | None:
    """Where earlier mail glued to the end of a line of the reply starts in it: an
    "Original Message" rule ("Cheers, Ben-----Original Message-----"), a header block run
    into the line ("Thanks, AnnaFrom: Ann <ann@x.org> Sent: ... To: ... Subject: ..."), or
    a block's From: line glued to the reply, its other labels on the lines below ("Kate
    From: Ann <ann@x.org>" over "Sent: ...")."""
    stripped = line.rstrip()
    if stripped.endswith(("--", "__", "==", "**", "\u2014\u2014")):
        tail_from = max(0, len(stripped) - _GLUED_TAIL)
        rule = _GLUED_ORIGINAL.search(stripped, tail_from)
        if rule is not None and stripped[: rule.start()].strip():
            return rule.start()
    if "@" not in line:
        return None
    one_line_block = line.count(":") >= _MIN_GLUED_BLOCK_COLONS
    block_below = _is_other_label(next_line)
    if not (one_line_block or block_below):
        return None
    for label in _GLUED_FROM_LABEL.finditer(line):
        start = label.start()
        if label[1][0].islower() or not line[:start].strip():
            continue
        rest = line[start:]
        if (one_line_block and _holds_block(rest)) or (block_below and "@" in rest):
            return start
    return None


def header_block_top(lines: list[str], first: int) -> int:
    """The first line of a header block found at `first`: header lines right above it
    belong to it ("Thanks" / "Date: ..." / "From: ..." leaves "Thanks")."""
    top = first
    while top > max(0, first - _FROM_WITHIN) and _is_other_label(lines[top - 1]):
        top -= 1
    return top


def is_history_marker(line: str) -> bool:
    """A line below which everything is earlier mail, whatever follows it (callers test
    quoted lines with `is_groupwise_header`)."""
    line = line.strip()
    return bool(
        ORIGINAL_MESSAGE.match(line) or _HELPDESK_MARKER.match(line) or _is_framed_marker(line)
    )


def _is_framed_marker(line: str) -> bool:
    """ "---- Please reply above this line ----": a short text framed by dashes or stars."""
    text = line.lstrip(_FRAME)
    return (
        len(line) - len(text) >= 2
        and len(text) <= _MAX_FRAMED_MARKER
        and _ABOVE_THIS_LINE.search(text) is not None
    )


def is_groupwise_header(line: str) -> bool:
    """GroupWise's ">>> Ann <ann@x.org> 11/3/2026 10:14 AM >>>" over the unquoted original."""
    line = line.strip()
    return (
        len(line) <= MAX_HEADER_LENGTH
        and line.startswith(">>> ")
        and line.endswith(" >>>")
        and _TIME.search(line) is not None
    )
