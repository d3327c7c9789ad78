"""Outbound replies: one email per answer, threaded into the customer's conversation."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from bot.core import text

# References grows by one id per message; mail servers cap header lines, so keep the ends.
MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*re\s*:", re.IGNORECASE)
_HEADERS = policy.default.header_factory
_NOT_IN_ID = re.compile(r"[\s<>]")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class OutboundReply:
    support_address: str
    support_name: str
    customer_address: str
    customer_name: str
    subject: str
    body: str
    in_reply_to: str | None  # the customer's last Message-ID, without brackets
    references: list[str]  # the chain so far, oldest first, without brackets
    message_id: str  # without brackets
    date: datetime
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (file name, content type, bytes)


def reply_subject(subject: str) -> str:
    subject = subject.strip() or "Your message"
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


def compose_reply(reply: OutboundReply) -> EmailMessage:
    """Never raises on what the database holds: rows stored before text was cleaned at the
    edge may have line breaks in a name or subject, or unencodable characters anywhere."""
    mail = EmailMessage()
    mail["From"] = mailbox(reply.support_name, reply.support_address)
    mail["To"] = mailbox(reply.customer_name, reply.customer_address)
    mail["Subject"] = reply_subject(text.subject(reply.subject))
    mail["Date"] = format_datetime(reply.date)
    mail["Message-ID"] = f"<{_id(reply.message_id)}>"
    in_reply_to = _id(reply.in_reply_to or "")
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    ids = (_id(ref) for ref in [*reply.references, in_reply_to])
    chain = list(dict.fromkeys(filter(None, ids)))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    if chain:
        mail["References"] = " ".join(f"<{ref}>" for ref in chain)
    # Tell vacation responders not to answer our replies (RFC 3834's convention, Outlook's).
    mail["Auto-Submitted"] = "no"
    mail["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    body = text.multi_line(reply.body)
    mail.set_content(body)
    mail.add_alternative(_as_html(body), subtype="html")
    for name, content_type, data in reply.attachments:
        main, _, sub = text.single_line(content_type, 255).lower().partition("/")
        if not _TOKEN.fullmatch(main) or not _TOKEN.fullmatch(sub):
            main, sub = "application", "octet-stream"
        filename = text.name(name, 255) or "attachment"
        mail.add_attachment(data, maintype=main, subtype=sub, filename=filename)
    return mail


def mailbox(name: str, address: str) -> str:
    """`Name <address>` for a header, whatever the name and address hold."""
    name, address = text.name(name), text.address(address)
    if address.isascii():
        value = formataddr((name, address))
    else:
        # formataddr refuses an internationalised address (RFC 6532). smtplib sends it where
        # the mail server offers SMTPUTF8, and fails for good (the agent is told) where not.
        display = formataddr((name, "")).removesuffix(" <>") if name else ""
        value = f"{display} <{address}>" if display else address
    if address and _parses(value):
        return value
    # No address mail can go to: the mail server refuses the empty one, and the reply fails
    # visibly with its reason instead of raising here on every retry.
    return formataddr((text.name(f"{name} {address}") or "no address", ""))


def _parses(value: str) -> bool:
    try:
        _HEADERS("To", value)  # what assigning it to a header will do
    except Exception:  # the stdlib's parser raises IndexError and more on some broken ones
        return False
    return True


def _id(value: str) -> str:
    """A message id as it can stand between angle brackets on one header line."""
    return _NOT_IN_ID.sub("", text.single_line(value, 998))


def _as_html(body: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    rendered = "".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n{rendered}</body></html>\n'
    )
