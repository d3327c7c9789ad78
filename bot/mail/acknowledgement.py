"""The automatic acknowledgement email: a reply in the customer's conversation, marked as an
automatic one (RFC 3834), and its promise of an answer in the customer's words."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from bot.mail.compose import OutboundReply, compose_reply

_NEAR_DAYS = {0: "today", 1: "tomorrow"}
_WEEK = 7


def compose_acknowledgement(reply: OutboundReply) -> EmailMessage:
    """Threaded exactly like an agent's reply; `auto-replied` tells other responders (and
    RFC 3834 ones: vacation programs) never to answer it."""
    mail = compose_reply(reply)
    mail.replace_header("Auto-Submitted", "auto-replied")
    return mail


def promise(due: datetime, zone: ZoneInfo, now: datetime) -> str:
    """When an answer is due, as the customer reads it in the team's zone: "today 15:00",
    "tomorrow 10:00", "Monday 10:00" within the week, else "Monday 14 December 10:00"; the
    zone's abbreviation follows, e.g. "(EST)", for customers elsewhere."""
    local = due.astimezone(zone)
    days = (local.date() - now.astimezone(zone).date()).days
    if days in _NEAR_DAYS:
        day = _NEAR_DAYS[days]
    elif 0 < days < _WEEK:
        day = f"{local:%A}"
    else:
        day = f"{local:%A} {local.day} {local:%B}"
    return f"{day} {local:%H:%M} ({local:%Z})"
