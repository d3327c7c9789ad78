"""Deliveries that are stuck or were given up: found, sent again or dropped by an operator
(`helpdesk outbox`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.replies import retry_reply
from bot.core.tickets import record_event
from bot.storage.models import Delivery, Message, OutboxItem, OutboxStatus, Ticket

ACTOR = "helpdesk outbox"


class CannotChange(Exception):
    """The row is not in a state the operator's command applies to; says why."""


class BeingDelivered(CannotChange):
    """The row is claimed by a try in progress; the command applies once that try ends."""


def troubled(
    session: Session, now: datetime, stuck_after: timedelta
) -> list[tuple[OutboxItem, int | None]]:
    """Rows given up on, and pending rows that failed at least once or are older than
    `stuck_after`, oldest first, each with its ticket's number."""
    found = session.exec(
        select(OutboxItem, Ticket.number)
        .join(Ticket, Ticket.id == OutboxItem.ticket_id, isouter=True)
        .where(
            or_(
                OutboxItem.status == OutboxStatus.FAILED,
                (OutboxItem.status == OutboxStatus.PENDING)
                & or_(
                    OutboxItem.last_error.is_not(None),
                    OutboxItem.created_at < now - stuck_after,
                ),
            )
        )
        .order_by(OutboxItem.id)
    )
    return [(item, number) for item, number in found]


@dataclass(frozen=True)
class KindBacklog:
    """One kind of outbox row: how many wait, how many were given up on, and since when the
    oldest waiting one has waited (None with none waiting)."""

    kind: str
    pending: int
    failed: int
    oldest_pending: datetime | None


def backlog_by_kind(session: Session) -> list[KindBacklog]:
    """Waiting and given-up rows per kind, in one query (the health check and `/metrics`)."""
    rows = session.exec(
        select(OutboxItem.kind, OutboxItem.status, func.count(), func.min(OutboxItem.created_at))
        .where(OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.FAILED]))
        .group_by(OutboxItem.kind, OutboxItem.status)
    ).all()
    found: dict[str, KindBacklog] = {}
    for kind, status, count, oldest in rows:
        known = found.get(kind, KindBacklog(kind, 0, 0, None))
        if status == OutboxStatus.PENDING:
            found[kind] = replace(known, pending=count, oldest_pending=oldest)
        else:
            found[kind] = replace(known, failed=count)
    return sorted(found.values(), key=lambda b: b.kind)


def backlog(session: Session, now: datetime) -> dict:
    """What the health check says of the outbox: rows waiting and given up on, and how long
    the oldest waiting one has waited (None with none waiting)."""
    kinds = backlog_by_kind(session)
    oldest = min((k.oldest_pending for k in kinds if k.oldest_pending), default=None)
    return {
        "pending": sum(k.pending for k in kinds),
        "failed": sum(k.failed for k in kinds),
        "oldest_pending_seconds": round((now - oldest).total_seconds()) if oldest else None,
    }


def retry(session: Session, item_id: int, now: datetime) -> OutboxItem:
    """Sends a failed or stuck row again now; a reply goes the way of its Retry button."""
    item = _changeable(session, item_id, now, "retried")
    message = session.get(Message, item.message_id) if item.message_id else None
    if item.kind == outbox.EMAIL_SEND and message and message.delivery == Delivery.FAILED:
        retry_reply(session, message, ACTOR)  # requeues this row, and updates the thread
        return item
    outbox.requeue(session, item)
    _note(session, item, "delivery_retried")
    return item


def drop(session: Session, item_id: int, now: datetime) -> OutboxItem:
    """Gives a row up, so that its ticket's later rows go on; a reply is marked not delivered
    (its Retry button can still send it)."""
    item = _changeable(session, item_id, now, "dropped")
    item.status = OutboxStatus.DROPPED
    item.claimed_until = None
    item.dedupe_key = None
    _note(session, item, "delivery_dropped")
    message = session.get(Message, item.message_id) if item.message_id else None
    if item.kind == outbox.EMAIL_SEND and message and message.delivery == Delivery.PENDING:
        message.delivery = Delivery.FAILED
        message.delivery_error = "dropped with `helpdesk outbox drop`"
        if message.slack_ts:
            outbox.refresh_message(session, message.ticket_id, message.id)
    return item


def _changeable(session: Session, item_id: int, now: datetime, verb: str) -> OutboxItem:
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise CannotChange(f"there is no outbox row {item_id}; `helpdesk outbox` lists them")
    if item.status == OutboxStatus.SENT:
        raise CannotChange(f"outbox row {item_id} was delivered; there is nothing to do")
    if item.status == OutboxStatus.DROPPED and verb == "dropped":
        raise CannotChange(f"outbox row {item_id} was dropped already")
    if item.status == OutboxStatus.PENDING and item.claimed_until and item.claimed_until > now:
        raise BeingDelivered(
            f"outbox row {item_id} is being delivered right now; look again in a minute"
        )
    return item


def _note(session: Session, item: OutboxItem, kind: str) -> None:
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
    if ticket is not None:
        record_event(session, ticket, kind, ACTOR, outbox_id=item.id, outbox_kind=item.kind)
