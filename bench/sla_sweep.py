"""One SLA sweep over 100,000 open tickets of which 100 are due, on SQLite and PostgreSQL.

Beside it, in the same run, the baseline a sweep without the indexes would be: loading every
running clock and checking it in Python. Prints one table. Not a test: it measures, and
checks only that the baseline finds the 100 due and that each sweep announces each of them
once (else it exits 1).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from statistics import median

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import both_databases, record, size, verdict
from bot.config import Policy
from bot.core.sla import SlaRules
from bot.core.sla_sweep import sweep
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import Customer, SlaClock, Ticket, utcnow

OPEN_TICKETS = size("BENCH_TICKETS", 100_000, 2_000)
DUE = 100
BATCH = 5_000


def seed(engine) -> None:
    now = utcnow()
    with transaction(engine) as session:
        session.execute(
            insert(Customer), [{"email": "c@x.example", "name": "C", "created_at": now}]
        )
    for start in track(range(0, OPEN_TICKETS, BATCH), description="seeding", transient=True):
        rows = range(start, min(start + BATCH, OPEN_TICKETS))
        with transaction(engine) as session:
            session.execute(
                insert(Ticket),
                [
                    {"number": n + 1, "subject": f"t{n}", "status": "open", "priority": "normal",
                     "source": "email", "customer_id": 1, "channel": "C0", "reply_token": f"r{n}",
                     "created_at": now, "updated_at": now}
                    for n in rows
                ],
            )  # fmt: skip
            session.execute(
                insert(SlaClock),
                [
                    {"ticket_id": n + 1, "kind": "first_response", "target_seconds": 3600,
                     "consumed_seconds": 0, "started_at": now, "running_since": now,
                     # The first DUE tickets are past both marks; the rest are hours away.
                     "due_at": now - timedelta(minutes=1) if n < DUE else now + timedelta(hours=4),
                     "warn_at": now - timedelta(minutes=2) if n < DUE else now + timedelta(hours=3),
                     "warned": False, "breached": False}
                    for n in rows
                ],
            )  # fmt: skip


def measure(engine, rules) -> tuple[float, float, list[int]]:
    """(indexed sweep seconds, full-scan baseline seconds, alerts sent by each repetition)."""
    with Session(engine) as session:
        started = time.perf_counter()
        now = utcnow()
        running = session.exec(select(SlaClock).where(SlaClock.due_at.is_not(None))).all()
        due = [c for c in running if c.due_at <= now or c.warn_at <= now]
        baseline = time.perf_counter() - started
    assert len(due) == DUE
    timings = []
    sent = []
    for _ in range(3):
        with Session(engine) as session:
            started = time.perf_counter()
            result = sweep(session, rules, utcnow(), "C0ESC")
            session.flush()
            timings.append(time.perf_counter() - started)
            sent.append(result.breaches + result.warnings)
            session.rollback()  # the same 100 are due again for the next repetition
    return median(timings), baseline, sent


def main() -> int:
    rules = SlaRules.from_policy(Policy())
    table = Table(title=f"SLA sweep: {OPEN_TICKETS:,} open tickets, {DUE} due")
    for column in ("database", "indexed sweep (median of 3)", "full scan baseline", "speed-up"):
        table.add_column(column)
    problems = []
    with tempfile.TemporaryDirectory() as folder:
        for name, url, cleanup in both_databases(folder):
            engine = make_engine(url)
            try:
                upgrade(engine)
                seed(engine)
                swept, baseline, sent = measure(engine, rules)
                if sent != [DUE] * len(sent):  # past both marks: its breach alone, once
                    problems.append(f"{name}: the sweeps sent {sent} alerts, not {DUE} each")
                record(
                    f"SLA sweep, {OPEN_TICKETS:,} open tickets",
                    name,
                    f"{swept * 1000:.0f} ms",
                    f"{baseline * 1000:.0f} ms loading every clock",
                    f"{swept / baseline:.2f}x its time",
                )
                table.add_row(
                    f"{name} ({sent[-1]} alerts)",
                    f"{swept * 1000:.1f} ms",
                    f"{baseline * 1000:.0f} ms",
                    f"{baseline / swept:.1f}x",
                )
            finally:
                engine.dispose()
                cleanup()
    Console().print(table)
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
