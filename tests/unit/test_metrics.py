"""Every figure of the metrics, on a hand-built dataset, on SQLite and PostgreSQL.

The day under test is Tuesday 10 March 2026 in New York (EDT since the 8th): from
04:00 UTC that day to 04:00 UTC the next, so a ticket at 23:59 local on the 9th is stored
on the 10th in UTC and must not count. Expected values are worked out by hand in the
comments; percentiles are nearest-rank (see docs/metrics.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.core import metrics
from bot.core.metrics import AgentFigures, Backlog, Csat, Period, Ratio, Spread
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import (
    CsatSurvey,
    Customer,
    Direction,
    Message,
    SlaClock,
    Source,
    Ticket,
    TicketEvent,
    TicketTag,
)

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 3, 10)
A1, A2 = "U0AGENT1", "U0AGENT2"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZONE)


class Seeder:
    def __init__(self, session: Session):
        self.session = session
        self.customer = Customer(email="jane@customer.example")
        session.add(self.customer)
        session.flush()
        self.numbers = 0

    def ticket(self, created: datetime, status: str = "open", **fields) -> Ticket:
        self.numbers += 1
        tags = fields.pop("tags", ())
        ticket = Ticket(
            number=self.numbers,
            subject=f"ticket {self.numbers}",
            status=status,
            customer_id=self.customer.id,
            channel="C0SUPPORT",
            reply_token=f"token{self.numbers}",
            created_at=created,
            updated_at=fields.pop("updated", created),
            **fields,
        )
        self.session.add(ticket)
        self.session.flush()
        self.session.add_all(TicketTag(ticket_id=ticket.id, tag=tag) for tag in tags)
        return ticket

    def responded(self, ticket: Ticket, agent: str, at: datetime, business: int) -> None:
        ticket.first_response_at = at
        ticket.first_response_seconds = int((at - ticket.created_at).total_seconds())
        ticket.first_response_business_seconds = business
        self.event(ticket, "first_response", agent, at)
        self.reply(ticket, agent, at)

    def solved(self, ticket: Ticket, at: datetime, business: int) -> None:
        ticket.solved_at = at
        ticket.resolution_seconds = int((at - ticket.created_at).total_seconds())
        ticket.resolution_business_seconds = business
        self.status(ticket, "open", "solved", at)

    def status(self, ticket: Ticket, old: str, new: str, at: datetime) -> None:
        self.event(ticket, "status_changed", A1, at, old=old, new=new)

    def event(self, ticket: Ticket, kind: str, actor: str, at: datetime, **data) -> None:
        self.session.add(
            TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, data=data, created_at=at)
        )

    def reply(self, ticket: Ticket, agent: str, at: datetime, direction=Direction.OUTBOUND):
        self.session.add(
            Message(ticket_id=ticket.id, direction=direction, source=Source.EMAIL,
                    author=agent, body="…", created_at=at)
        )  # fmt: skip

    def clock(self, ticket: Ticket, kind: str, stopped: datetime | None, outcome: str | None):
        self.session.add(
            SlaClock(ticket_id=ticket.id, kind=kind, target_seconds=3600,
                     started_at=ticket.created_at, stopped_at=stopped, outcome=outcome)
        )  # fmt: skip

    def survey(self, ticket: Ticket, rating: int | None, answered: datetime | None) -> None:
        self.session.add(
            CsatSurvey(ticket_id=ticket.id, customer_id=self.customer.id,
                       sent_at=ticket.created_at, rating=rating, answered_at=answered)
        )  # fmt: skip


def seed(session: Session) -> None:
    s = Seeder(session)
    t1 = s.ticket(local(10, 9), "solved", assignee=A1, tags=["refund", "shipping"],
                  updated=local(10, 11))  # fmt: skip
    s.responded(t1, A1, local(10, 9, 30), business=1800)
    s.solved(t1, local(10, 11), business=7200)
    s.clock(t1, "first_response", local(10, 9, 30), "met")
    s.clock(t1, "resolution", local(10, 11), "met")
    s.survey(t1, 5, local(10, 12))

    t2 = s.ticket(local(10, 10), "pending", assignee=A2, tags=["refund"], updated=local(10, 15))
    s.responded(t2, A2, local(10, 12), business=7200)
    s.status(t2, "open", "pending", local(10, 12))
    s.reply(t2, A1, local(10, 15))
    s.reply(t2, A1, local(10, 16), direction=Direction.NOTE)  # a note is not a reply
    s.survey(t2, None, None)  # sent, never answered

    t3 = s.ticket(local(10, 23, 30), tags=["damaged"])  # 03:30 UTC on the 11th: still the 10th
    s.clock(t3, "first_response", None, None)  # running

    # 23:59 local on the 9th (03:59 UTC on the 10th): created the day before.
    t4 = s.ticket(local(9, 23, 59), "solved", assignee=A1, tags=["refund"], updated=local(10, 16))
    s.responded(t4, A2, local(10, 8), business=3600)  # wall 8h01m = 28,860 s
    s.solved(t4, local(10, 16), business=25200)  # wall 16h01m = 57,660 s
    s.clock(t4, "first_response", local(10, 8), "breached")
    s.clock(t4, "resolution", local(10, 16), "met")
    s.survey(t4, 3, local(10, 18))

    t5 = s.ticket(local(1, 9))  # open for ten days
    s.survey(t5, 1, local(11, 9))  # answered after the day

    t6 = s.ticket(local(8, 12), "pending", updated=local(9, 10))  # on the 23-hour DST day
    s.status(t6, "open", "pending", local(9, 10))
    s.clock(t6, "first_response", local(9, 10), "breached")  # stopped the day before

    # Solved at 20:00 on the 10th, reopened the next morning: the reopening cleared solved_at,
    # so it is not counted solved, but at the end of the 10th it was not in the backlog.
    t7 = s.ticket(local(5, 9), "open", updated=local(11, 10))
    s.status(t7, "open", "solved", local(10, 20))
    s.status(t7, "solved", "open", local(11, 10))
    s.survey(t7, 4, local(10, 21))

    t8 = s.ticket(local(10, 13), "closed", updated=local(10, 14))  # closed without solving
    s.responded(t8, A1, local(10, 13, 10), business=600)
    s.status(t8, "open", "closed", local(10, 14))
    s.clock(t8, "first_response", local(10, 13, 10), "met")

    s.ticket(local(11, 10), tags=["refund"])  # the next day: counted nowhere

    # Pending at the end of the 10th, open again since the 11th.
    t10 = s.ticket(local(9, 9), "open", updated=local(11, 9))
    s.reply(t10, A2, local(9, 11))  # a reply the day before
    s.status(t10, "open", "pending", local(9, 12))
    s.status(t10, "pending", "open", local(11, 9))

    s.ticket(local(8, 23, 30), "closed", updated=local(8, 23, 45))  # 03:30 UTC on the 9th


@pytest.fixture
def session(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    with transaction(engine) as setup:
        seed(setup)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_period_is_local_days_as_utc_instants():
    period = Period.day(DAY, ZONE)
    assert period.start.isoformat() == "2026-03-10T04:00:00+00:00"
    assert period.end.isoformat() == "2026-03-11T04:00:00+00:00"
    dst_day = Period.day(date(2026, 3, 8), ZONE)
    assert dst_day.end - dst_day.start == timedelta(hours=23)


def test_every_figure_of_a_day(session):
    report = metrics.report(session, Period.day(DAY, ZONE), now=local(12, 9))
    assert report.as_of == local(11, 0)
    assert (report.created, report.solved) == (4, 2)  # t1 t2 t3 t8; t1 t4
    # Business 600 1800 3600 7200: median rank ceil(2) = 2, p90 rank ceil(3.6) = 4.
    assert report.first_response.business == Spread(4, 1800, 7200)
    assert report.first_response.wall == Spread(4, 1800, 28860)  # 600 1800 7200 28860
    # Two values: median rank ceil(1) = 1, p90 rank ceil(1.8) = 2.
    assert report.resolution.business == Spread(2, 7200, 25200)
    assert report.resolution.wall == Spread(2, 7200, 57660)
    # Open t3 t5; pending t2 t6 t10 (t10 reopened only later, t7 was solved at the time).
    assert report.backlog == Backlog(
        open=2,
        pending=3,
        by_age=(("under 1 day", 2), ("1-3 days", 2), ("3-7 days", 0), ("over 7 days", 1)),
    )
    assert report.sla == Ratio(4, 5)  # t1 x2, t4 resolution, t8 met; t4 first response missed
    assert report.csat == Csat(Ratio(2, 3), 4.0)  # 5, 3 and 4; t2 unanswered, t5 the day after
    assert report.top_tags == (("refund", 2), ("damaged", 1), ("shipping", 1))
    assert report.agents == (
        AgentFigures(A1, replies=3, first_responses=2, median_first_response=600, solved=2),
        AgentFigures(A2, replies=2, first_responses=2, median_first_response=3600, solved=0),
    )
    assert not report.quiet


def test_an_empty_day_has_zeros_and_no_averages(session):
    report = metrics.report(session, Period.day(date(2026, 2, 26), ZONE), now=local(12, 9))
    assert (report.created, report.solved, report.backlog.total) == (0, 0, 0)
    assert report.first_response.business == Spread(0, None, None)
    assert report.sla.share is None and report.csat.average is None
    assert report.top_tags == () and report.agents == ()
    assert report.quiet


def test_a_period_still_running_counts_the_backlog_now(session):
    now = local(11, 11)
    report = metrics.report(session, Period.day(date(2026, 3, 11), ZONE), now=now)
    assert report.as_of == now
    # t7 and t10 reopened this morning and the 11th's new ticket: open t3 t5 t7 t9 t10.
    assert (report.backlog.open, report.backlog.pending) == (5, 2)
    assert report.created == 1


def test_a_week(session):
    report = metrics.report(session, Period(date(2026, 3, 4), DAY, ZONE), now=local(12, 9))
    assert report.created == 9  # t7 (5th), t6 and the closed one (8th), t4 t10 (9th), four
    assert report.sla == Ratio(4, 6)


def test_trend_of_fourteen_local_days(session):
    days = metrics.trend(session, DAY, ZONE)
    assert (days[0].day, days[-1].day, len(days)) == (date(2026, 2, 25), DAY, 14)
    by_day = {d.day.day: (d.created, d.solved, d.median_first_response) for d in days}
    assert by_day[10] == (4, 2, 1800)
    assert by_day[9] == (2, 0, None)
    assert by_day[8] == (2, 0, None)  # the DST day: 12:00 and 23:30 local
    assert by_day[5] == (1, 0, None) and by_day[1] == (1, 0, None)
    assert by_day[26] == (0, 0, None)
