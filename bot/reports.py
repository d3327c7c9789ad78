"""Terminal reports for the `helpdesk` command."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, select

from bot.config import Policy, Settings
from bot.core.sla import CLOCK_LABELS, SlaRules, time_left
from bot.storage.db import make_engine
from bot.storage.models import OutboxItem, SlaClock, Ticket, utcnow
from bot.storage.queries import ACTIVE
from bot.views.text import truncate
from bot.views.ticket_list import age

ERROR_SHOWN_LIMIT = 60


def sla_table(settings: Settings, policy: Policy) -> Table:
    rules = SlaRules.from_policy(policy)
    zone = ZoneInfo(policy.timezone)
    now = utcnow()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(SlaClock, Ticket)
                .join(Ticket, Ticket.id == SlaClock.ticket_id)
                .where(SlaClock.stopped_at.is_(None), Ticket.status.in_(ACTIVE))
            ).all()
    finally:
        engine.dispose()
    table = Table(title=f"SLA clocks of open tickets ({len(rows)}), times in {policy.timezone}")
    for column in ("ticket", "subject", "clock", "state", "business time left", "due"):
        table.add_column(column)
    rows = sorted(rows, key=lambda row: time_left(rules, row[0], now))
    for clock, ticket in rows:
        left = time_left(rules, clock, now)
        state = "breached" if clock.breached else "paused" if clock.due_at is None else "running"
        style = {"breached": "bold red", "paused": "dim"}.get(state, "green")
        due = clock.due_at.astimezone(zone).strftime("%a %d %b %H:%M") if clock.due_at else "-"
        table.add_row(
            f"#{ticket.number}",
            ticket.subject[:40],
            CLOCK_LABELS[clock.kind],
            f"[{style}]{state}",
            f"-{age(-left)}" if left.total_seconds() < 0 else age(left),
            due,
        )
    return table


def outbox_table(rows: list[tuple[OutboxItem, int | None]], now: datetime) -> Table:
    """Deliveries given up on or stuck, oldest first."""
    table = Table(title=f"Outbox rows failed or stuck ({len(rows)})")
    for column in ("id", "ticket", "kind", "status", "attempts", "last error", "age"):
        table.add_column(column, overflow="fold" if column == "last error" else "ellipsis")
    for row, ticket_number in rows:
        style = "bold red" if row.status == "failed" else "yellow"
        error = " ".join((row.last_error or "-").split())
        table.add_row(
            str(row.id),
            f"#{ticket_number}" if ticket_number else "-",
            row.kind,
            f"[{style}]{row.status}",
            str(row.attempts),
            escape(truncate(error, ERROR_SHOWN_LIMIT)),
            age(now - row.created_at),
        )
    return table
