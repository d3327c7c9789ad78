"""The readable bodies and the attachments of a message's MIME tree.

Which parts are "the body" follows the algorithm of RFC 8621 (JMAP) section 4.1.4, so the
helpdesk reads a message the way modern mail clients do: in multipart/alternative the
plain text is the text body and the HTML the HTML body; in multipart/mixed every inline
part counts, in order; a text part with a file name is an attachment unless it comes
first; attached messages (message/rfc822) are attachments, not body text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from bot.mail.binary import binary_kind, binary_note
from bot.mail.decoding import decode_bytes, decode_words, multiline, one_line
from bot.mail.headers import first_value
from bot.mail.html_text import html_to_text
from bot.mail.ids import message_id
from bot.mail.mime_tree import MAX_DEPTH

_PLAIN = "text/plain"
_HTML = "text/html"
_INLINE_MEDIA = ("image/", "audio/", "video/")
_NOT_A_BODY = (*_INLINE_MEDIA, "message/", "text/")


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str | None  # the base name only: paths in mail are an attack, never useful
    content_type: str
    size: int  # decoded bytes
    content_id: str | None
    inline: bool  # shown in the body (disposition inline, or a Content-ID to be referenced)


@dataclass
class Body:
    text: list[str] = field(default_factory=list)  # readable text, HTML parts converted
    html: list[str] = field(default_factory=list)  # HTML parts as sent
    attachments: list[AttachmentInfo] = field(default_factory=list)


def read_body(message: Message) -> Body:
    text_parts: list[Message] = []
    html_parts: list[Message] = []
    files: list[Message] = []
    _structure([message], "mixed", False, text_parts, html_parts, files, depth=0)
    decoded = _Decoded()
    text = [
        html_to_text(decoded(part)) if _type(part) == _HTML else decoded(part)
        for part in text_parts
        if _type(part) in (_PLAIN, _HTML)
    ]
    attachments = [_attachment(part, _type(part)) for part in files]
    if not text_parts:
        note = _binary_body_note(files, attachments)
        text = [note] if note else text
    return Body(
        text=text,
        html=[decoded(part) for part in html_parts if _type(part) == _HTML],
        attachments=attachments,
    )


def is_body_text(part: Message, content_type: str, index: int, multipart_type: str) -> bool:
    """RFC 8621's rule for a text leaf (body text, or a file?), and text inside: a binary
    file sent as `text/plain` is a file."""
    return (
        part.get_content_disposition() != "attachment"
        and content_type in (_PLAIN, _HTML)
        and (index == 0 or (multipart_type != "related" and not _filename(part)))
        and binary_kind(part) is None
    )


def _is_inline_media(part: Message, content_type: str, index: int, multipart_type: str) -> bool:
    return (
        part.get_content_disposition() != "attachment"
        and content_type.startswith(_INLINE_MEDIA)
        and (index == 0 or multipart_type != "related")
    )


def _structure(
    parts: list[Message],
    multipart_type: str,
    in_alternative: bool,
    text: list[Message] | None,
    html: list[Message] | None,
    files: list[Message],
    depth: int,
) -> None:
    """RFC 8621 parseStructure, except that every non-text leaf is listed as a file."""
    if depth > MAX_DEPTH:
        return
    text_length = len(text) if text is not None else -1
    html_length = len(html) if html is not None else -1
    for index, part in enumerate(parts):
        content_type = _type(part)
        if part.is_multipart() and not content_type.startswith("message/"):
            subtype = content_type.partition("/")[2]
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            alternative = in_alternative or subtype == "alternative"
            _structure(children, subtype, alternative, text, html, files, depth + 1)
            continue
        media = content_type.startswith(_INLINE_MEDIA)
        if media:
            inline = _is_inline_media(part, content_type, index, multipart_type)
        else:
            inline = is_body_text(part, content_type, index, multipart_type)
        if media or not inline:
            files.append(part)
        if not inline:
            continue
        if multipart_type == "alternative":
            if content_type == _PLAIN and text is not None:
                text.append(part)
            elif content_type == _HTML and html is not None:
                html.append(part)
            continue
        if in_alternative:
            html = None if content_type == _PLAIN else html
            text = None if content_type == _HTML else text
        if text is not None:
            text.append(part)
        if html is not None:
            html.append(part)
    if multipart_type == "alternative" and text is not None and html is not None:
        # An alternative that had only one kind of body gives it to both.
        if text_length == len(text) and html_length != len(html):
            text.extend(html[html_length:])
        if html_length == len(html) and text_length != len(text):
            html.extend(text[text_length:])


def _binary_body_note(files: list[Message], attachments: list[AttachmentInfo]) -> str | None:
    """A note for a message whose body is a file: a binary file sent as text, or one file
    (not a picture, not an attached message) as all the message is."""
    for part, info in zip(files, attachments, strict=True):
        if info.content_type in (_PLAIN, _HTML) and (kind := binary_kind(part)):
            return binary_note(kind, info.size)
    if len(files) == 1 and not attachments[0].content_type.startswith(_NOT_A_BODY):
        info = attachments[0]
        return binary_note(binary_kind(files[0]) or info.content_type, info.size)
    return None


def _type(part: Message) -> str:
    content_type = part.get_content_type()
    if content_type.startswith("multipart/") and not part.is_multipart():
        return _PLAIN  # a multipart without a usable boundary: its raw text is all there is
    return content_type


class _Decoded:
    """Decodes each part once, though a part can be both text and HTML body."""

    def __init__(self) -> None:
        self._done: dict[int, str] = {}

    def __call__(self, part: Message) -> str:
        key = id(part)
        if key not in self._done:
            self._done[key] = multiline(decode_bytes(_payload(part), _charset(part)))
        return self._done[key]


def _payload(part: Message) -> bytes:
    encoding = part.get("Content-Transfer-Encoding")
    if encoding is not None and str(encoding) != str(encoding).strip():
        # The stdlib compares the raw value, so "base64 " would not be decoded at all.
        part.replace_header("Content-Transfer-Encoding", str(encoding).strip())
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # uuencode and friends can fail on junk; the body is then lost anyway
        return b""
    return payload if isinstance(payload, bytes) else b""


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # RFC 2231 charset parameters with unknown charsets raise
        return None


def _attachment(part: Message, content_type: str) -> AttachmentInfo:
    disposition = part.get_content_disposition()
    content_id = message_id(first_value(part, "Content-ID"))
    return AttachmentInfo(
        filename=_filename(part),
        content_type=content_type,
        size=_size(part),
        content_id=content_id,
        inline=disposition == "inline" or (disposition is None and content_id is not None),
    )


def _filename(part: Message) -> str | None:
    try:
        filename = part.get_filename()
    except Exception:  # malformed RFC 2231 continuations
        return None
    if not filename:
        return None
    base_name = decode_words(str(filename)).replace("\\", "/").rpartition("/")[2]
    return one_line(base_name) or None


def _size(part: Message) -> int:
    if not part.is_multipart():
        return len(_payload(part))
    try:  # an attached message: its own bytes
        return sum(len(inner.as_bytes()) for inner in part.get_payload())
    except Exception:  # re-serialising a broken message can fail; the size is only a hint
        return 0
