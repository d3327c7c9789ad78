"""Subjects as threading keys: reply/forward noise removed, ticket numbers found."""

from __future__ import annotations

import re

# Reply and forward abbreviations as mail clients write them in many languages.
_REPLY_WORDS = (
    "re", "res", "sv", "antw", "ref", "aw", "απ", "השב", "vá", "r", "rif", "bls", "odp",
    "ynt", "atb", "رد", "回复", "答复", "返信", "회신",
)  # fmt: skip
_FORWARD_WORDS = (
    "fwd", "fw", "rv", "enc", "vs", "doorst", "vl", "tr", "wg", "πρθ", "הועבר", "továbbítás",
    "i", "fs", "trs", "vb", "pd", "i̇lt", "yml", "إعادة توجيه", "回覆", "轉寄", "转发", "転送",
    "전달",
)  # fmt: skip


def _alternation(words: tuple[str, ...]) -> str:
    # Longest first, so that "res" is not read as "re" followed by junk.
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_COUNTER = r"(?:\s*\[[^\]]*\])?"  # "Re[2]:", "AW[50]:"
_COLON = r"\s*[:\uff1a]"
_PREFIX = re.compile(
    rf"\s*(?:{_alternation(_REPLY_WORDS + _FORWARD_WORDS)}){_COUNTER}{_COLON}", re.IGNORECASE
)
# "[Fwd: original subject]": the subject of a message forwarded by older clients.
_FORWARD_WRAPPER = re.compile(
    rf"\s*\[\s*(?:{_alternation(_FORWARD_WORDS)}){_COUNTER}{_COLON}(?P<inner>[^\[\]]*)\]",
    re.IGNORECASE,
)
_FORWARD_PREFIX = re.compile(
    rf"\s*(?:\[[^\[\]]*\]\s*)*(?:{_alternation(_FORWARD_WORDS)}){_COUNTER}{_COLON}", re.IGNORECASE
)
_TAG = re.compile(r"\s*\[[^\[\]]*\]")  # "[list-name]", "[#123]", "[10]"
_TRAILING_MARKERS = {word.lower() for word in _FORWARD_WORDS if len(word) > 1}
_TICKET_NUMBER = re.compile(r"\[#(\d{1,18})\]")


def normalize_subject(subject: str) -> str:
    """The subject a whole thread shares: "Re: [list] Fwd: Hello (fwd)" becomes "Hello".

    Leading reply/forward prefixes (with "[n]" counters), leading "[tags]" and trailing
    "(fwd)" markers go. Tags stay when nothing but tags is left, and "[Fwd: x]" wrappers
    yield x when nothing follows them. Linear time: positions advance, nothing is re-sliced.
    """
    text_end = len(subject.rstrip())
    position = 0
    wrapped: list[str] = []
    while True:
        if prefix := _PREFIX.match(subject, position):
            position = prefix.end()
        elif wrapper := _FORWARD_WRAPPER.match(subject, position):
            wrapped.append(wrapper["inner"])
            position = wrapper.end()
        else:
            tags_end = _end_of_tags(subject, position)
            # Tags go only when a subject follows them: "[hello world]" alone is the subject.
            if not position < tags_end < text_end:
                break
            position = tags_end
    result = _without_trailing_markers(subject[position:])
    while not result and wrapped:
        result = normalize_subject(wrapped.pop())
    return result


def _end_of_tags(subject: str, position: int) -> int:
    while tag := _TAG.match(subject, position):
        position = tag.end()
    return position


def _without_trailing_markers(text: str) -> str:
    end = len(text.rstrip())
    while end and text[end - 1] == ")":
        start = text.rfind("(", 0, end - 1)
        if start < 0 or text[start + 1 : end - 1].strip().lower() not in _TRAILING_MARKERS:
            break
        end = start
        while end and text[end - 1].isspace():
            end -= 1
    return text[:end].strip()


def ticket_number_in_subject(subject: str) -> int | None:
    """The n of the first "[#n]" in the subject, the tag our replies carry."""
    found = _TICKET_NUMBER.search(subject)
    return int(found.group(1)) if found else None


def is_forward_subject(subject: str) -> bool:
    """Whether the subject's first prefix is a forward's ("Fwd:", "WG:", "[list] TR:")."""
    return _FORWARD_PREFIX.match(subject) is not None
