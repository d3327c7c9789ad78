"""Delivery status notifications (RFC 3464): which message bounced, to whom, and why.

A DSN is `multipart/report; report-type=delivery-status` with a `message/delivery-status`
part (per-message fields, then one block per recipient) and usually the returned message
or its headers (`message/rfc822`, `text/rfc822-headers`), where its Message-ID is.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from bot.mail.decoding import decode_bytes, one_line
from bot.mail.headers import first_value
from bot.mail.ids import message_id

_MAX_REASON = 300


@dataclass(frozen=True)
class Bounce:
    original_message_id: str | None  # of the message that could not be delivered
    recipient: str | None
    status: str | None  # e.g. 5.1.1
    reason: str  # one line for a person: the diagnostic code, else the status


def read_bounce(message: Message) -> Bounce | None:
    """The failure a DSN reports, or None when this is no DSN or reports no failure."""
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    failed = None
    original = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status" and failed is None:
            failed = _failed_recipient(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    if failed is None:
        return None  # "delayed", "delivered", "relayed": nothing went wrong yet
    recipient, status, diagnostic = failed
    reason = diagnostic or (f"status {status}" if status else "the receiving server refused it")
    return Bounce(original, recipient, status, " ".join(one_line(reason).split())[:_MAX_REASON])


def _failed_recipient(part: Message) -> tuple[str | None, str | None, str | None] | None:
    for fields in _field_blocks(part)[1:]:  # the first block is about the message
        if (fields.get("Action") or "").strip().lower() != "failed":
            continue
        recipient = fields.get("Final-Recipient") or fields.get("Original-Recipient") or ""
        recipient = recipient.split(";", 1)[-1].strip().strip("<>") or None
        diagnostic = (fields.get("Diagnostic-Code") or "").split(";", 1)[-1].strip() or None
        return recipient, (fields.get("Status") or "").strip() or None, diagnostic
    return None


def _field_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Some mailers send the fields as one text blob: blank lines separate the blocks.
    text = decode_bytes(part.get_payload(decode=True) or b"")
    parser = HeaderParser()
    return [parser.parsestr(block) for block in text.replace("\r\n", "\n").split("\n\n")]


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        headers = payload[0]
    else:
        raw = part.get_payload(decode=True) or b""
        headers = HeaderParser().parsestr(decode_bytes(raw))
    return message_id(first_value(headers, "Message-ID"))
