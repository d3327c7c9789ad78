"""Erasing a customer's personal data (`helpdesk customer erase`).

Erasure replaces what identifies the customer or quotes them with `PLACEHOLDER`, in the
database and on disk, and records outbox rows that replace the helpdesk's Slack posts about
them. What the metrics are made of stays: the rows themselves, counts, timestamps, measured
durations, status, priority, tags, ratings and attachment sizes. It runs in the caller's
transaction; attachment files go last, after the rows no longer name them, so a transaction
that then fails leaves the rows to a second run, which finds nothing left to delete on disk.
Running it again on an erased customer (by their stand-in address) changes nothing and
enqueues nothing.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.attachments import FileStore
from bot.core.chat import token_hash
from bot.core.customer_data import attachments_of, messages_of, rows_of, tickets_of
from bot.core.merging import MERGE_EVENTS
from bot.core.self_service import forget_proofs_of
from bot.core.thread_moves import channel_at
from bot.core.ticket_moves import MERGE
from bot.core.tickets import record_event
from bot.core.visitors import erased_address, is_reachable
from bot.storage.models import (
    Attachment,
    ChatConversation,
    CsatSurvey,
    Customer,
    Direction,
    Escalation,
    Message,
    NpsSurvey,
    OutboxItem,
    OutboxStatus,
    Ticket,
    TicketEvent,
    TicketMove,
    TicketOrigin,
)

log = logging.getLogger(__name__)

PLACEHOLDER = "[erased]"
ERASED_EVENT = "customer_erased"
# Event details that quote the customer's mail or describe them (the rest are ids, states,
# tiers); any other detail naming their address or name is erased too.
PERSONAL_EVENT_KEYS = frozenset({"subject", "reason"})
# Outbox payload and result keys holding text shown to agents or sent to the customer.
PERSONAL_OUTBOX_KEYS = frozenset(
    {"text", "reason", "failed", "shopify_id", "sender", "subject", "order", "orders"}
)
# Sent rows that posted a message of their own about the ticket, and where it went.
STANDALONE_POSTS = frozenset(
    {
        outbox.THREAD_NOTICE,
        outbox.CHANNEL_NOTICE,
        outbox.SLACK_REANNOUNCE_ESCALATION,
        outbox.SHOPIFY_CONTEXT,
        outbox.DIRECT_MESSAGE,
        outbox.SLACK_ATTACHMENTS,
        outbox.SLACK_ORIGIN_REPLY,  # names the subject, under the customer's Slack message
        outbox.SLACK_THREAD_REPLY,  # an answer posted in the customer's Slack thread
    }
)
# Mail still waiting to go to the customer: it would now carry only placeholders.
CUSTOMER_MAIL = frozenset({outbox.EMAIL_SEND, outbox.EMAIL_SURVEY})
NOT_SENT = "not sent: the customer's data was erased"


@dataclass
class Erasure:
    """What an erasure changed (or would change): counts only, never the data itself."""

    customers: int = 0
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    files_deleted: int = 0
    surveys: int = 0
    chats: int = 0
    events: int = 0
    outbox_rows: int = 0
    slack_updates: int = 0

    def anything(self) -> bool:
        return any(asdict(self).values())

    def summary(self) -> str:
        counts = asdict(self).items()
        return ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in counts)


class _Scrub:
    """Sets fields to their erased values, remembering which tickets had anything changed."""

    def __init__(self):
        self.changed: set[int] = set()

    def apply(self, row, ticket_id: int, **values: Any) -> bool:
        dirty = False
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                dirty = True
        if dirty:
            self.changed.add(ticket_id)
        return dirty


def inventory(session: Session, customer: Customer) -> Erasure:
    """What `erase` would change. Changes the session's state: the caller rolls it back."""
    return _erase(session, customer)[0]


def erase(session: Session, customer: Customer, store: FileStore, actor: str) -> Erasure:
    """Erases the customer's personal data, in the caller's transaction; see the module."""
    done, doomed_files, changed = _erase(session, customer)
    for ticket in changed:
        record_event(session, ticket, ERASED_EVENT, actor, **asdict(done))
    session.flush()
    for relative in doomed_files:
        _delete(store, relative)
    log.info("erased customer %s at the request of %s: %s", customer.id, actor, done.summary())
    return done


def _erase(session: Session, customer: Customer) -> tuple[Erasure, set[str], list[Ticket]]:
    """The rows erased and Slack's replacements recorded: (counts, files to delete, tickets)."""
    scrub = _Scrub()
    done, doomed_files, slack_files = _erase_rows(session, customer, scrub)
    changed = [t for t in tickets_of(session, customer.id) if t.id in scrub.changed]
    for ticket in changed:
        done.slack_updates += _replace_in_slack(session, ticket, slack_files.get(ticket.id, []))
    return done, doomed_files, changed


def _erase_rows(
    session: Session, customer: Customer, scrub: _Scrub
) -> tuple[Erasure, set[str], dict[int, list[str]]]:
    """Erases the rows; (counts, files no longer referenced, Slack file ids by ticket)."""
    done = Erasure()
    identifying = _identifying(customer)
    address = erased_address(customer.id)
    erased = (address, PLACEHOLDER, None)
    done.customers = int((customer.email, customer.name, customer.shopify_id) != erased)
    forget_proofs_of(session, customer.email)  # a "Track my order" match, not yet spent
    customer.email, customer.name, customer.shopify_id = erased
    # What the shop said of them goes with who they were.
    customer.shop_orders_count, customer.shop_total_spent = None, None
    stored: set[str] = set()
    slack_files: dict[int, list[str]] = {}
    for ticket in tickets_of(session, customer.id):
        scrub.apply(ticket, ticket.id, subject=PLACEHOLDER)
        messages = messages_of(session, ticket.id)
        for message in messages:
            done.messages += _erase_message(scrub, message, address)
        for row in attachments_of(session, [m.id for m in messages]):
            if row.stored_path:
                stored.add(row.stored_path)
            if row.slack_file_id:
                slack_files.setdefault(ticket.id, []).append(row.slack_file_id)
            done.attachments += scrub.apply(
                row,
                ticket.id,
                filename=PLACEHOLDER,
                sha256="",
                stored_path=None,
                slack_file_id=None,
                refused=PLACEHOLDER,
            )
        for survey in rows_of(session, CsatSurvey, ticket.id):
            if survey.comment is not None and scrub.apply(survey, ticket.id, comment=PLACEHOLDER):
                done.surveys += 1
                if survey.slack_ts:  # the thread's survey message shows the comment: redraw it
                    outbox.show_survey_answer(session, ticket.id, survey.id)
        for survey in rows_of(session, NpsSurvey, ticket.id):
            if survey.comment is not None and scrub.apply(survey, ticket.id, comment=PLACEHOLDER):
                done.surveys += 1
        for conversation in rows_of(session, ChatConversation, ticket.id):
            done.chats += _erase_chat(scrub, conversation, ticket.id)
        for escalation in rows_of(session, Escalation, ticket.id):
            scrub.apply(escalation, ticket.id, reason=PLACEHOLDER)
        for event in [
            *rows_of(session, TicketEvent, ticket.id),
            *_merge_events_elsewhere(session, ticket.id),
        ]:
            done.events += _erase_event(session, scrub, event, identifying, address)
        done.outbox_rows += _erase_outbox(session, scrub, ticket.id)
    done.tickets = len(scrub.changed)
    session.flush()
    doomed = _unshared(session, stored)
    done.files_deleted = len(doomed)
    return done, doomed, slack_files


def _identifying(customer: Customer) -> list[str]:
    """The customer's own address and name, as other rows may quote them."""
    found = [customer.email] if is_reachable(customer.email) else []
    # Shorter names match too much that isn't theirs.
    if len(customer.name) >= 3 and customer.name != PLACEHOLDER:
        found.append(customer.name)
    return [text.lower() for text in found]


def _erase_message(scrub: _Scrub, message: Message, address: str) -> bool:
    values: dict[str, Any] = {"body": PLACEHOLDER, "full_body": PLACEHOLDER}
    if message.direction == Direction.INBOUND:
        values.update(
            author=address,
            author_name=PLACEHOLDER,
            email_message_id=None,
            email_thread_root=None,
            content_hash=None,
        )
    if message.delivery_error is not None:
        values["delivery_error"] = PLACEHOLDER
    return scrub.apply(message, message.ticket_id, **values)


def _erase_chat(scrub: _Scrub, conversation: ChatConversation, ticket_id: int) -> bool:
    # A new token hash ends the visitor's access: nothing of theirs is left to show them.
    dirty = scrub.apply(
        conversation,
        ticket_id,
        visitor_name=PLACEHOLDER,
        visitor_email=None,
        page_url="",
        user_agent="",
    )
    if dirty:
        conversation.token_hash = token_hash(secrets.token_urlsafe(32))
    return dirty


def _erase_event(
    session: Session, scrub: _Scrub, event: TicketEvent, identifying: list[str], address: str
) -> bool:
    if event.kind == ERASED_EVENT:
        return False
    data = {
        key: PLACEHOLDER if _personal(key, value, identifying) else value
        for key, value in event.data.items()
    }
    if event.kind == "contact_given":
        _erase_stand_in(session, data.get("old_customer"))
    actor = address if "@" in event.actor else event.actor  # agents are Slack user ids
    return scrub.apply(event, event.ticket_id, data=data, actor=actor)


def _erase_stand_in(session: Session, customer_id: int | None) -> None:
    """The chat visitor's row from before they gave their address kept the name they gave."""
    before = session.get(Customer, customer_id) if customer_id else None
    if before is not None and not is_reachable(before.email):
        before.name = PLACEHOLDER


def _personal(key: str, value: Any, identifying: list[str]) -> bool:
    if not isinstance(value, str) or value == PLACEHOLDER:
        return False
    return key in PERSONAL_EVENT_KEYS or any(text in value.lower() for text in identifying)


def _erase_outbox(session: Session, scrub: _Scrub, ticket_id: int) -> int:
    count = 0
    for row in rows_of(session, OutboxItem, ticket_id):
        values: dict[str, Any] = {
            "payload": _without_text(row.payload),
            "result": _without_text(row.result) if row.result is not None else None,
        }
        # SMTP answers quote the address; Slack's errors name only the API's own codes.
        if row.kind.startswith("email.") and row.last_error not in (None, NOT_SENT):
            values["last_error"] = PLACEHOLDER
        if row.kind in CUSTOMER_MAIL and row.status == OutboxStatus.PENDING:
            values.update(status=OutboxStatus.FAILED, last_error=NOT_SENT)
        count += scrub.apply(row, ticket_id, **values)
    return count


def _without_text(values: dict[str, Any]) -> dict[str, Any]:
    erased = {}
    for key, value in values.items():
        if key in PERSONAL_OUTBOX_KEYS and value is not None:
            erased[key] = PLACEHOLDER
        else:
            erased[key] = value
    return erased


def _replace_in_slack(session: Session, ticket: Ticket, slack_files: list[str]) -> int:
    """Outbox rows replacing what the helpdesk posted about the ticket; how many.

    A post still pending may be on its way with the text read before this transaction, so
    it is replaced too: the rows of a ticket go out in order, so the replacement follows it.
    """
    pending = {
        row.id: row
        for row in rows_of(session, OutboxItem, ticket.id)
        if row.status == OutboxStatus.PENDING
    }
    posting = {row.kind for row in pending.values()}
    posting_messages = {
        row.message_id for row in pending.values() if row.kind == outbox.SLACK_POST_MESSAGE
    }
    rows = 0
    if ticket.thread_ts or outbox.SLACK_POST_ROOT in posting:
        outbox.refresh_root(session, ticket.id)
        rows += 1
    for message in messages_of(session, ticket.id):
        # Notes are the agents' own Slack messages: the helpdesk can't edit those.
        posted = message.slack_ts or message.id in posting_messages
        if posted and message.direction != Direction.NOTE:
            outbox.refresh_message(session, ticket.id, message.id)
            rows += 1
    for escalation in rows_of(session, Escalation, ticket.id):
        if escalation.post_ts or outbox.SLACK_POST_ESCALATION in posting:
            outbox.refresh_escalation(session, ticket.id, escalation.id)
            rows += 1
    for row in rows_of(session, OutboxItem, ticket.id):
        if row.kind not in STANDALONE_POSTS:
            continue
        if row.id in pending:
            outbox.erase_post(session, ticket.id, row=str(row.id))
            rows += 1
        elif row.status == OutboxStatus.SENT and (where := posted_at(session, row)):
            outbox.erase_post(session, ticket.id, **where)
            rows += 1
    for row in merge_summaries_elsewhere(session, ticket.id):
        # The kept ticket's summary of this one's merge lists its messages and who wrote them.
        if row.status == OutboxStatus.PENDING:
            outbox.erase_post(session, row.ticket_id, row=str(row.id))
            rows += 1
        elif row.status == OutboxStatus.SENT and (where := posted_at(session, row)):
            outbox.erase_post(session, row.ticket_id, **where)
            rows += 1
    for file_id in slack_files:
        outbox.erase_post(session, ticket.id, file=file_id)
        rows += 1
    return rows


# Posted where the ticket's Slack message was, not in the ticket's channel.
IN_ORIGIN_CHANNEL = {outbox.SLACK_ORIGIN_REPLY, outbox.SLACK_THREAD_REPLY}


def merge_summaries_elsewhere(session: Session, ticket_id: int) -> list[OutboxItem]:
    """The posts in the other thread of each merge this ticket was in: the kept thread's
    summary lists the merged ticket's messages, the merged thread names the kept ticket."""
    return [
        row
        for move_id, other_id in _merges_with(session, ticket_id)
        for row in rows_of(session, OutboxItem, other_id)
        if row.kind == outbox.SLACK_TICKET_MOVE and row.payload.get("move") == move_id
    ]


def _merge_events_elsewhere(session: Session, ticket_id: int) -> list[TicketEvent]:
    """The other ticket's event of each merge this ticket was in: it names both customers."""
    return [
        event
        for move_id, other_id in _merges_with(session, ticket_id)
        for event in rows_of(session, TicketEvent, other_id)
        if event.kind in MERGE_EVENTS and event.data.get("move") == move_id
    ]


def _merges_with(session: Session, ticket_id: int) -> list[tuple[int, int]]:
    """(move, the other ticket) of each merge of this ticket into another, or into it."""
    moves = session.exec(
        select(TicketMove).where(
            or_(TicketMove.from_ticket_id == ticket_id, TicketMove.to_ticket_id == ticket_id),
            TicketMove.kind == MERGE,
        )
    )
    return [
        (move.id, move.to_ticket_id if move.from_ticket_id == ticket_id else move.from_ticket_id)
        for move in moves
    ]


def posted_at(session: Session, row: OutboxItem) -> dict[str, str] | None:
    """Where a sent row's own message is: channel (or the DM's user) and ts; None if none."""
    result = row.result or {}
    ts = result.get("note") if row.kind == outbox.SLACK_ATTACHMENTS else result.get("ts")
    if not ts:
        return None
    if row.kind == outbox.DIRECT_MESSAGE:
        return {"user": row.payload["user"], "ts": ts}
    if row.kind == outbox.CHANNEL_NOTICE:
        return {"channel": row.payload["channel"], "ts": ts}
    if row.kind == outbox.SLACK_REANNOUNCE_ESCALATION:
        return {"channel": session.get(Escalation, row.payload["escalation"]).channel, "ts": ts}
    if row.kind in IN_ORIGIN_CHANNEL:
        return {"channel": session.get(TicketOrigin, row.ticket_id).channel, "ts": ts}
    return {"channel": channel_at(session, session.get(Ticket, row.ticket_id), ts), "ts": ts}


def uploaded_files(row: OutboxItem) -> list[str]:
    """The Slack file ids a sent `slack.attachments` row uploaded."""
    if row.kind != outbox.SLACK_ATTACHMENTS or not row.result:
        return []
    return list((row.result.get("files") or {}).values())


def _unshared(session: Session, relative_paths: set[str]) -> set[str]:
    """Those of the paths no remaining attachment row refers to (files are shared by hash)."""
    if not relative_paths:
        return set()
    still_used = session.exec(
        select(Attachment.stored_path).where(Attachment.stored_path.in_(relative_paths))
    ).all()
    return relative_paths - set(still_used)


def _delete(store: FileStore, relative: str) -> None:
    try:
        store.path(relative).unlink(missing_ok=True)
    except ValueError:
        log.error("not deleting %r: outside the data directory", relative)
