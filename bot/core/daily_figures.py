"""Closed days' figures kept in `daily_figures`, and forgetting the days a change touches.

`bot/core/metrics.py` counts a local day's figures in a form that adds up over days; once a
day has ended `SETTLED` ago, `bot/jobs/figures_roll_up.py` stores them, so stats over a month
read 30 rows instead of a month of tickets. They stay exact because any flush that changes
what a stored day counted deletes that day's row in the same transaction (the hook below),
whichever code made the change: reopening an old ticket (its `solved_at` cleared), a survey
answered again, tags changed, a solved ticket reassigned, a row written with an old instant.

Changes to instants less than `SETTLED` old cost nothing: no stored day holds them (days are
stored only once they ended `SETTLED` ago, and no transaction lasts that long, so a change
then being committed is seen by whoever counts the day). A change to an older instant also
bumps a counter, which the store checks under its row lock, so figures counted before that
change committed are not stored after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, inspect, or_, update
from sqlalchemy import event as sa_event
from sqlmodel import Session, select

from bot.storage.models import (
    Counter,
    CsatSurvey,
    DailyFigures,
    Message,
    NpsSurvey,
    SelfServiceSession,
    ShopAction,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketTag,
    utcnow,
)

SETTLED = timedelta(hours=1)
CHANGES = "daily_figures_changes"  # the counter's row, added by migration 0017

# Per table, each column a figure reads (docs/metrics.md) and the column with the instant
# that places the row in a day.
_PLACED_BY: dict[type, dict[str, str]] = {
    Ticket: {
        "created_at": "created_at",
        "first_response_at": "first_response_at",
        "first_response_seconds": "first_response_at",
        "first_response_business_seconds": "first_response_at",
        "solved_at": "solved_at",
        "resolution_seconds": "solved_at",
        "resolution_business_seconds": "solved_at",
        "assignee": "solved_at",  # tickets solved, per agent
    },
    SlaClock: {"stopped_at": "stopped_at", "outcome": "stopped_at"},
    CsatSurvey: {"answered_at": "answered_at", "rating": "answered_at"},
    NpsSurvey: {"answered_at": "answered_at", "score": "answered_at"},
    Message: {"created_at": "created_at", "direction": "created_at", "author": "created_at"},
    ShopAction: {"finished_at": "finished_at", "state": "finished_at", "result": "finished_at"},
    # A visitor who writes after all is no longer a deflection (bot/core/self_service.py).
    SelfServiceSession: {"deflected_at": "deflected_at"},
}


def stored(session: Session, zone: str, first: date, last: date) -> dict[date, dict]:
    rows = session.exec(
        select(DailyFigures.day, DailyFigures.figures).where(
            DailyFigures.zone == zone, DailyFigures.day >= first, DailyFigures.day <= last
        )
    )
    return dict(rows.all())


def changes(session: Session) -> int:
    """Read before counting days to keep, and handed to `keep`."""
    return session.exec(select(Counter.value).where(Counter.name == CHANGES)).one()


def keep(session: Session, days: Iterable[DailyFigures], changes_seen: int) -> int:
    """Stores the days not stored yet, unless an old instant changed since `changes_seen` was
    read (then they may miss it: nothing is stored, and the next roll-up counts again).
    Returns how many were stored."""
    current = session.exec(
        select(Counter.value).where(Counter.name == CHANGES).with_for_update()
    ).one()
    if current != changes_seen:
        return 0
    days = list(days)
    already = {
        (zone, day)
        for zone, day in session.exec(
            select(DailyFigures.zone, DailyFigures.day).where(
                DailyFigures.zone.in_({d.zone for d in days}),
                DailyFigures.day.in_({d.day for d in days}),
            )
        )
    }
    fresh = [d for d in days if (d.zone, d.day) not in already]
    session.add_all(fresh)
    return len(fresh)


@sa_event.listens_for(Session, "before_flush")
def _forget_changed_days(session: Session, _context, _instances) -> None:
    settled = utcnow() - SETTLED
    with session.no_autoflush:
        instants = {
            instant
            for row in (*session.new, *session.dirty, *session.deleted)
            for instant in _instants(session, row)
            if instant is not None and instant < settled
        }
    if instants:
        connection = session.connection()
        connection.execute(
            update(Counter).where(Counter.name == CHANGES).values(value=Counter.value + 1)
        )
        connection.execute(
            delete(DailyFigures).where(
                or_(
                    *(and_(DailyFigures.starts_at <= x, DailyFigures.ends_at > x) for x in instants)
                )
            )
        )


def _instants(session: Session, row) -> set[datetime | None]:
    """The instants, before and after this flush, at which `row` counts in a figure that
    the flush changes; none for rows no figure reads."""
    if isinstance(row, TicketTag):  # tags count on the day their ticket was created
        return {_ticket_instant(session, row, "created_at")}
    if isinstance(row, TicketEvent):  # first responses per agent, on that response's day
        return (
            {_ticket_instant(session, row, "first_response_at")}
            if row.kind == "first_response"
            else set()
        )
    placed_by = _PLACED_BY.get(type(row))
    if placed_by is None:
        return set()
    state = inspect(row)
    if not state.persistent or row in session.deleted:
        return {getattr(row, column) for column in placed_by.values()}
    found: set[datetime | None] = set()
    for column in {placed_by[c] for c in placed_by if state.attrs[c].history.has_changes()}:
        found.update(state.attrs[column].history.deleted)
        found.add(getattr(row, column))
    return found


def _ticket_instant(session: Session, row: TicketTag | TicketEvent, column: str):
    return getattr(session.get(Ticket, row.ticket_id), column)
