"""Metrics for the terminal: `helpdesk export` rows and `helpdesk digest --dry-run` tables."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from rich.table import Table
from sqlalchemy import Select, func
from sqlmodel import Session, select

from bot.core.metrics import Report
from bot.storage.models import CsatSurvey, ShopAction, Ticket, TicketTag
from bot.views.digest import (
    backlog_text,
    csat_text,
    duration,
    nps_text,
    ratio_text,
    self_service_text,
    shop_text,
)
from bot.views.shop_actions import audit_text

EXPORT_BATCH = 1_000  # rows per fetch: memory stays flat however many tickets there are
TICKET_COLUMNS = (
    Ticket.number,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    Ticket.source,
    Ticket.assignee,
    Ticket.created_at,
    Ticket.first_response_at,
    Ticket.first_response_seconds,
    Ticket.first_response_business_seconds,
    Ticket.solved_at,
    Ticket.resolution_seconds,
    Ticket.resolution_business_seconds,
)
QUERY_FIELDS = (*(column.key for column in TICKET_COLUMNS), "tags", "csat_rating")
EXPORT_FIELDS = (*QUERY_FIELDS, "shop_actions")
SHOP_ACTIONS_ENDED = ("done", "failed", "declined", "expired")


def export_query(since: datetime) -> Select:
    """Tickets created since the instant, each with its tags and latest CSAT rating."""
    tags = (
        select(func.aggregate_strings(TicketTag.tag, " "))  # group_concat / string_agg
        .where(TicketTag.ticket_id == Ticket.id)
        .scalar_subquery()
    )
    rating = (
        select(CsatSurvey.rating)
        .where(CsatSurvey.ticket_id == Ticket.id, CsatSurvey.rating.is_not(None))
        .order_by(CsatSurvey.answered_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(*TICKET_COLUMNS, tags.label("tags"), rating.label("csat_rating"))
        .where(Ticket.created_at >= since)
        .order_by(Ticket.id)
    )


def count_since(session: Session, since: datetime) -> int:
    return session.execute(select(func.count()).where(Ticket.created_at >= since)).scalar_one()


def ticket_rows(session: Session, since: datetime) -> Iterator[dict[str, Any]]:
    actions = shop_actions_by_ticket(session, since)  # before the stream holds the session
    # yield_per streams: a server-side cursor on PostgreSQL, batched fetches on SQLite.
    result = session.execute(export_query(since).execution_options(yield_per=EXPORT_BATCH))
    for row in result:
        fields = {
            field: value.isoformat() if isinstance(value, datetime) else value
            for field, value in zip(QUERY_FIELDS, row, strict=True)
        }
        fields["shop_actions"] = "; ".join(actions.get(fields["number"], ())) or None
        yield fields


def shop_actions_by_ticket(session: Session, since: datetime) -> dict[int, list[str]]:
    """The ended shop actions of the tickets created since the instant, by ticket number,
    one line each (who did what, amounts, approver, Shopify's ids). Few beside the tickets,
    so read at once."""
    found: dict[int, list[str]] = {}
    rows = session.exec(
        select(ShopAction, Ticket.number)
        .join(Ticket, Ticket.id == ShopAction.ticket_id)
        .where(Ticket.created_at >= since, ShopAction.state.in_(SHOP_ACTIONS_ENDED))
        .order_by(ShopAction.id)
    )
    for action, number in rows:
        found.setdefault(number, []).append(audit_text(action))
    return found


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(rows)


def write_json(rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """One JSON array, written a row at a time."""
    out.write("[")
    for n, row in enumerate(rows):
        out.write(",\n" if n else "\n")
        out.write(json.dumps(row, ensure_ascii=False))
    out.write("\n]\n")


def report_tables(report: Report, title: str) -> list[Table]:
    summary = Table(title=title, show_header=False)
    for name, value in (
        ("created", str(report.created)),
        ("solved", str(report.solved)),
        ("still open", backlog_text(report)),
        *((f"  {label}", str(count)) for label, count in report.backlog.by_age),
        ("SLA met", ratio_text(report.sla, "clock", "stopped")),
        ("CSAT", csat_text(report)),
        ("NPS", nps_text(report.nps)),
        ("self-service", self_service_text(report.self_service)),
        ("busiest tags", ", ".join(f"{tag} ({n})" for tag, n in report.top_tags) or "-"),
        ("shop", shop_text(report)),
    ):
        summary.add_row(name, value)
    times = Table(title="Times (business hours; wall clock)")
    for column in ("", "tickets", "median", "90th percentile", "median wall", "90th wall"):
        times.add_column(column)
    for name, durations in (
        ("first response", report.first_response),
        ("resolution", report.resolution),
    ):
        business, wall = durations.business, durations.wall
        times.add_row(
            name,
            str(wall.count),
            duration(business.median),
            duration(business.p90),
            duration(wall.median),
            duration(wall.p90),
        )
    agents = Table(title="Per agent")
    for column in ("agent", "replies", "first responses", "median first response", "solved"):
        agents.add_column(column)
    for figures in report.agents:
        agents.add_row(
            figures.agent,
            str(figures.replies),
            str(figures.first_responses),
            duration(figures.median_first_response),
            str(figures.solved),
        )
    return [summary, times, agents]
