"""One full daily digest and `/helpdesk stats month` over a year of 1,000,000 tickets, on
SQLite and PostgreSQL.

Seeds a year of tickets (with tags, SLA clocks, first-response events, replies and CSAT
answers); times `/helpdesk stats month` counted from the tickets alone, the roll-up that
stores the closed days' figures (`bot/jobs/figures_roll_up.py`), then `render_digest` (every
figure of one day, the 14-day trend and the chart), the day's figures and `stats month`
reading the stored days. The month's figures must be the same whether read from stored days
or counted. The baseline, in the same run, is the figures of the ticket table computed by
loading every ticket's timestamps and durations into Python; it must find the same numbers,
for the day and for the month. Not a test.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import Engine, insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import postgres_database, record, size
from bot.core import metrics
from bot.jobs.figures_roll_up import roll_up_closed_days
from bot.read_models.digest_of_day import render_digest
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import (
    CsatSurvey,
    Customer,
    Message,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketTag,
)

TICKETS = size("BENCH_DIGEST_TICKETS", 1_000_000, 3_000)
BATCH = 10_000
ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 11, 14, 0, tzinfo=UTC)  # 09:00 or 10:00 in New York: digest time
YEAR = timedelta(days=365)
STALE = timedelta(days=14)
AGENTS = [f"U0AGENT{n}" for n in range(10)]
TAGS = ["refund", "shipping", "damaged", "order-status", "product-question", "returns"]


def ticket_rows(n: int, rng: random.Random) -> dict[str, list[dict]]:
    """One ticket and everything hanging off it, as rows per table."""
    created = NOW - YEAR * rng.random()
    ticket = {"id": n, "number": n, "subject": f"t{n}", "priority": "normal", "source": "email",
              "customer_id": 1, "channel": "C0", "reply_token": f"r{n}", "created_at": created,
              "assignee": rng.choice(AGENTS), "status": "open", "updated_at": created}  # fmt: skip
    rows: dict[str, list[dict]] = {"tickets": [ticket], "tags": [], "clocks": [], "csat": [],
                                   "events": [], "messages": []}  # fmt: skip
    if rng.random() < 0.7:
        rows["tags"].append({"ticket_id": n, "tag": rng.choice(TAGS)})
    responded = created + timedelta(seconds=rng.randint(60, 8 * 3600))
    if responded < NOW:
        wall = int((responded - created).total_seconds())
        agent = rng.choice(AGENTS)
        business = wall * 6 // 10
        ticket.update(first_response_at=responded, first_response_seconds=wall,
                      first_response_business_seconds=business, updated_at=responded)  # fmt: skip
        rows["events"].append({"ticket_id": n, "kind": "first_response", "actor": agent,
                               "data": {}, "created_at": responded})  # fmt: skip
        rows["messages"].append({"ticket_id": n, "direction": "outbound", "source": "email",
                                 "author": agent, "body": "…", "full_body": "…",
                                 "created_at": responded})  # fmt: skip
    solved = created + timedelta(seconds=rng.randint(3600, 3 * 86400))
    if responded < solved < NOW and rng.random() < 0.9:
        wall = int((solved - created).total_seconds())
        ticket.update(status="solved", solved_at=solved, resolution_seconds=wall,
                      resolution_business_seconds=wall * 4 // 10, updated_at=solved)  # fmt: skip
        rows["clocks"].append({"ticket_id": n, "kind": "resolution", "target_seconds": 86400,
                               "started_at": created, "stopped_at": solved,
                               "outcome": "met" if wall < 86400 else "breached"})  # fmt: skip
        if rng.random() < 0.3:
            rows["csat"].append({"ticket_id": n, "customer_id": 1, "sent_at": solved,
                                 "rating": rng.randint(1, 5), "answered_at": solved})  # fmt: skip
    elif NOW - created > STALE:
        # Closed unsolved after a fortnight, so the backlog stays the size of a real one.
        ticket.update(status="closed", updated_at=created + STALE)
        rows["events"].append({"ticket_id": n, "kind": "status_changed", "actor": "U0LEAD",
                               "data": {"old": "open", "new": "closed"},
                               "created_at": created + STALE})  # fmt: skip
    elif rng.random() < 0.3:
        ticket["status"] = "pending"
    return rows


TABLES = {"tickets": Ticket, "tags": TicketTag, "clocks": SlaClock, "csat": CsatSurvey,
          "events": TicketEvent, "messages": Message}  # fmt: skip


def seed(engine) -> None:
    rng = random.Random(42)
    with transaction(engine) as session:
        session.execute(
            insert(Customer), [{"email": "c@x.example", "name": "C", "created_at": NOW}]
        )
    for start in track(range(0, TICKETS, BATCH), description="seeding", transient=True):
        batch: dict[str, list[dict]] = {name: [] for name in TABLES}
        for n in range(start + 1, min(start + BATCH, TICKETS) + 1):
            for name, rows in ticket_rows(n, rng).items():
                batch[name].extend(rows)
        with transaction(engine) as session:
            for name, model in TABLES.items():
                if batch[name]:
                    session.execute(insert(model), batch[name])
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # as autovacuum would soon after such a load
            connection.exec_driver_sql("ANALYZE")


def timed(run) -> tuple[float, object]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def in_python(session: Session, *periods: metrics.Period) -> list[dict]:
    """The ticket-table figures of each period from every ticket loaded into Python, once:
    the baseline."""
    rows = session.execute(
        select(
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.first_response_business_seconds,
            Ticket.solved_at,
            Ticket.resolution_business_seconds,
        )
    ).all()

    def nearest_rank(values, p):
        return sorted(values)[(p * len(values) + 99) // 100 - 1] if values else None

    def figures(period: metrics.Period) -> dict:
        def within(moment):
            return moment is not None and period.start <= moment < period.end

        responses = [r.first_response_business_seconds for r in rows if within(r.first_response_at)]
        resolutions = [r.resolution_business_seconds for r in rows if within(r.solved_at)]
        return {
            "created": sum(1 for r in rows if within(r.created_at)),
            "solved": len(resolutions),
            "first response": [nearest_rank(responses, p) for p in metrics.PERCENTS],
            "resolution": [nearest_rank(resolutions, p) for p in metrics.PERCENTS],
        }

    return [figures(period) for period in periods]


def in_sql(report: metrics.Report) -> dict:
    def spread(s):
        return [s.median, s.p90]

    return {
        "created": report.created,
        "solved": report.solved,
        "first response": spread(report.first_response.business),
        "resolution": spread(report.resolution.business),
    }


@dataclass
class Timings:
    """Seconds; medians of 3 except the roll-up and the baseline (once each)."""

    month_counted: float
    roll_up: float
    digest: float
    figures: float
    month: float
    baseline: float


def measure(engine) -> Timings:
    day = metrics.Period.day(metrics.yesterday(NOW, ZONE), ZONE)
    month = metrics.recent_period("month", NOW.astimezone(ZONE).date(), ZONE)
    with Session(engine) as session:  # nothing stored yet: every day counted from the tickets
        counted = [timed(lambda: metrics.report(session, month, NOW)) for _ in range(3)]
    roll_up = timed(lambda: roll_up_closed_days(engine, ZONE.key, NOW))[0]
    digests, figures, months = [], [], []
    with Session(engine) as session:
        for _ in range(3):
            digests.append(timed(lambda: render_digest(session, day.last_day, ZONE))[0])
            seconds, report = timed(lambda: metrics.report(session, day, NOW))
            figures.append(seconds)
            seconds, month_report = timed(lambda: metrics.report(session, month, NOW))
            months.append(seconds)
        baseline, expected = timed(lambda: in_python(session, day, month))
    assert month_report == counted[0][1], "stored days and counting disagree"
    assert [in_sql(report), in_sql(month_report)] == expected, (report, month_report, expected)
    return Timings(
        month_counted=median(seconds for seconds, _ in counted),
        roll_up=roll_up,
        digest=median(digests),
        figures=median(figures),
        month=median(months),
        baseline=baseline,
    )


def databases(folder: str) -> Iterator[tuple[str, Engine]]:
    """Migrated, empty databases: SQLite in the folder, then a fresh PostgreSQL one if any."""
    yield from migrated("SQLite", f"sqlite:///{folder}/bench.db", lambda: None)
    try:
        url, drop = postgres_database()
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return
    yield from migrated("PostgreSQL", url, drop)


def migrated(name: str, url: str, cleanup: Callable[[], None]) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield name, engine
    finally:
        engine.dispose()
        cleanup()


def main() -> int:
    table = Table(title=f"Daily digest and stats: {TICKETS:,} tickets over a year")
    for column in (
        "database",
        "stats month counted",
        "roll-up, 30 days",
        "whole digest",
        "day's figures",
        "stats month stored",
        "baseline in Python",
        "speed-up",
    ):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as folder:
        for name, engine in databases(folder):
            seeded, _ = timed(lambda: seed(engine))  # noqa: B023 - called at once
            print(f"{name}: seeded in {seeded:.0f} s", file=sys.stderr)
            t = measure(engine)
            record(
                f"stats month, {TICKETS:,} tickets",
                name,
                f"{t.month * 1000:.0f} ms from stored days (whole digest {t.digest * 1000:.0f} ms)",
                f"{t.month_counted * 1000:.0f} ms counted from the tickets",
                f"{t.month / t.month_counted:.2f}x its time",
            )
            timings = (t.month_counted, t.roll_up, t.digest, t.figures, t.month, t.baseline)
            speed_up = f"{t.month_counted / t.month:.0f}x"
            table.add_row(name, *(f"{s * 1000:.0f} ms" for s in timings), speed_up)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
