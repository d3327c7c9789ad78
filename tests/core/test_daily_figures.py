"""Closed days' figures stored once and read back: the same figures as counting the tickets,
and a change to anything a stored day counted forgets that day in the same transaction.

The dataset is tests/unit/test_metrics.py's hand-built March 2026 in New York, where each
figure is worked out by hand; here it is rolled up as of 09:00 on the 12th.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.core import daily_figures, metrics
from bot.core.csat import record_rating
from bot.core.metrics import Period
from bot.core.tickets import assign, set_status, set_tags
from bot.jobs.figures_roll_up import roll_up_closed_days
from bot.storage.models import CsatSurvey, DailyFigures, Ticket, TicketStatus, utcnow
from tests.core.builders import AGENT, ON_BOTH_DATABASES, email
from tests.unit.test_metrics import A2, DAY, ZONE, local, seed

NOW = local(12, 9)
PERIODS = [
    Period.day(DAY, ZONE),
    Period(DAY - timedelta(days=6), DAY, ZONE),
    metrics.recent_period("month", date(2026, 3, 12), ZONE),  # today's the 12th, counted live
]


@pytest.fixture
def seeded(core):
    seed(core.session)
    core.session.commit()
    return core


def roll_up(core, now=NOW) -> int:
    core.session.commit()  # the session's transaction would hold SQLite's write lock
    return roll_up_closed_days(core.engine, ZONE.key, now)


def reports(core) -> list[metrics.Report]:
    return [metrics.report(core.session, period, NOW) for period in PERIODS]


def stored_days(core) -> set[date]:
    core.session.commit()  # a fresh look
    return set(core.session.exec(select(DailyFigures.day)))


def ticket(core, number: int) -> Ticket:
    return core.session.exec(select(Ticket).where(Ticket.number == number)).one()


@ON_BOTH_DATABASES
def test_stored_days_give_the_figures_counted_from_the_tickets(seeded):
    counted = reports(seeded)
    trend = metrics.trend(seeded.session, DAY, ZONE)

    assert roll_up(seeded) == metrics.ROLLED_UP_DAYS
    assert max(stored_days(seeded)) == date(2026, 3, 11)
    assert reports(seeded) == counted
    assert metrics.trend(seeded.session, DAY, ZONE) == trend
    assert roll_up(seeded) == 0  # nothing left to store

    # And the stored rows are what is read: a day's row altered behind the helpdesk's back.
    seeded.session.execute(
        text("UPDATE daily_figures SET figures = :figures WHERE day = :day"),
        {"figures": '{"created": 41}', "day": DAY},
    )
    assert metrics.report(seeded.session, PERIODS[0], NOW).created == 41
    assert metrics.report(seeded.session, PERIODS[1], NOW).created == counted[1].created + 37


def test_a_day_is_stored_only_once_it_ended_an_hour_ago(seeded):
    roll_up(seeded, local(11, 0, 30))
    assert max(stored_days(seeded)) == date(2026, 3, 9)
    roll_up(seeded, local(11, 1, 0))
    assert max(stored_days(seeded)) == DAY


def reopen(core):  # t1, solved on the 10th: no longer counted solved there, its clock resumes
    set_status(core.session, core.desk, ticket(core, 1), TicketStatus.OPEN, actor=AGENT.user_id)


def close_unresolved(core):  # t1, solved on the 10th, closed as spam: not solved after all
    set_status(
        core.session, core.desk, ticket(core, 1), TicketStatus.CLOSED, actor=AGENT.user_id,
        resolving=False,
    )  # fmt: skip


def retag(core):  # t1 was created on the 10th, where its tags count
    set_tags(core.session, ticket(core, 1), ["returns"], actor=AGENT.user_id)


def answer_again(core):  # t1's survey, answered on the 10th, answered again today
    survey = core.session.exec(select(CsatSurvey).where(CsatSurvey.rating == 5)).one()
    record_rating(core.session, survey, 1, NOW + timedelta(days=300))


def reassign(core):  # t4, solved on the 10th, was A1's: now A2's
    assign(core.session, ticket(core, 4), A2, actor=AGENT.user_id)


@pytest.mark.parametrize("change", [reopen, close_unresolved, retag, answer_again, reassign])
def test_a_change_to_what_a_stored_day_counted_forgets_that_day(seeded, change):
    roll_up(seeded)
    stored = stored_days(seeded)
    before = metrics.report(seeded.session, PERIODS[0], NOW)

    change(seeded)
    seeded.session.commit()

    assert stored_days(seeded) == stored - {DAY}
    after = metrics.report(seeded.session, PERIODS[0], NOW)
    assert after != before
    # The day is counted from the tickets until the next roll-up stores it again.
    assert roll_up(seeded) == 1
    assert metrics.report(seeded.session, PERIODS[0], NOW) == after


@ON_BOTH_DATABASES
def test_days_counted_before_a_change_to_them_are_not_stored_after_it(seeded):
    seen = daily_figures.changes(seeded.session)
    counted = metrics.closed_days_to_keep(seeded.session, ZONE, NOW)
    reopen(seeded)  # committed meanwhile, by another request
    seeded.session.commit()

    assert daily_figures.keep(seeded.session, counted, seen) == 0
    seeded.session.commit()
    assert stored_days(seeded) == set()
    assert roll_up(seeded) == metrics.ROLLED_UP_DAYS


def test_todays_work_costs_the_stored_days_nothing(core):
    assert roll_up(core, utcnow()) == metrics.ROLLED_UP_DAYS
    seen = daily_figures.changes(core.session)

    core.receive(email())
    core.reply(core.ticket(1), "It ships today.")
    core.set_status(core.ticket(1), TicketStatus.SOLVED)

    assert daily_figures.changes(core.session) == seen
    assert len(stored_days(core)) == metrics.ROLLED_UP_DAYS
