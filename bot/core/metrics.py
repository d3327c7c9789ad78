"""The figures of the digest, `/helpdesk stats` and `helpdesk export`.

A period's figures are added up from its days' `Tally`s: counts per key, and every duration
sorted, so that percentiles over many days are exact. A closed day's tally is read from
`daily_figures` when stored there (`bot/core/daily_figures.py`); the other days are counted
with queries over indexed time columns, one per figure for a whole run of days, grouped by
local day with a CASE over boundaries computed here (SQLite knows no time zones). Only the
durations are loaded into Python, a day's at a time when rolled up. The backlog is an
instant's, counted apart. The definitions are in docs/metrics.md; keep the two in step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, union_all
from sqlmodel import Session, select

from bot.core import daily_figures
from bot.core.nps import Nps, kind_of
from bot.storage.models import (
    CsatSurvey,
    DailyFigures,
    Direction,
    Message,
    NpsSurvey,
    OrderLookup,
    SelfServiceSession,
    ShopAction,
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
# NPS moves slowly and has few answers: its trend is three 30-day windows, 90 days in all.
NPS_WINDOW = timedelta(days=30)
NPS_WINDOWS = 3
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
class ShopFigures:
    """Actions in the shop that ended done in the period (bot/core/shop_actions.py)."""

    refunds: int
    refunded: tuple[tuple[str, Decimal], ...]  # (currency, amount refunded), by currency
    cancellations: int


@dataclass(frozen=True)
class SelfService:
    """Answers found without a ticket: widget sessions deflected (an article read, nothing
    written), and "Track my order" look-ups, of which `orders_found` matched an order."""

    deflections: int = 0
    order_lookups: int = 0
    orders_found: int = 0


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
    nps: Nps  # answers given in the period
    nps_trend: tuple[Nps, ...]  # NPS_WINDOWS windows ending with the period, oldest first
    top_tags: tuple[tuple[str, int], ...]
    agents: tuple[AgentFigures, ...]
    shop: ShopFigures = field(default_factory=lambda: ShopFigures(0, (), 0))
    self_service: SelfService = SelfService()

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
    deflected: int = 0  # chat-widget visitors answered by an article, without a ticket


@dataclass
class Tally:
    """One or more local days' figures in a form that adds up: counts, per key where the
    figure has keys, and every duration sorted ascending (business seconds for the agents),
    so that the percentiles of several days together are exact. Stored as JSON."""

    created: int = 0
    solved: int = 0
    first_response_business: list[int] = field(default_factory=list)
    first_response_wall: list[int] = field(default_factory=list)
    resolution_business: list[int] = field(default_factory=list)
    resolution_wall: list[int] = field(default_factory=list)
    sla_met: int = 0
    sla_stopped: int = 0
    csat_satisfied: int = 0
    csat_answers: int = 0
    csat_points: int = 0  # the answers' ratings added up
    nps_promoters: int = 0
    nps_passives: int = 0
    nps_detractors: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    replies: dict[str, int] = field(default_factory=dict)
    solved_by: dict[str, int] = field(default_factory=dict)
    first_responses_by: dict[str, list[int]] = field(default_factory=dict)
    refunds: int = 0
    refunded_cents: dict[str, int] = field(default_factory=dict)  # per currency
    cancellations: int = 0
    # Self-service (days stored before these existed read 0).
    deflections: int = 0
    order_lookups: int = 0
    orders_found: int = 0


def combined(tallies: list[Tally]) -> Tally:
    return Tally(**{f.name: _added([getattr(t, f.name) for t in tallies]) for f in fields(Tally)})


def _added(values: list) -> Any:
    if not values or isinstance(values[0], int):
        return sum(values)
    if isinstance(values[0], list):
        return sorted(chain.from_iterable(values))
    keys = sorted(set().union(*values))
    return {key: _added([v[key] for v in values if key in v]) for key in keys}


def report(session: Session, period: Period, now: datetime) -> Report:
    """Every figure for the period; the backlog at its end, or now if that is earlier."""
    as_of = min(period.end, now)
    tally = combined(tallies(session, period))
    agents = sorted(
        tally.replies.keys() | tally.solved_by.keys() | tally.first_responses_by.keys(),
        key=lambda a: (-tally.replies.get(a, 0), -tally.solved_by.get(a, 0), a),
    )
    return Report(
        period=period,
        as_of=as_of,
        created=tally.created,
        solved=tally.solved,
        backlog=backlog(session, as_of),
        first_response=Durations(
            _spread(tally.first_response_business), _spread(tally.first_response_wall)
        ),
        resolution=Durations(_spread(tally.resolution_business), _spread(tally.resolution_wall)),
        sla=Ratio(tally.sla_met, tally.sla_stopped),
        csat=Csat(
            Ratio(tally.csat_satisfied, tally.csat_answers),
            tally.csat_points / tally.csat_answers if tally.csat_answers else None,
        ),
        nps=Nps(tally.nps_promoters, tally.nps_passives, tally.nps_detractors),
        nps_trend=nps_trend(session, period.end),
        top_tags=tuple(sorted(tally.tags.items(), key=lambda t: (-t[1], t[0]))[:TOP_TAGS]),
        agents=tuple(
            AgentFigures(
                agent=agent,
                replies=tally.replies.get(agent, 0),
                first_responses=len(tally.first_responses_by.get(agent, [])),
                median_first_response=_spread(tally.first_responses_by.get(agent, [])).median,
                solved=tally.solved_by.get(agent, 0),
            )
            for agent in agents
        ),
        self_service=SelfService(tally.deflections, tally.order_lookups, tally.orders_found),
        shop=ShopFigures(
            tally.refunds,
            tuple((c, Decimal(cents) / 100) for c, cents in sorted(tally.refunded_cents.items())),
            tally.cancellations,
        ),
    )


def nps_trend(session: Session, end: datetime) -> tuple[Nps, ...]:
    """The answers of each of the NPS_WINDOWS windows of NPS_WINDOW before `end`, oldest first:
    one query, the windows told apart with a CASE."""
    starts = [end - NPS_WINDOW * n for n in range(NPS_WINDOWS, 0, -1)]
    window = case(
        *((NpsSurvey.answered_at < start + NPS_WINDOW, n) for n, start in enumerate(starts))
    )
    answered = select(window.label("window"), NpsSurvey.score).where(
        NpsSurvey.answered_at >= starts[0],
        NpsSurvey.answered_at < end,
        NpsSurvey.score.is_not(None),
    )
    counts: list[dict[str, int]] = [{} for _ in starts]
    for n, score, count in _grouped(session, answered):
        kind = kind_of(score)
        counts[n][kind] = counts[n].get(kind, 0) + count
    return tuple(Nps(**window_counts) for window_counts in counts)


def trend(
    session: Session, last_day: date, zone: ZoneInfo, days: int = TREND_DAYS
) -> list[TrendDay]:
    """Per local day up to `last_day`: created, solved, median business first response,
    deflected."""
    period = Period(last_day - timedelta(days=days - 1), last_day, zone)
    return [
        TrendDay(day, t.created, t.solved, _spread(t.first_response_business).median, t.deflections)
        for day, t in zip(period.days(), tallies(session, period), strict=True)
    ]


def tallies(session: Session, period: Period) -> list[Tally]:
    """Each day's tally: stored if it is, else counted now."""
    zone = period.zone.key
    found = {
        day: Tally(**figures)
        for day, figures in daily_figures.stored(
            session, zone, period.first_day, period.last_day
        ).items()
    }
    found.update(_count_missing(session, period, found.keys()))
    return [found[day] for day in period.days()]


ROLLED_UP_DAYS = 30  # as many as `/helpdesk stats month` reads


def closed_days_to_keep(session: Session, zone: ZoneInfo, now: datetime) -> list[DailyFigures]:
    """The last `ROLLED_UP_DAYS` days that ended `daily_figures.SETTLED` ago or more and have
    no stored figures, counted, for `daily_figures.keep`."""
    last = (now - daily_figures.SETTLED).astimezone(zone).date() - timedelta(days=1)
    first = last - timedelta(days=ROLLED_UP_DAYS - 1)
    stored = daily_figures.stored(session, zone.key, first, last)
    counted = _count_missing(session, Period(first, last, zone), stored.keys())
    return [
        DailyFigures(
            zone=zone.key,
            day=day,
            starts_at=Period.day(day, zone).start,
            ends_at=Period.day(day, zone).end,
            figures=asdict(tally),
        )
        for day, tally in counted.items()
    ]


def _count_missing(session: Session, period: Period, present) -> dict[date, Tally]:
    """The period's days not `present`, counted a run of consecutive days at a time."""
    counted: dict[date, Tally] = {}
    for first, last in _runs([day for day in period.days() if day not in present]):
        counted.update(count_days(session, Period(first, last, period.zone)))
    return counted


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Ascending days as (first, last) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def count_days(session: Session, period: Period) -> dict[date, Tally]:
    """Each day's tally, from the tables: one query per figure for all the days."""
    days = period.days()
    tallies = {day: Tally() for day in days}

    def on(n: int) -> Tally:
        return tallies[days[n]]

    for n, count in _grouped(
        session, select(_day_of(Ticket.created_at, period)).where(created_in(period))
    ):
        on(n).created = count
    solved = select(
        _day_of(Ticket.solved_at, period),
        Ticket.resolution_business_seconds,
        Ticket.resolution_seconds,
        Ticket.assignee,
    ).where(period.contains(Ticket.solved_at))
    for n, business, wall, assignee in session.execute(solved):
        tally = on(n)
        tally.solved += 1
        _append(tally.resolution_business, business)
        _append(tally.resolution_wall, wall)
        if assignee is not None:
            tally.solved_by[assignee] = tally.solved_by.get(assignee, 0) + 1
    responded = select(
        _day_of(Ticket.first_response_at, period),
        Ticket.first_response_business_seconds,
        Ticket.first_response_seconds,
    ).where(period.contains(Ticket.first_response_at))
    for n, business, wall in session.execute(responded):
        _append(on(n).first_response_business, business)
        _append(on(n).first_response_wall, wall)
    by_agent = (
        select(
            _day_of(Ticket.first_response_at, period),
            TicketEvent.actor,
            Ticket.first_response_business_seconds,
        )
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        .where(
            TicketEvent.kind == "first_response",
            period.contains(Ticket.first_response_at),
            Ticket.first_response_business_seconds.is_not(None),
        )
    )
    for n, agent, business in session.execute(by_agent):
        on(n).first_responses_by.setdefault(agent, []).append(business)
    stopped = select(_day_of(SlaClock.stopped_at, period), SlaClock.outcome).where(
        period.contains(SlaClock.stopped_at)
    )
    for n, outcome, count in _grouped(session, stopped):
        on(n).sla_stopped += count
        on(n).sla_met += count if outcome == "met" else 0
    answered = select(_day_of(CsatSurvey.answered_at, period), CsatSurvey.rating).where(
        period.contains(CsatSurvey.answered_at), CsatSurvey.rating.is_not(None)
    )
    for n, rating, count in _grouped(session, answered):
        on(n).csat_answers += count
        on(n).csat_points += rating * count
        on(n).csat_satisfied += count if rating >= 4 else 0
    scored = select(_day_of(NpsSurvey.answered_at, period), NpsSurvey.score).where(
        period.contains(NpsSurvey.answered_at), NpsSurvey.score.is_not(None)
    )
    for n, score, count in _grouped(session, scored):
        kind = f"nps_{kind_of(score)}"
        setattr(on(n), kind, getattr(on(n), kind) + count)
    tagged = (
        select(_day_of(Ticket.created_at, period), TicketTag.tag)
        .join(Ticket, Ticket.id == TicketTag.ticket_id)
        .where(created_in(period))
    )
    for n, tag, count in _grouped(session, tagged):
        on(n).tags[tag] = count
    replied = select(_day_of(Message.created_at, period), Message.author).where(
        Message.direction == Direction.OUTBOUND, period.contains(Message.created_at)
    )
    for n, author, count in _grouped(session, replied):
        on(n).replies[author] = count
    _count_shop_actions(session, period, on)
    _count_self_service(session, period, on)
    for tally in tallies.values():
        for durations in (
            tally.first_response_business,
            tally.first_response_wall,
            tally.resolution_business,
            tally.resolution_wall,
            *tally.first_responses_by.values(),
        ):
            durations.sort()
    return tallies


def _count_shop_actions(session: Session, period: Period, on) -> None:
    """Refunds (how many, how much per currency) and cancellations done on each day."""
    done = select(
        _day_of(ShopAction.finished_at, period), ShopAction.kind, ShopAction.result
    ).where(
        ShopAction.state == "done",
        ShopAction.kind.in_(("refund", "cancel")),
        period.contains(ShopAction.finished_at),
    )
    for n, kind, result in session.execute(done):
        tally = on(n)
        if kind == "cancel":
            tally.cancellations += 1
            continue
        tally.refunds += 1
        currency = (result or {}).get("currency") or "?"
        cents = int(Decimal((result or {}).get("amount") or 0) * 100)
        tally.refunded_cents[currency] = tally.refunded_cents.get(currency, 0) + cents


def _count_self_service(session: Session, period: Period, on) -> None:
    deflected = select(_day_of(SelfServiceSession.deflected_at, period)).where(
        period.contains(SelfServiceSession.deflected_at)
    )
    for n, count in _grouped(session, deflected):
        on(n).deflections = count
    looked_up = select(_day_of(OrderLookup.created_at, period), OrderLookup.matched).where(
        period.contains(OrderLookup.created_at)
    )
    for n, matched, count in _grouped(session, looked_up):
        on(n).order_lookups += count
        on(n).orders_found += count if matched else 0


def _append(durations: list[int], seconds: int | None) -> None:
    """A ticket measured without a business calendar has no business duration."""
    if seconds is not None:
        durations.append(seconds)


def _spread(durations: list[int]) -> Spread:
    """Nearest rank over sorted durations: of n, the p-th percentile is the one at rank
    ceil(p * n / 100), 1-based."""
    n = len(durations)
    if not n:
        return Spread()
    return Spread(n, *(durations[(p * n + 99) // 100 - 1] for p in PERCENTS))


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


def created_in(period: Period) -> ColumnElement[bool]:
    """Tickets created in the period. Naming every status lets the (status, created_at)
    index serve the range, as one short range scan per status, instead of a table scan."""
    return and_(Ticket.status.in_(list(TicketStatus)), period.contains(Ticket.created_at))


def _grouped(session: Session, rows: Select) -> list:
    """(*columns, count) for each distinct row of `rows`. Grouped outside a subquery:
    PostgreSQL would not see that a CASE in GROUP BY, with its own bound parameters, is the
    one in the select list."""
    source = rows.subquery()
    return session.execute(select(*source.c, func.count()).group_by(*source.c)).all()


def _day_of(column, period: Period) -> ColumnElement[int]:
    """The index of the local day `column` falls on, from boundaries computed in Python
    (SQLite knows no time zones). For values inside the period only."""
    ends = [local_midnight(d + timedelta(days=1), period.zone) for d in period.days()]
    return case(*((column < end, n) for n, end in enumerate(ends))).label("day")


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
