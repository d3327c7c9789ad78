"""Automatic acknowledgements of new email tickets (RFC 3834).

Decided in the intake's transaction, as the ticket opens: a new email ticket (not a chat, not
a follow-up of a closed ticket) whose inbox acknowledges (`Policy.acknowledgement_for`) gets
one outbox row, unless its mail came through a mailing list, or is old (dated over a day
before it came: an import, a backlog), or its sender was acknowledged within the policy's
`once_per`. Mail that is never answered at all never gets this far: the intake keeps bounces,
auto-replies and other machine-written mail (`bot/mail/auto_submitted.py`) and the helpdesk's
own mail from opening tickets.

The claim is one row per customer (the sender's address) in `acknowledgements`, written by one
upsert that only overwrites a claim older than the period: on PostgreSQL the row's lock makes a
second transaction claiming for the same sender wait and then find the fresh claim, so two
mails from one sender stored at once get one acknowledgement between them.

What it says is rendered when it is sent (`render`), from the ticket as it is then.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.config import ACKNOWLEDGEMENT_PLACEHOLDERS
from bot.core import outbox, placeholders
from bot.core.context import Desk
from bot.core.sla import FIRST_RESPONSE, clocks_of
from bot.core.tickets import record_event
from bot.mail.ids import new_message_id
from bot.storage.models import Acknowledgement, Message, Ticket

QUEUED = "acknowledgement_queued"
SKIPPED = "acknowledgement_skipped"
SENT = "acknowledgement_sent"
FAILED = "acknowledgement_failed"

# What a missing value reads as in an acknowledgement. Unlike a saved reply's, an unknown
# order's status is no words at all: the customer must never read a status we didn't look up.
FALLBACKS = {
    **{key: value for key, value in placeholders.FALLBACKS.items() if key.startswith("customer.")},
    "ticket.reply_by": "as soon as we can",
    "ticket.subject": "your message",
    "order.name": "your order",
}
# Mail written longer ago than this when it is stored is old mail (`helpdesk import-mail`, a
# mailbox's backlog): thanking its sender now for it would be news to nobody.
OLD_MAIL = timedelta(days=1)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")


def acknowledge(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    message: Message,
    *,
    mailing_list: str | None,
    now: datetime,
    written_at: datetime | None = None,
) -> bool:
    """Queues the acknowledgement of a new email ticket's first message, or records why not.
    `written_at`: the mail's Date, when it has one."""
    policy = desk.policy.acknowledgement_for(ticket.support_address)
    sender_domain = ticket.support_address or desk.support_address
    if policy is None or sender_domain is None:
        return False
    if mailing_list:
        return _skipped(session, ticket, f"mailing list ({mailing_list})")
    if written_at is not None and now - written_at > OLD_MAIL:
        written = written_at.astimezone(UTC)
        return _skipped(session, ticket, f"old mail, written {written:%Y-%m-%d %H:%M} UTC")
    if not _claimed(session, ticket, now - policy.once_per, now):
        return _skipped(session, ticket, "this sender was acknowledged recently")
    mail_id = new_message_id(sender_domain)
    outbox.send_acknowledgement(session, ticket.id, message.id, mail_id)
    record_event(session, ticket, QUEUED, "helpdesk", mail_id=mail_id)
    return True


def reply_by(session: Session, ticket: Ticket) -> datetime | None:
    """When the ticket's first answer is due (its running first-response clock, counted in
    business time from the opening with the target of its priority), or None without one."""
    clock = next((c for c in clocks_of(session, ticket.id) if c.kind == FIRST_RESPONSE), None)
    return clock.due_at if clock else None


def render(template: str, values: dict[str, str | None]) -> str:
    """The acknowledgement's text; a paragraph left empty (no order mentioned) disappears."""
    unknown = set(values) - set(ACKNOWLEDGEMENT_PLACEHOLDERS)
    if unknown:
        raise ValueError(f"not acknowledgement placeholders: {sorted(unknown)}")
    text = placeholders.render(template, values, FALLBACKS)
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def _claimed(session: Session, ticket: Ticket, older_than: datetime, now: datetime) -> bool:
    """Claims the sender's acknowledgement unless one was claimed after `older_than`."""
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    table = Acknowledgement.__table__
    claim = dialect.insert(table).values(
        customer_id=ticket.customer_id, ticket_id=ticket.id, acknowledged_at=now
    )
    claim = claim.on_conflict_do_update(
        index_elements=[table.c.customer_id],
        set_={"ticket_id": ticket.id, "acknowledged_at": now},
        where=table.c.acknowledged_at <= older_than,
    ).returning(table.c.customer_id)
    return session.execute(claim).first() is not None


def _skipped(session: Session, ticket: Ticket, reason: str) -> bool:
    record_event(session, ticket, SKIPPED, "helpdesk", reason=reason)
    return False
