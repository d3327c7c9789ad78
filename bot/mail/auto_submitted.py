"""Mail written by machines: auto-replies, bounces, bulk mail. Answering it starts loops.

Signals, all from RFC 3834 practice:

- `Auto-Submitted` with any value but "no".
- `Precedence: bulk`, `junk` or `auto_reply`. Not `Precedence: list`: Google Groups and
  Mailman stamp it on every message people send through them, and a support address is
  often such a group, so it would silence real customers.
- `X-Autoreply` or `X-Autorespond` present (unless "no"), as vacation programs set.
- A `multipart/report` body: delivery status notifications and read receipts.
- A From of MAILER-DAEMON@ or postmaster@, or a null Return-Path (`<>`), which only
  bounces and auto-responders use.

Not a signal: `X-Auto-Response-Suppress`. Exchange and Outlook put it on ordinary mail
(meeting requests, messages from many business systems); it asks *others* not to answer
automatically and says nothing about who wrote this message. List-Unsubscribe alone is
not one either: it marks newsletters, which are mail from people as far as loops go.

Mail through a list still opens a ticket, but gets no automatic answer (RFC 3834 section 2:
responders must not answer list mail): `mailing_list_reason` says why a mail came through
one.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import collapse_rfc2231_value

from bot.mail.decoding import one_line
from bot.mail.headers import Address, first_value

_BULK_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply"})
_AUTORESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond")
_NEGATIVE = frozenset({"no", "false", "0"})
_SYSTEM_SENDERS = frozenset({"mailer-daemon", "postmaster"})
_MAX_VALUE_SHOWN = 60
_LIST_PRECEDENCE = frozenset({"list", "bulk", "junk"})
_LIST_HEADERS = ("List-Id", "List-Unsubscribe")


def auto_submitted_reason(message: Message, senders: list[Address]) -> str | None:
    """Why this mail was written by a machine, e.g. "Auto-Submitted: auto-replied"; or None."""
    auto_submitted = _keyword(message, "Auto-Submitted")
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _keyword(message, "Precedence")
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _AUTORESPONDER_HEADERS:
        value = first_value(message, name)
        if value is not None and _keyword(message, name) not in _NEGATIVE:
            return f"{name}: {_shown(value)}"
    if message.get_content_type() == "multipart/report":
        report_type = collapse_rfc2231_value(message.get_param("report-type") or "")
        return f"multipart/report ({_shown(report_type)})" if report_type else "multipart/report"
    for sender in senders:
        local_part = sender.address.rpartition("@")[0] or sender.address
        if local_part.strip('"').lower() in _SYSTEM_SENDERS:
            return f"sent by {_shown(sender.address)}"
    return_path = first_value(message, "Return-Path")
    if return_path is not None and return_path.strip() == "<>":
        return "Return-Path: <> (null sender)"
    return None


def with_null_sender_marked(raw: bytes, envelope_sender: str | None) -> bytes:
    """The mail as a final delivery server leaves it (RFC 5321 section 4.4 has it record the
    envelope sender in Return-Path): only a null sender (`MAIL FROM:<>`, which only bounces and
    auto-responders use) is recorded, and only where no Return-Path came with the mail."""
    if envelope_sender not in ("", "<>"):
        return raw
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    if re.search(rb"(?im)^return-path[ \t]*:", head):
        return raw
    return b"Return-Path: <>\r\n" + raw


def mailing_list_reason(message: Message) -> str | None:
    """Why this mail came through a mailing list or a bulk sender, e.g. "List-Id: …"; or None."""
    precedence = _keyword(message, "Precedence")
    if precedence in _LIST_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        value = first_value(message, name)
        if value is not None:
            return f"{name}: {_shown(value)}"
    return None


def _keyword(message: Message, name: str) -> str:
    """A header's main value, lower-cased, without parameters or comments."""
    value = first_value(message, name) or ""
    return one_line(value.split(";", 1)[0].split("(", 1)[0]).lower()


def _shown(value: str) -> str:
    return one_line(value)[:_MAX_VALUE_SHOWN]
