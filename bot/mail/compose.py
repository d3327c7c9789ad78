"""Outbound replies: one email per answer, threaded into the customer's conversation."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

# References grows by one id per message; mail servers cap header lines, so keep the ends.
MAX_REFERENCES = 20
_REPLY_PREFIX = re.compile(r"^\s*re\s*:", re.IGNORECASE)


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
    mail = EmailMessage()
    mail["From"] = formataddr((reply.support_name, reply.support_address))
    mail["To"] = formataddr((reply.customer_name, reply.customer_address))
    mail["Subject"] = reply_subject(reply.subject)
    mail["Date"] = format_datetime(reply.date)
    mail["Message-ID"] = f"<{reply.message_id}>"
    if reply.in_reply_to:
        mail["In-Reply-To"] = f"<{reply.in_reply_to}>"
    chain = list(dict.fromkeys([*reply.references, *filter(None, [reply.in_reply_to])]))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    if chain:
        mail["References"] = " ".join(f"<{ref}>" for ref in chain)
    # Tell vacation responders not to answer our replies (RFC 3834's convention, Outlook's).
    mail["Auto-Submitted"] = "no"
    mail["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    mail.set_content(reply.body)
    mail.add_alternative(_as_html(reply.body), subtype="html")
    for name, content_type, data in reply.attachments:
        main, _, sub = content_type.partition("/")
        if not sub or "/" in sub:
            main, sub = "application", "octet-stream"
        mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return mail


def _as_html(body: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    rendered = "".join(
        "<p>" + html.escape(p).replace("\n", "<br>\n") + "</p>\n" for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n{rendered}</body></html>\n'
    )
