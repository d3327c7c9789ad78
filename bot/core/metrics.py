"""The figures of the digest, `/helpdesk stats` and `helpdesk export`, as SQL aggregates.

Every figure is one query over indexed columns (no ticket is loaded into Python), written
with constructs SQLite and PostgreSQL both run the same way: window functions for
percentiles, CASE over boundaries computed here for local days, JSON field access through
SQLAlchemy. The definitions are in docs/metrics.md; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, union_all
from sqlmodel import Session, select

from bot.storage.models import (
    CsatSurvey,
    Direction,
    Message,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketStatus,
    TicketTag,
)
from bot.storage.queries import ACTIVE

PERCENTS = (50, 90)
TOP_TAGS = 5
TREND_DAYS = 14
# Upper bounds of the backlog's age buckets; older tickets fall in the last one.
AGE_BUCKETS = (
    ("under 1 day", timedelta(days=1)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("over 7 days", None),
)


@dataclass(frozen=True)
class Period:
    """Whole local days, first to last inclusive, in a time zone."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    @classmethod
    def day(cls, day: date, zone: ZoneInfo) -> Period:
        return cls(day, day, zone)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        """Exclusive: the next local midnight, so DST days are 23 or 25 hours long."""
        return local_midnight(self.last_day + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def contains(self, column) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Spread:
    """Nearest-rank median and 90th percentile of some durations, in seconds."""

    count: int = 0
    median: int | None = None
    p90: int | None = None


@dataclass(frozen=True)
class Durations:
    business: Spread
    wall: Spread


@dataclass(frozen=True)
class Backlog:
    open: int
    pending: int
    by_age: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return self.open + self.pending


@dataclass(frozen=True)
class Ratio:
    """`hits` out of `total`, e.g. SLA clocks met out of stopped."""

    hits: int
    total: int

    @property
    def share(self) -> float | None:
        return self.hits / self.total if self.total else None


@dataclass(frozen=True)
class Csat:
    satisfied: Ratio  # answers of 4 or 5 out of all answers
    average: float | None


@dataclass(frozen=True)
class AgentFigures:
    agent: str  # Slack user ID
    replies: int = 0
    first_responses: int = 0
    median_first_response: int | None = None  # business seconds
    solved: int = 0


@dataclass(frozen=True)
class Report:
    period: Period
    as_of: datetime  # the instant the backlog is counted at
    created: int
    solved: int
    backlog: Backlog
    first_response: Durations
    resolution: Durations
    sla: Ratio
    csat: Csat
    top_tags: tuple[tuple[str, int], ...]
    agents: tuple[AgentFigures, ...]

    @property
    def quiet(self) -> bool:
        """Nothing happened in the period."""
        return not (self.created or self.solved or self.first_response.wall.count)


@dataclass(frozen=True)
class TrendDay:
    day: date
    created: int
    solved: int
    median_first_response: int | None  # business seconds


def report(session: Session, period: Period, now: datetime) -> Report:
    """Every figure for the period; the backlog at its end, or now if that is earlier."""
    as_of = min(period.end, now)
    responded = period.contains(Ticket.first_response_at)
    solved = period.contains(Ticket.solved_at)
    return Report(
        period=period,
        as_of=as_of,
        created=_count(session, created_in(period)),
        solved=_count(session, solved),
        backlog=backlog(session, as_of),
        first_response=Durations(
            business=_spread(session, Ticket.first_response_business_seconds, responded),
            wall=_spread(session, Ticket.first_response_seconds, responded),
        ),
        resolution=Durations(
            business=_spread(session, Ticket.resolution_business_seconds, solved),
            wall=_spread(session, Ticket.resolution_seconds, solved),
        ),
        sla=sla_attainment(session, period),
        csat=csat(session, period),
        top_tags=top_tags(session, period),
        agents=agent_figures(session, period),
    )


def trend(
    session: Session, last_day: date, zone: ZoneInfo, days: int = TREND_DAYS
) -> list[TrendDay]:
    """Per local day up to `last_day`: created, solved, median business first response."""
    period = Period(last_day - timedelta(days=days - 1), last_day, zone)
    created = _per_day(session, Ticket.created_at, period, created_in(period))
    solved = _per_day(session, Ticket.solved_at, period, period.contains(Ticket.solved_at))
    day = _day_of(Ticket.first_response_at, period)
    medians = _nearest_ranks(
        session,
        select(day, Ticket.first_response_business_seconds).where(
            period.contains(Ticket.first_response_at)
        ),
    )
    return [
        TrendDay(d, created.get(n, 0), solved.get(n, 0), medians.get(n, Spread()).median)
        for n, d in enumerate(period.days())
    ]


def backlog(session: Session, as_of: datetime) -> Backlog:
    """Tickets open or pending at `as_of`, by status and age.

    A ticket not updated since `as_of` still has the status it had then; only the few updated
    since have theirs rebuilt from their last status change before it. Two queries glued
    with UNION ALL, so that PostgreSQL's planner prices the per-ticket lookup for those few
    rather than for every ticket.
    """
    bucket = _age_bucket(as_of).label("bucket")
    created = Ticket.created_at < as_of
    unchanged = select(Ticket.status.label("status"), bucket).where(
        created, Ticket.updated_at < as_of, Ticket.status.in_(ACTIVE)
    )
    changed = select(_status_before(as_of).label("status"), bucket).where(
        created, Ticket.updated_at >= as_of
    )
    tickets = union_all(unchanged, changed).subquery()
    rows = session.execute(
        select(tickets.c.status, tickets.c.bucket, func.count())
        .where(tickets.c.status.in_(ACTIVE))
        .group_by(tickets.c.status, tickets.c.bucket)
    ).all()
    by_status = {s: sum(n for status, _, n in rows if status == s) for s in ACTIVE}
    by_age = tuple(
        (label, sum(n for _, bucket, n in rows if bucket == index))
        for index, (label, _) in enumerate(AGE_BUCKETS)
    )
    return Backlog(by_status[TicketStatus.OPEN], by_status[TicketStatus.PENDING], by_age)


def _status_before(instant: datetime) -> ColumnElement[str]:
    """A ticket's status at `instant`: its last status change before then, else open."""
    last_change = (
        select(TicketEvent.data["new"].as_string())
        .where(
            TicketEvent.ticket_id == Ticket.id,
            TicketEvent.kind == "status_changed",
            TicketEvent.created_at < instant,
        )
        .order_by(TicketEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last_change, TicketStatus.OPEN.value)


def sla_attainment(session: Session, period: Period) -> Ratio:
    met, stopped = session.execute(
        select(
            func.coalesce(func.sum(case((SlaClock.outcome == "met", 1), else_=0)), 0), func.count()
        ).where(period.contains(SlaClock.stopped_at))
    ).one()
    return Ratio(int(met), stopped)


def csat(session: Session, period: Period) -> Csat:
    satisfied, answers, average = session.execute(
        select(
            func.coalesce(func.sum(case((CsatSurvey.rating >= 4, 1), else_=0)), 0),
            func.count(),
            func.avg(CsatSurvey.rating),
        ).where(period.contains(CsatSurvey.answered_at), CsatSurvey.rating.is_not(None))
    ).one()
    return Csat(Ratio(int(satisfied), answers), float(average) if average is not None else None)


def top_tags(
    session: Session, period: Period, limit: int = TOP_TAGS
) -> tuple[tuple[str, int], ...]:
    """Tags of the tickets created in the period, most used first."""
    uses = func.count().label("uses")
    rows = session.execute(
        select(TicketTag.tag, uses)
        .join(Ticket, Ticket.id == TicketTag.ticket_id)
        .where(created_in(period))
        .group_by(TicketTag.tag)
        .order_by(uses.desc(), TicketTag.tag)
        .limit(limit)
    ).all()
    return tuple((tag, n) for tag, n in rows)


def agent_figures(session: Session, period: Period) -> tuple[AgentFigures, ...]:
    """Replies sent, first responses (and their median), and tickets solved, per agent."""
    replies = _counts_by(
        session,
        select(Message.author, func.count())
        .where(Message.direction == Direction.OUTBOUND, period.contains(Message.created_at))
        .group_by(Message.author),
    )
    solved = _counts_by(
        session,
        select(Ticket.assignee, func.count())
        .where(period.contains(Ticket.solved_at), Ticket.assignee.is_not(None))
        .group_by(Ticket.assignee),
    )
    first_responses = _nearest_ranks(
        session,
        select(TicketEvent.actor, Ticket.first_response_business_seconds)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(TicketEvent.kind == "first_response", period.contains(Ticket.first_response_at)),
    )
    agents = sorted(
        replies.keys() | solved.keys() | first_responses.keys(),
        key=lambda a: (-replies.get(a, 0), -solved.get(a, 0), a),
    )
    return tuple(
        AgentFigures(
            agent=agent,
            replies=replies.get(agent, 0),
            first_responses=first_responses.get(agent, Spread()).count,
            median_first_response=first_responses.get(agent, Spread()).median,
            solved=solved.get(agent, 0),
        )
        for agent in agents
    )


def created_in(period: Period) -> ColumnElement[bool]:
    """Tickets created in the period. Naming every status lets the (status, created_at)
    index serve the range, as one short range scan per status, instead of a table scan."""
    return and_(Ticket.status.in_(list(TicketStatus)), period.contains(Ticket.created_at))


def _count(session: Session, where: ColumnElement[bool]) -> int:
    return session.execute(select(func.count()).where(where)).scalar_one()


def _counts_by(session: Session, query: Select) -> dict[Any, int]:
    return {key: n for key, n in session.execute(query).all()}


def _spread(session: Session, seconds, which: ColumnElement[bool]) -> Spread:
    rows = select(literal(0).label("everything"), seconds).where(which)
    return _nearest_ranks(session, rows).get(0, Spread())


def _nearest_ranks(session: Session, rows: Select) -> dict[Any, Spread]:
    """Per group, the count and nearest-rank percentiles of `rows`, which selects
    (group, value); NULL values are left out.

    Nearest rank: of n sorted values, the p-th percentile is the one at rank ceil(p * n / 100),
    written in integer arithmetic as (p * n + 99) // 100 because SQLite has no CEIL before
    3.44. ROW_NUMBER and COUNT over a window exist on both backends.
    """
    source = rows.subquery()
    group, value = source.c
    ranked = (
        select(
            group.label("grp"),
            value.label("value"),
            func.row_number().over(partition_by=group, order_by=value).label("rank"),
            func.count().over(partition_by=group).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    at_rank = [
        func.max(case((ranked.c.rank == (ranked.c.n * p + 99) // 100, ranked.c.value)))
        for p in PERCENTS
    ]
    rows = session.execute(
        select(ranked.c.grp, func.max(ranked.c.n), *at_rank).group_by(ranked.c.grp)
    ).all()
    return {key: Spread(n, median, p90) for key, n, median, p90 in rows}


def _day_of(column, period: Period) -> ColumnElement[int]:
    """The index of the local day `column` falls on, from boundaries computed in Python
    (SQLite knows no time zones). For values inside the period only."""
    ends = [local_midnight(d + timedelta(days=1), period.zone) for d in period.days()]
    return case(*((column < end, n) for n, end in enumerate(ends))).label("day")


def _per_day(
    session: Session, column, period: Period, where: ColumnElement[bool]
) -> dict[int, int]:
    # Grouped outside a subquery: PostgreSQL would not see that the CASE in GROUP BY, with
    # its own bound parameters, is the one in the select list.
    days = select(_day_of(column, period)).where(where).subquery()
    return _counts_by(session, select(days.c.day, func.count()).group_by(days.c.day))


def _age_bucket(as_of: datetime) -> ColumnElement[int]:
    bounds = [(as_of - limit, n) for n, (_, limit) in enumerate(AGE_BUCKETS) if limit]
    return case(
        *((Ticket.created_at > bound, n) for bound, n in bounds), else_=len(AGE_BUCKETS) - 1
    )


RECENT_DAYS = {"today": 1, "week": 7, "month": 30}


def yesterday(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date() - timedelta(days=1)


def recent_period(name: str, today: date, zone: ZoneInfo) -> Period:
    """`today`, `week` (the last 7 days) or `month` (the last 30), each ending with today."""
    return Period(today - timedelta(days=RECENT_DAYS[name] - 1), today, zone)
