"""Text from outside (mail, chat, Slack) made safe to store and to show anywhere.

Applied once, where outside text becomes a domain value. PostgreSQL refuses NUL; a lone
surrogate can't be encoded as UTF-8, so it can be neither stored nor sent; a line break in
a one-line field is a header injection in an email (and the stdlib refuses to write it);
other control characters show as garbage; bidirectional overrides make a name read as
something it is not (`‮moc.evil` displays reversed).
"""

from __future__ import annotations

import re
import unicodedata

NAME_LIMIT = 200  # customers.name, messages.author_name, chat_conversations.visitor_name
SUBJECT_LIMIT = 2000  # twice what RFC 5322 allows on a line; views cut it further for show
ADDRESS_LIMIT = 320  # RFC 3696: 64 + "@" + 255
URL_LIMIT = 2000
USER_AGENT_LIMIT = 500

_SURROGATE = re.compile("[\ud800-\udfff]")
# Everything str.splitlines() splits on (the email package refuses all of it in a header),
# plus tab: in a one-line field each becomes a space.
_LINE_SEPARATORS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_SPACES = re.compile(f"[\t{_LINE_SEPARATORS}]")
_NEWLINES = re.compile(f"\r\n|[{_LINE_SEPARATORS}]")
# C0 and C1 controls and DEL; multi-line text keeps tab and newline.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE_RUN = re.compile(r"\s+")
# Embeddings, overrides (U+202A-U+202E) and isolates (U+2066-U+2069): they reorder what
# follows them, so a name could display as another name or address.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Left-to-right and right-to-left marks (and Arabic's letter mark) help names that mix
# scripts; in a name without right-to-left letters they can only be used to mislead.
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")
_PLAIN_ADDRESS = re.compile(r"[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+\.[A-Za-z0-9-]{2,}")


def unsurrogate(text: str) -> str:
    """Surrogate pairs joined into the character they encode; lone surrogates become U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def single_line(text: str, limit: int) -> str:
    """A one-line field (subject, URL, user agent): no control characters at all, line breaks
    and tabs become spaces, whitespace collapsed, at most `limit` characters."""
    text = _CONTROLS.sub("", _SPACES.sub(" ", unsurrogate(text)))
    return _WHITESPACE_RUN.sub(" ", text).strip()[:limit].rstrip()


def multi_line(text: str) -> str:
    """A body: `\\n` line ends, no control characters but tab and newline."""
    return _BODY_CONTROLS.sub("", _NEWLINES.sub("\n", unsurrogate(text)))


def name(text: str, limit: int = NAME_LIMIT) -> str:
    """A person's name: one line, with bidirectional controls neutralised."""
    text = _BIDI_CONTROLS.sub("", text)
    unmarked = _BIDI_MARKS.sub("", text)
    if not any(unicodedata.bidirectional(c) in ("R", "AL") for c in unmarked):
        text = unmarked  # (the right-to-left mark is itself of class R)
    return single_line(text, limit)


def subject(text: str) -> str:
    """A subject: one line; embeddings and overrides removed, as they would reorder the
    thread's title and what Slack shows after it."""
    return single_line(_BIDI_CONTROLS.sub("", text), SUBJECT_LIMIT)


def address(text: str) -> str:
    """An email address: one line, without bidirectional controls. Spaces are kept: a
    broken address stays recognisably broken rather than turning into someone else's."""
    return single_line(_BIDI_CONTROLS.sub("", text), ADDRESS_LIMIT)


def plain_address(typed: str) -> str | None:
    """The email address a person typed (jane@example.com, no name), lower-cased; None when
    it isn't one. Refused rather than cleaned: an address with control characters is not a
    typo."""
    value = typed.strip()
    if len(value) > 254 or not _PLAIN_ADDRESS.fullmatch(value) or address(value) != value:
        return None
    return value.lower()
