"""Bytes and strings from mail made safe: every charset decodes, nothing unstorable survives.

Mail text ends up in PostgreSQL and Slack, which reject NUL and lone surrogates, so every
string leaving this package goes through `multiline` or `one_line`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import quopri
import re

from bot.mail import charsets

# Labels that mailers use but Python does not know, or knows as a narrower charset than
# the one the text is really in (GBK text labelled gb2312 is the rule, not the exception).
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "unicode-1-1-utf-7": "utf-7",
}
# Charsets whose label tells us little: 8-bit bytes under them are UTF-8 or, failing
# that, Windows-1252 (which is also what browsers do for latin-1 labels).
_GUESS_LABELS = {"ascii", "iso8859-1", "cp1252"}
_UTF8 = "utf-8"
# A valid multi-byte UTF-8 sequence: without one, bytes that are not UTF-8 are all legacy.
# Looked for in the first 64 KB: a 20 MB scan cost a fifth of the parse.
_MIXED_SAMPLE_BYTES = 64 * 1024
_MIXED_LINES_BYTES = 256 * 1024
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)

_SURROGATES = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_SPACE_CONTROLS = re.compile("[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLDING = re.compile(r"\r?\n(?=[ \t])")


def codec_for(charset: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when the label is no use."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    # bytes.decode only accepts text encodings; "base64" or "zlib" labels are nonsense here.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decodes with the declared charset unless the bytes show that the label lies.

    Without a useful label (none, unknown, ASCII or Latin-1) and under UTF-8, the bytes are
    UTF-8 where they are valid and Windows-1252 where they are not. Under a legacy label,
    bytes that are valid UTF-8 are UTF-8: Latin, Cyrillic or CJK text in a legacy charset
    is hardly ever valid UTF-8 by accident. Valid UTF-8 that reads as mojibake was text
    read as Latin-1 and encoded again, and is turned back when the whole of it turns back
    cleanly. Any other text that looks garbled gets a second opinion (`bot.mail.charsets`);
    plain ASCII never does.
    """
    if data.isascii():
        return _declared(data, codec_for(charset) or _UTF8)
    codec = codec_for(charset)
    utf8 = _utf8(data)
    if codec is None or codec in _GUESS_LABELS or codec == _UTF8:
        if utf8 is None:
            return charsets.redecoded(data, _windows_1252_where_not_utf8(data))
        return charsets.undo_double_encoding(utf8, _UTF8) or utf8
    if utf8 is not None and _ascii_compatible(codec):
        return charsets.undo_double_encoding(utf8, codec) or utf8
    return charsets.redecoded(data, _declared(data, codec))


def _declared(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec, "replace")
    except Exception:  # some codecs (idna, punycode…) refuse "replace" or fail in odd ways
        return data.decode(_UTF8, "replace")


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode(_UTF8)
    except UnicodeDecodeError:
        return None


def _windows_1252_where_not_utf8(data: bytes) -> str:
    """UTF-8 where a line is valid UTF-8, Windows-1252 where it is not.

    A UTF-8 reply quoting a Windows-1252 mail, or a stray byte in a signature, keeps the
    rest of the text. Whether there is UTF-8 at all is read from the start, where a reply's
    own text is, and so is the line-by-line reading: past its first 256 KB the text is
    one piece, UTF-8 if valid, else Windows-1252. A decoding error handler called per
    invalid byte took half a minute on 17 MB of KOI8-R, and 20 MB of two-byte lines 14 s
    line by line.
    """
    if not _UTF8_SEQUENCE.search(data, 0, _MIXED_SAMPLE_BYTES):
        return data.decode("cp1252", "replace")  # the usual case, decoded in one call
    end = data.find(b"\n", _MIXED_LINES_BYTES) + 1 or len(data)
    head = "".join(_line_as_utf8_or_windows_1252(line) for line in data[:end].splitlines(True))
    return head + _line_as_utf8_or_windows_1252(data[end:])


def _line_as_utf8_or_windows_1252(line: bytes) -> str:
    try:
        return line.decode(_UTF8)
    except UnicodeDecodeError:
        return line.decode("cp1252", "replace")


@functools.cache
def _ascii_compatible(codec: str) -> bool:
    """Whether ASCII text is the same bytes in this charset (not UTF-16, UTF-7, EBCDIC…)."""
    sample = "Az09 <>=+-\n"
    try:
        return sample.encode(codec) == sample.encode("ascii") and codec != "utf-7"
    except Exception:  # a codec that cannot even encode ASCII
        return False


def unsurrogate(value: str) -> str:
    """Turns the raw 8-bit header bytes the parser kept as surrogate escapes back into text."""
    if not _SURROGATES.search(value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that never were bytes
        return _SURROGATES.sub("\ufffd", value)
    return decode_bytes(raw)


def decode_words(value: str) -> str:
    """Decodes RFC 2047 encoded words in linear time.

    The stdlib decoders are quadratic on long headers (a 1 MB subject took 20 s), so this
    one walks the value once. Adjacent encoded words are joined before decoding because
    mailers split multi-byte characters across them.
    """
    value = _FOLDING.sub("", unsurrogate(value))
    pieces: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        adjacent = bool(pending) and (between == "" or between.isspace())
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        if pending and not (adjacent and charset.lower() == pending_charset.lower()):
            pieces.append(decode_bytes(b"".join(pending), pending_charset))
            pending = []
        if not adjacent:
            pieces.append(between)
        pending.append(_word_bytes(match.group(2), match.group(3)))
        pending_charset = charset
        position = match.end()
    if pending:
        pieces.append(decode_bytes(b"".join(pending), pending_charset))
    pieces.append(value[position:])
    return "".join(pieces)


def _word_bytes(encoding: str, text: str) -> bytes:
    data = text.encode("ascii", "replace")
    if encoding in "bB":
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return data
    return quopri.decodestring(data, header=True)


def multiline(text: str) -> str:
    """Body text: \\n line ends, no control characters but tab and newline."""
    return _UNSTORABLE.sub("", _LINE_BREAKS.sub("\n", text))


def one_line(text: str) -> str:
    """Header text: unfolded, line breaks and tabs become spaces, other controls dropped."""
    return _CONTROLS.sub("", _SPACE_CONTROLS.sub(" ", text)).strip()
