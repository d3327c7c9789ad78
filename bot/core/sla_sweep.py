"""The SLA sweep: warnings and breaches that have come due, each announced exactly once.

Due clocks are found through indexes on (breached, due_at) and (warned, warn_at), so a sweep
costs what is due, not what is open. On PostgreSQL the rows are claimed with
`FOR UPDATE SKIP LOCKED`, so several processes may sweep at once; each alert is also a unique
row written in the same transaction as the messages it enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, insert, update
from sqlmodel import Session, select

from bot.config import duration_text
from bot.core import outbox
from bot.core.notices import Notice
from bot.core.sla import CLOCK_LABELS, SlaRules
from bot.storage.models import SlaAlert, SlaClock, Ticket

BATCH = 500
ALERT_KINDS = {Notice.SLA_BREACH: "breach", Notice.SLA_WARNING: "warning"}
# What an alert says about its clock.
ANNOUNCED_BY = (SlaClock.id, SlaClock.ticket_id, SlaClock.kind, SlaClock.target_seconds)


@dataclass(frozen=True)
class SweepResult:
    breaches: int
    warnings: int


def sweep(
    session: Session, rules: SlaRules, now: datetime, escalation_channel: str | None
) -> SweepResult:
    """Breaches first: after downtime, a clock past both marks gets its breach alone.

    A fixed handful of statements however many are due: each kind is claimed and marked in
    one UPDATE, the tickets' assignees read in one query, the alerts and the outbox rows
    written in one INSERT each.
    """
    breaches = _claim(session, SlaClock.breached, SlaClock.due_at, now, breached=True, warned=True)
    warnings = _claim(session, SlaClock.warned, SlaClock.warn_at, now, warned=True)
    due = [(clock, Notice.SLA_BREACH) for clock in breaches]
    due += [(clock, Notice.SLA_WARNING) for clock in warnings]
    if not due:
        return SweepResult(0, 0)
    assignees = dict(
        session.execute(
            select(Ticket.id, Ticket.assignee).where(
                Ticket.id.in_({clock.ticket_id for clock, _ in due})
            )
        ).all()
    )
    session.execute(
        insert(SlaAlert),
        [{"clock_id": clock.id, "kind": ALERT_KINDS[notice]} for clock, notice in due],
    )
    with outbox.batch(session):
        for clock, notice in due:
            _announce(session, clock, notice, assignees[clock.ticket_id], escalation_channel)
    return SweepResult(len(breaches), len(warnings))


def _claim(session: Session, announced, mark, now: datetime, **marks: bool) -> list[Row]:
    """The clocks whose `mark` has passed and not `announced` yet, earliest first, marked
    in the same statement. On PostgreSQL, rows another sweep holds are skipped."""
    due = select(SlaClock.id).where(announced.is_(False), mark <= now).order_by(mark).limit(BATCH)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(SlaClock)
        .where(SlaClock.id.in_(due.scalar_subquery()))
        .values(**marks)
        .returning(*ANNOUNCED_BY, mark.label("mark")),
        # Clocks this session already holds see their new marks.
        execution_options={"synchronize_session": "fetch"},
    ).all()
    return sorted(claimed, key=lambda clock: (clock.mark, clock.id))


def _announce(
    session: Session,
    clock: Row,
    notice: Notice,
    assignee: str | None,
    escalation_channel: str | None,
) -> None:
    facts = {"clock": CLOCK_LABELS[clock.kind], "target": duration_text(clock.target_seconds)}
    if assignee:
        outbox.direct_message(session, clock.ticket_id, assignee, notice, **facts)
    outbox.notice(session, clock.ticket_id, notice, assignee=assignee, **facts)
    if notice == Notice.SLA_BREACH and escalation_channel:
        outbox.channel_notice(session, clock.ticket_id, escalation_channel, notice, **facts)
    outbox.refresh_root(session, clock.ticket_id)
