"""The SLA sweep: warnings and breaches that have come due, each announced exactly once.

Due clocks are found through indexes on (breached, due_at) and (warned, warn_at), so a sweep
costs what is due, not what is open. On PostgreSQL the rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several processes may sweep at once; each alert is also a unique
row written in the same transaction as the messages it enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.core import outbox
from bot.core.notices import Notice
from bot.core.sla import CLOCK_LABELS, SlaRules
from bot.storage.models import SlaAlert, SlaClock, Ticket

BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    breaches: int
    warnings: int


def _due(session: Session, condition, order, limit: int) -> list[SlaClock]:
    statement = select(SlaClock).where(*condition).order_by(order).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return list(session.exec(statement))


def sweep(
    session: Session, rules: SlaRules, now: datetime, escalation_channel: str | None
) -> SweepResult:
    """Breaches first: after downtime, a clock past both marks gets its breach alone."""
    breaches = _due(
        session,
        (SlaClock.breached.is_(False), SlaClock.due_at <= now),
        SlaClock.due_at,
        BATCH,
    )
    for clock in breaches:
        clock.breached = clock.warned = True
        _announce(session, clock, "breach", escalation_channel)
    warnings = _due(
        session,
        (SlaClock.warned.is_(False), SlaClock.warn_at <= now),
        SlaClock.warn_at,
        BATCH,
    )
    for clock in warnings:
        clock.warned = True
        _announce(session, clock, "warning", None)
    return SweepResult(len(breaches), len(warnings))


def _announce(session: Session, clock: SlaClock, kind: str, escalation_channel: str | None):
    session.add(SlaAlert(clock_id=clock.id, kind=kind))
    ticket = session.get(Ticket, clock.ticket_id)
    notice = Notice.SLA_BREACH if kind == "breach" else Notice.SLA_WARNING
    facts = {"clock": CLOCK_LABELS[clock.kind], "target": _duration(clock.target_seconds)}
    if ticket.assignee:
        outbox.direct_message(session, ticket.id, ticket.assignee, notice, **facts)
    outbox.notice(session, ticket.id, notice, assignee=ticket.assignee, **facts)
    if notice == Notice.SLA_BREACH and escalation_channel:
        outbox.channel_notice(session, ticket.id, escalation_channel, notice, **facts)
    outbox.refresh_root(session, ticket.id)


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
