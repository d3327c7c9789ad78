"""The files that came with a message: their bytes, under names safe to store and to show.

Which parts are files is `bot.mail.body`'s decision (RFC 8621: every leaf that is not inline
body text, inline images included), so the files listed here are the ones
`ParsedEmail.attachments` describes, in the same order.

Decoding is bounded: a part whose decoded size may exceed `max_bytes` is first measured a
chunk at a time (its size and SHA-256, nothing held), and only decoded whole when it turns
out to fit. Archives are never opened.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from bot.mail.binary import binary_extension
from bot.mail.body import _INLINE_MEDIA, MAX_DEPTH, _filename, _payload, _type, is_body_text
from bot.mail.headers import first_value
from bot.mail.ids import message_id
from bot.mail.mime_tree import read_message

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # the policy's default `mail.max_attachment_bytes`
NAME_LIMIT = 150  # characters of a safe file name, extension included
EXTENSION_LIMIT = 20  # a longer "extension" is part of the name, not a type
_CHUNK = 1 << 20  # characters of encoded payload decoded at a time when measuring

# Removed from names: controls (Cc), formatting characters (Cf: the bidi overrides such as
# U+202E that make "gpj.exe" read as "exe.jpg", zero-width joiners), surrogates, private
# use, unassigned code points, and line or paragraph separators.
_REMOVED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Characters Windows refuses in file names; agents download these files.
_RESERVED = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
_BASE64_JUNK = bytes(
    c for c in range(256) if not (chr(c).isascii() and (chr(c).isalnum() or chr(c) in "+/="))
)


@dataclass(frozen=True)
class MailFile:
    filename: str  # safe: see `safe_filename`
    content_type: str
    inline: bool  # shown in the body (disposition inline, or a Content-ID to be referenced)
    content_id: str | None
    size: int  # decoded bytes
    sha256: str  # hex, of the decoded bytes
    data: bytes | None  # None when over the limit: measured, not kept in memory

    @property
    def extension(self) -> str:
        """The lower-case extension without its dot; "" when the name has none."""
        return extension_of(self.filename)


def extract(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[MailFile]:
    """Every attachment and inline part of the message, in order. Never raises.

    Parts larger than `max_bytes` come back with their size and hash but no data.
    """
    try:
        message = read_message(raw)
        leaves: list[Message] = []
        _files_of([message], "mixed", leaves, depth=0)
        return [_mail_file(part, number, max_bytes) for number, part in enumerate(leaves, 1)]
    except RecursionError:
        return []  # nesting deep enough to exhaust the parser: parse_email keeps the text
    except Exception:  # a bug here must not cost the customer's message, only its files
        log.exception("could not read the attachments of a message")
        return []


def safe_filename(name: str | None, number: int, content_type: str = "") -> str:
    """A name that is only a name: no directories, `..`, controls or bidi tricks.

    At most NAME_LIMIT characters, keeping the extension; `attachment-<number>.<ext>`
    (the extension guessed from `content_type`, else "bin") when nothing usable is left.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(c for c in text if unicodedata.category(c) not in _REMOVED_CATEGORIES)
    text = text.replace("\\", "/").rpartition("/")[2]
    text = _RESERVED.sub("_", _SPACES.sub(" ", text))
    # A leading dot hides a file, trailing dots and spaces vanish on Windows, and ".."
    # means the parent directory: none of them belongs in a name.
    text = _DOTS.sub(".", text).strip(" .")
    if not text:
        return f"attachment-{number}{_extension_for(content_type)}"
    if len(text) <= NAME_LIMIT:
        return text
    stem, dot, extension = text.rpartition(".")
    if not dot or not stem or len(extension) > EXTENSION_LIMIT:
        return text[:NAME_LIMIT].rstrip(" .")
    return stem[: NAME_LIMIT - len(extension) - 1].rstrip(" .") + "." + extension


def extension_of(filename: str) -> str:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem and len(extension) <= EXTENSION_LIMIT else ""


def _extension_for(content_type: str) -> str:
    guessed = mimetypes.guess_extension(content_type, strict=False) if content_type else None
    return guessed or ".bin"


def _files_of(parts: list[Message], multipart_type: str, found: list[Message], depth: int) -> None:
    """The leaves `bot.mail.body._structure` lists as attachments, in the same order."""
    if depth > MAX_DEPTH:
        return
    for index, part in enumerate(parts):
        content_type = _type(part)
        if part.is_multipart() and not content_type.startswith("message/"):
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            _files_of(children, content_type.partition("/")[2], found, depth + 1)
        elif content_type.startswith(_INLINE_MEDIA) or not is_body_text(
            part, content_type, index, multipart_type
        ):
            found.append(part)


def _mail_file(part: Message, number: int, max_bytes: int) -> MailFile:
    content_type = _type(part)
    content_id = message_id(first_value(part, "Content-ID"))
    disposition = part.get_content_disposition()
    data = _bounded_payload(part, max_bytes)
    if data is None:
        size, sha256 = _measure(part)
        if size <= max_bytes:  # whitespace or junk made the estimate too high
            data = _payload(part)
    else:
        size, sha256 = len(data), hashlib.sha256(data).hexdigest()
    return MailFile(
        filename=safe_filename(_name_of(part) or _unnamed(part, number), number, content_type),
        content_type=content_type,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
        content_id=content_id,
        size=size,
        sha256=sha256,
        data=data,
    )


def _unnamed(part: Message, number: int) -> str | None:
    """A name for an unnamed file whose type says nothing of it (sent as text, or as
    `application/octet-stream`), with the extension its first bytes tell."""
    vague = _type(part).startswith("text/") or _type(part) == "application/octet-stream"
    extension = binary_extension(part) if vague else None
    return f"attachment-{number}{extension}" if extension else None


def _name_of(part: Message) -> str | None:
    name = _filename(part)
    if name and "\ufffd" in name:
        # Raw 8-bit (UTF-8) bytes in the header reach compat32's parameter parser as
        # U+FFFD; the raw header value, decoded as body.py decodes headers, keeps them.
        probe = Message()
        for header in ("Content-Type", "Content-Disposition"):
            if (value := first_value(part, header)) is not None:
                probe[header] = value
        better = _filename(probe)
        if better and "\ufffd" not in better:
            return better
    return name


def _bounded_payload(part: Message, max_bytes: int) -> bytes | None:
    """The decoded bytes, when they cannot exceed `max_bytes`; None when they might."""
    if part.is_multipart():  # an attached message: its own bytes
        data = _message_bytes(part)
        return data if len(data) <= max_bytes else None
    payload = part.get_payload()
    encoded_length = len(payload) if isinstance(payload, str) else 0
    # Base64 decodes to three bytes per four characters; quoted-printable, uuencode and
    # the identity encodings never decode to more bytes than they have characters.
    if _encoding(part) == "base64":
        encoded_length = encoded_length * 3 // 4 + 3
    return _payload(part) if encoded_length <= max_bytes else None


def _message_bytes(part: Message) -> bytes:
    """An attached message's bytes; the parser reads it as a message even when encoded."""
    try:
        data = b"".join(inner.as_bytes() for inner in part.get_payload())
    except Exception:  # re-serialising a broken message can fail
        return b""
    encoding = _encoding(part)
    if encoding == "base64":
        return _base64(data.translate(None, _BASE64_JUNK))
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _encoding(part: Message) -> str:
    return str(part.get("Content-Transfer-Encoding", "")).strip().lower()


def _measure(part: Message) -> tuple[int, str]:
    """Size and SHA-256 of the decoded payload, decoded a chunk at a time."""
    if part.is_multipart():
        data = _message_bytes(part)
        return len(data), hashlib.sha256(data).hexdigest()
    digest, size = hashlib.sha256(), 0
    for piece in _decoded_chunks(part):
        digest.update(piece)
        size += len(piece)
    return size, digest.hexdigest()


def _decoded_chunks(part: Message) -> Iterator[bytes]:
    payload = part.get_payload()
    if not isinstance(payload, str):
        return
    encoding = _encoding(part)
    if encoding in ("x-uuencode", "uuencode", "uue", "x-uue"):
        yield _payload(part)  # legacy and line-oriented; not worth a streaming decoder
        return
    carry = b""
    for chunk in _raw_chunks(payload):
        if encoding == "base64":
            # Like the stdlib's lenient decoding: characters outside the alphabet are
            # skipped; complete four-character groups are decoded as they come.
            data = carry + chunk.translate(None, _BASE64_JUNK)
            whole = len(data) - len(data) % 4
            carry = data[whole:]
            yield _base64(data[:whole])
        elif encoding == "quoted-printable":
            yield binascii.a2b_qp(chunk)  # chunks end at line ends, never inside "=XX"
        else:
            yield chunk
    if carry:
        yield _base64(carry + b"=" * (-len(carry) % 4))


def _base64(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return b""


def _raw_chunks(payload: str) -> Iterator[bytes]:
    """The encoded payload as bytes, about _CHUNK characters at a time, cut at line ends."""
    start = 0
    while start < len(payload):
        end = payload.find("\n", start + _CHUNK)
        end = len(payload) if end == -1 else end + 1
        piece = payload[start:end]
        try:
            yield piece.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # as the stdlib does for text that never was bytes
            yield piece.encode("raw-unicode-escape")
        start = end
