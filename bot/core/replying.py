"""Who is writing an answer right now, so two agents don't answer one customer twice.

Opening the Reply modal starts a reply in progress (one row per modal); submitting or closing
the modal ends it. Slack does not always say when a modal goes away (a closed browser tab, a
lost connection), so a reply older than `TIMEOUT` no longer counts, and `expire` (a scheduled
job) deletes such rows and has their roots redrawn, so a stale "is replying" never outlives
the timeout by more than one sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, select

from bot.core import outbox
from bot.storage.models import ReplyInProgress

TIMEOUT = timedelta(minutes=10)
BATCH = 200  # expired rows swept per transaction; more go at the next run


@dataclass(frozen=True)
class Replying:
    agent: str
    since: datetime


def started(session: Session, ticket_id: int, agent: str, view_id: str, now: datetime) -> None:
    """The agent opened the Reply modal `view_id` on the ticket; its root shows them."""
    session.add(ReplyInProgress(ticket_id=ticket_id, agent=agent, view_id=view_id, opened_at=now))
    outbox.refresh_root(session, ticket_id)


def ended(session: Session, view_id: str) -> None:
    """The modal was submitted or closed; nothing happens for a modal never recorded."""
    row = session.exec(select(ReplyInProgress).where(ReplyInProgress.view_id == view_id)).first()
    if row is not None:
        session.delete(row)
        outbox.refresh_root(session, row.ticket_id)


def replying(session: Session, ticket_id: int, now: datetime) -> list[Replying]:
    """Who has the Reply modal open on the ticket, earliest first, each agent once."""
    rows = session.exec(
        select(ReplyInProgress.agent, ReplyInProgress.opened_at)
        .where(ReplyInProgress.ticket_id == ticket_id, ReplyInProgress.opened_at > now - TIMEOUT)
        .order_by(ReplyInProgress.opened_at)
    )
    seen: dict[str, Replying] = {}
    for agent, opened_at in rows:
        seen.setdefault(agent, Replying(agent, opened_at))
    return list(seen.values())


def expire(session: Session, now: datetime) -> int:
    """Deletes replies in progress past the timeout and redraws their roots; how many."""
    stale = list(
        session.exec(
            select(ReplyInProgress.id, ReplyInProgress.ticket_id)
            .where(ReplyInProgress.opened_at <= now - TIMEOUT)
            .order_by(ReplyInProgress.opened_at)
            .limit(BATCH)
        )
    )
    if not stale:
        return 0
    session.exec(delete(ReplyInProgress).where(ReplyInProgress.id.in_([i for i, _ in stale])))
    for ticket_id in sorted({ticket_id for _, ticket_id in stale}):
        outbox.refresh_root(session, ticket_id)
    return len(stale)
