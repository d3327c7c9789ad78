"""Raw email bytes in, everything the helpdesk needs out. Never raises.

The message is split with the standard library's parser under the compat32 policy, not
`policy.default`: the default policy's structured-header parser re-slices the header for
every token, so it is quadratic. Measured on this Python (3.11.7): a 64 KB Content-Type
took 67 s to parse, and 10,000 parts with 200-character headers took a minute, against a
tenth of a second for compat32. Headers are then decoded here (see `headers`), linearly.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

from bot.core import text as cleaning
from bot.mail import charsets
from bot.mail.auto_submitted import auto_submitted_reason, mailing_list_reason
from bot.mail.body import AttachmentInfo, Body, read_body
from bot.mail.decoding import decode_bytes, multiline
from bot.mail.dsn import Bounce, read_bounce
from bot.mail.headers import (
    Address,
    addresses,
    date,
    first_value,
    raw_values,
    text,
)
from bot.mail.html_text import blockquotes_are_history, html_to_text
from bot.mail.ids import message_id, message_ids
from bot.mail.mime_tree import read_message
from bot.mail.quotes import visible_reply
from bot.mail.sender import read_from
from bot.mail.subjects import is_forward_subject

__all__ = ["Address", "AttachmentInfo", "ParsedEmail", "parse_email"]

# Per message, texts checked for a lying charset and second opinions asked
# (bot/mail/charsets.py): enough for the body parts, the subject and the names of real
# mail; a message of thousands of garbled parts gets no more.
CHECKS_PER_MESSAGE = 50
DETECTIONS_PER_MESSAGE = 8


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str | None  # without angle brackets; None when missing or unparseable
    in_reply_to: list[str]  # ids without brackets
    references: list[str]  # ids without brackets, oldest first (root + newest 99 at most)
    subject: str  # decoded, on one line, no control characters; "" when absent
    sender: Address | None  # the first usable From address (bot/mail/sender.py)
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None  # timezone-aware
    text: str  # the whole text body; HTML-only mail converted; "" when there is none
    html: str | None  # the HTML body as sent (newlines normalised)
    visible_text: str  # `text` without quoted history and signature
    attachments: list[AttachmentInfo]
    auto_submitted_reason: str | None  # why a machine wrote this mail; None for people
    # Where the mail server delivered it (Delivered-To, X-Original-To): routes mail that
    # reached the support address through an alias or a group.
    delivered_to: list[Address] = field(default_factory=list)
    bounce: Bounce | None = None  # a delivery failure report, and what it is about
    # Every From mailbox, and why the sender is ambiguous (several, a group), if it is.
    from_mailboxes: list[Address] = field(default_factory=list)
    sender_ambiguous: str | None = None
    # Every Authentication-Results header, topmost (the receiving server's) first.
    authentication_results: list[str] = field(default_factory=list)
    # Why it came through a mailing list (List-Id, ...): a ticket, but never auto-answered.
    mailing_list: str | None = None


def parse_email(raw: bytes) -> ParsedEmail:
    """Parses any bytes at all: broken MIME degrades to what can be read, never to an error.

    All strings are valid Unicode without NUL or other control characters (bodies keep tab
    and newline), so they can be stored and posted as they are.
    """
    try:
        with charsets.second_opinions_limited(CHECKS_PER_MESSAGE, DETECTIONS_PER_MESSAGE):
            mail = _parse(raw)
    except Exception:  # a last line of defence: a bug here must not lose a customer's mail
        mail = _unreadable(raw)
    return _cleaned(mail)


def _parse(raw: bytes) -> ParsedEmail:
    try:
        message = read_message(raw)
        body = read_body(message)
    except RecursionError:
        # Multiparts nested ~1000 deep exhaust the parser's recursion. Keep the headers and
        # show the body as it came.
        message = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        body = Body(text=[multiline(decode_bytes(_raw_payload(message)))])
    html = _joined(body.html) if body.html else None
    full_text = _joined(body.text)
    if not full_text.strip():
        # Some mailers send an empty text/plain alternative next to the real HTML.
        full_text = html_to_text(html) if html else ""
    # HTML character references can spell out anything, "&#13;" included.
    full_text = multiline(full_text)
    from_field = read_from(raw_values(message, "From"))
    subject = text(message, "Subject")
    return ParsedEmail(
        message_id=message_id(first_value(message, "Message-ID")),
        in_reply_to=_ids(message, "In-Reply-To"),
        references=_ids(message, "References"),
        subject=subject,
        sender=from_field.sender,
        reply_to=addresses(message, "Reply-To"),
        to=addresses(message, "To"),
        cc=addresses(message, "Cc"),
        date=date(message),
        text=full_text,
        html=html,
        visible_text=visible_reply(
            full_text,
            forwarded=is_forward_subject(subject),
            quotes_are_history=blockquotes_are_history(html),
        ),
        attachments=body.attachments,
        auto_submitted_reason=auto_submitted_reason(message, from_field.mailboxes),
        delivered_to=addresses(message, "Delivered-To") + addresses(message, "X-Original-To"),
        bounce=_bounce_of(message),
        from_mailboxes=from_field.mailboxes,
        sender_ambiguous=from_field.ambiguous,
        authentication_results=raw_values(message, "Authentication-Results"),
        mailing_list=mailing_list_reason(message),
    )


def _bounce_of(message: Message) -> Bounce | None:
    try:
        return read_bounce(message)
    except Exception:  # a garbled report is still a mail to store, just not a bounce
        return None


def _ids(message: Message, name: str) -> list[str]:
    return message_ids(" ".join(raw_values(message, name)))


def _joined(parts: list[str]) -> str:
    """Body parts in order, each starting on a line of its own."""
    pieces: list[str] = []
    for part in parts:
        if pieces and not pieces[-1].endswith("\n"):
            pieces.append("\n")
        pieces.append(part)
    return "".join(pieces)


def _raw_payload(message: Message) -> bytes:
    payload = message.get_payload()
    return payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else b""


def _unreadable(raw: bytes) -> ParsedEmail:
    try:
        body = multiline(decode_bytes(bytes(raw)))
    except Exception:  # not even bytes: nothing to read
        body = ""
    return ParsedEmail(
        message_id=None,
        in_reply_to=[],
        references=[],
        subject="",
        sender=None,
        reply_to=[],
        to=[],
        cc=[],
        date=None,
        text=body,
        html=None,
        visible_text=visible_reply(body),
        attachments=[],
        auto_submitted_reason=None,
    )


def _cleaned(mail: ParsedEmail) -> ParsedEmail:
    """The edge's cleaning (bot/core/text.py), once, on the finished result: one-line fields,
    names without bidirectional controls, bodies without stray controls."""

    def mailbox(found: Address) -> Address:
        return Address(name=cleaning.name(found.name), address=cleaning.address(found.address))

    def mailboxes(found: list[Address]) -> list[Address]:
        return [mailbox(each) for each in found]

    return replace(
        mail,
        subject=cleaning.subject(mail.subject),
        sender=mailbox(mail.sender) if mail.sender else None,
        from_mailboxes=mailboxes(mail.from_mailboxes),
        reply_to=mailboxes(mail.reply_to),
        to=mailboxes(mail.to),
        cc=mailboxes(mail.cc),
        delivered_to=mailboxes(mail.delivered_to),
        text=cleaning.multi_line(mail.text),
        html=cleaning.multi_line(mail.html) if mail.html is not None else None,
        visible_text=cleaning.multi_line(mail.visible_text),
    )
