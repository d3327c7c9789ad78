"""Binary files mailed as the body: recognised from their first bytes, shown as a short note.

Outlook users drag a saved message (.msg, an OLE compound file) into the body, scanners
and scripts send a PDF as `text/plain`, and some mailers send a file as the only part of a
message. Decoded as text, that is a screen of garbage in the customer's thread; the bytes
are kept as an attachment and the body says what they were.

Only the start of a part is decoded to look at it, so a 20 MB part costs no more than a
small one, and `files.extract`'s bounded decoding stays bounded.
"""

from __future__ import annotations

import binascii
import re
from email.message import Message

from bot.core.units import human_size

HEAD_BYTES = 64 * 1024  # decoded bytes looked at; an .msg names its streams within them
_HEAD_CHARACTERS = HEAD_BYTES * 4 // 3 + 4  # encoded characters holding that many bytes
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OUTLOOK_STREAM = "__substg1.0_".encode("utf-16-le")  # the property streams of an .msg
_SIGNATURES = [
    (b"%PDF-", "PDF", ".pdf"),
    (b"PK\x03\x04", "ZIP archive", ".zip"),
    (b"\x89PNG\r\n\x1a\n", "PNG image", ".png"),
    (b"\xff\xd8\xff", "JPEG image", ".jpg"),
    (b"GIF87a", "GIF image", ".gif"),
    (b"GIF89a", "GIF image", ".gif"),
    (b"\x1f\x8b\x08", "gzip archive", ".gz"),
    (b"Rar!\x1a\x07", "RAR archive", ".rar"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive", ".7z"),
]
_OUTLOOK = "Outlook .msg"
_EXTENSIONS = {kind: extension for _, kind, extension in _SIGNATURES} | {_OUTLOOK: ".msg"}
# Bytes no text in an ASCII-compatible charset has (tab, line ends, form feed, and the
# shifts and ESC of ISO-2022 excepted). Above this share of a part's start, it is not text.
_NOT_TEXT = re.compile(rb"[\x00-\x08\x10-\x1a\x1c-\x1f]")
_NOT_TEXT_SHARE = 0.1
_MIN_BYTES = 32  # below this a few stray controls are noise, not a file
_WIDE_CHARSETS = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2")
_BASE64_JUNK = re.compile(rb"[^A-Za-z0-9+/]")


def binary_kind(part: Message) -> str | None:
    """What file the part holds ("Outlook .msg", "PDF", "binary file"), None for text."""
    head = _head(part)
    if head.startswith(_OLE):
        outlook = (
            _OUTLOOK_STREAM in head
            or part.get_content_type() == "application/vnd.ms-outlook"
            or _filename(part).lower().endswith(".msg")
        )
        return _OUTLOOK if outlook else "Office document"
    for signature, kind, _ in _SIGNATURES:
        if head.startswith(signature):
            return kind
    charset = str(part.get_param("charset", "") or "").lower()
    if len(head) < _MIN_BYTES or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if charset.startswith(_WIDE_CHARSETS):
        return None
    if len(_NOT_TEXT.findall(head)) > len(head) * _NOT_TEXT_SHARE:
        return "binary file"
    return None


def binary_extension(part: Message) -> str | None:
    """The extension of the binary file the part holds (".bin" when unknown), None for text:
    an unnamed .msg sent as `text/plain` is stored as `attachment-1.msg`, not `.txt`, and a
    PDF sent as `application/octet-stream` as `attachment-1.pdf`."""
    kind = binary_kind(part)
    return _EXTENSIONS.get(kind, ".bin") if kind else None


def binary_note(kind: str, size: int) -> str:
    """The line shown as the body in place of a binary file."""
    described = f"{kind}, {human_size(size)}"
    return f"[The message body was a binary file ({described}) and is kept as an attachment]"


def _filename(part: Message) -> str:
    try:
        return str(part.get_filename("") or "")
    except Exception:  # malformed RFC 2231 continuations
        return ""


def _head(part: Message) -> bytes:
    """The first HEAD_BYTES of the decoded payload, or about that, decoding no more of a
    base64 or quoted-printable payload (8-bit payloads are only re-encoded)."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        payload = part.get_payload()  # the stdlib decodes 8-bit text with its charset
        if not isinstance(payload, str):
            return b""
        if encoding == "base64":
            # Line breaks take room too: read on until enough alphabet is in hand.
            encoded = payload[: _HEAD_CHARACTERS * 2].encode("ascii", "replace")
            alphabet = _BASE64_JUNK.sub(b"", encoded)
            return binascii.a2b_base64(alphabet[: min(len(alphabet), _HEAD_CHARACTERS) // 4 * 4])
        if encoding == "quoted-printable":
            encoded = payload[:_HEAD_CHARACTERS].encode("ascii", "replace")
            return binascii.a2b_qp(encoded[: encoded.rfind(b"\n") + 1] or encoded)
        data = part.get_payload(decode=True)
    except Exception:  # junk the stdlib's decoders refuse: then it is no file we know
        return b""
    return data[:HEAD_BYTES] if isinstance(data, bytes) else b""
