"""A second opinion on text whose charset label lied.

Mailers declare one charset and send another: GB2312 or ISO-8859-1 declared over UTF-8,
UTF-8 declared over Windows-1252, Shift_JIS or KOI8-R sent under any label at all. Decoding
with the label then shows replacement characters or mojibake as the customer's text.

The common path stays cheap: `decode_bytes` only asks here when the bytes are not plain
ASCII, and the checks below are a regular expression and a count over a capped sample. Only
text that looks wrong by them goes to charset-normalizer, which reads a capped sample too
and is restricted to the charsets mail is written in; its candidates are taken only when
they look less wrong than what the label gave.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Bytes of a message's text read by the detector, and characters of text by the checks.
# Enough for a language model to settle (a few paragraphs), bounded for 20 MB bodies.
SAMPLE_BYTES = 16 * 1024
SAMPLE_CHARACTERS = 16 * 1024
# Below this many non-ASCII letters with case, their proportion of capitals says nothing.
_MIN_CASED = 8
_CANDIDATES_TRIED = 3

# What UTF-8 looks like when decoded as Windows-1252 or Latin-1 ("Ã©" for "é", "â€" opening
# a curly quote or a dash, "Ð¿" for "п"), replacement characters, and C1 controls, which no
# text means and Latin-1 decoding leaves.
_MOJIBAKE = re.compile("[ÂÃ][\u0080-\u00bf]|â€|[ÐÑ][\u0080-\u00bf]|[\u0080-\u009f\ufffd]")
# Letters with case in the scripts single-byte charsets carry (Latin, Greek, Cyrillic),
# as classes, so that counting them is the regular expression engine's work.
_SCRIPTS_WITH_CASE = [chr(code) for code in range(0x80, 0x530)]
_CAPITALS = re.escape("".join(c for c in _SCRIPTS_WITH_CASE if c.isupper()))
_SMALLS = re.escape("".join(c for c in _SCRIPTS_WITH_CASE if c.islower()))
_CAPITAL = re.compile(f"[{_CAPITALS}]")
_SMALL = re.compile(f"[{_SMALLS}]")
_INVERTED_CASE = re.compile(f"[a-z{_SMALLS}][{_CAPITALS}]")
_LATIN_SOUP = re.compile("[\u0080-\u02ff\u2010-\u20cf]{4,}")

# The charsets mail is written in. Without this the detector also weighs Mac and DOS code
# pages and UTF-16, and picks them for short Western texts. EUC-KR, not its superset cp949:
# Shift_JIS bytes decode as cp949's rarely used extension syllables and would win as Korean.
_MAIL_CHARSETS = [
    "utf_8", "cp1252", "iso8859_15", "cp1250", "iso8859_2", "cp1257", "cp1251", "koi8_r",
    "koi8_u", "iso8859_5", "cp866", "cp1253", "iso8859_7", "cp1254", "cp1255", "iso8859_8",
    "cp1256", "cp874", "cp1258", "gb18030", "big5", "cp932", "euc_jp", "iso2022_jp",
    "euc_kr",
]  # fmt: skip

logging.getLogger("charset_normalizer").setLevel(logging.ERROR)

# How many more texts may be checked, and how many handed to the detector, while one
# message is parsed (None: no limit set). A check costs up to a couple of milliseconds and
# a second opinion up to 20 ms: a message of thousands of short garbled parts would
# otherwise cost seconds more than the mail itself.
_LEFT: ContextVar[_Allowance | None] = ContextVar("second_opinions_left", default=None)


@dataclass
class _Allowance:
    checks: int
    detections: int


@contextmanager
def second_opinions_limited(checks: int, detections: int) -> Iterator[None]:
    """Within the block, at most `checks` texts are checked for garbling and `detections`
    of them handed to the detector; the others keep what their label (or UTF-8) gave."""
    token = _LEFT.set(_Allowance(checks, detections))
    try:
        yield
    finally:
        _LEFT.reset(token)


def wrongness(text: str) -> int:
    """How much `text` looks like a wrong decoding: 0 for text that reads as written.

    Counts, in a sample: replacement characters, C1 controls and UTF-8-as-Latin mojibake;
    runs of four or more accented Latin letters and Latin-1 symbols in a row ("ÚÁËÁÚ" is
    KOI8-R read as Latin-1, "¾È³çÇÏ¼¼¿ä" EUC-KR read as Windows-1252, "Êáëçóðÿñá" Greek),
    which European languages hardly ever write; and, when most non-ASCII letters are
    capitals, each capital that follows a small letter: Cyrillic read as the other Cyrillic
    charset comes out with its case inverted ("гДПЮБЯРБСИРЕ"), where text written in
    capitals has none.
    """
    sample = text[:SAMPLE_CHARACTERS]
    score = len(_MOJIBAKE.findall(sample)) + len(_LATIN_SOUP.findall(sample))
    capitals = len(_CAPITAL.findall(sample))
    cased = capitals + len(_SMALL.findall(sample))
    if cased >= _MIN_CASED and capitals * 3 > cased * 2:
        score += len(_INVERTED_CASE.findall(sample))
    return score


def undo_double_encoding(text: str, codec: str) -> str | None:
    """`text` before it was read as Latin-1 and encoded as UTF-8 again, when it looks garbled
    and the whole of it decodes back, in `codec`, to text that does not."""
    if not _may("checks") or not wrongness(text):
        return None
    for single_byte in ("cp1252", "latin-1"):
        try:
            repaired = text.encode(single_byte).decode(codec)
        except UnicodeError:
            continue
        if not wrongness(repaired):
            return repaired
    return None


def redecoded(data: bytes, text: str) -> str:
    """`text` (`data` decoded as labelled), or the detector's likeliest decoding that looks
    less wrong. The detector's order is trusted: its first improvement is taken."""
    if not _may("checks"):
        return text
    score = wrongness(text)
    if score == 0 or not _may("detections"):
        return text
    for codec in _detected(data):
        candidate = data.decode(codec, "replace")
        if wrongness(candidate) < score:
            return candidate
    return text


def _may(kind: str) -> bool:
    """Whether one more of `kind` ("checks", "detections") fits this message's allowance."""
    left = _LEFT.get()
    if left is None:
        return True
    remaining = getattr(left, kind) - 1
    setattr(left, kind, remaining)
    return remaining >= 0


def _detected(data: bytes) -> list[str]:
    """The detector's likeliest charsets for a sample of `data`, best first."""
    sample = data[:SAMPLE_BYTES]
    if len(data) > SAMPLE_BYTES:  # end on a line, not inside a multi-byte character
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    try:
        matches = from_bytes(sample, cp_isolation=_MAIL_CHARSETS)
    except Exception:  # a detector bug must not lose the text the label gave
        return []
    return [match.encoding for match in list(matches)[:_CANDIDATES_TRIED]]
