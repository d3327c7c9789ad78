"""NPS surveys' scheduling: due `after` the ticket is solved, cancelled by reopening, at most
once per customer per `once_per`, never for a ticket that got a CSAT survey; answers and
the score they add up to.

The emails, pages and links over real HTTP and SMTP: tests/e2e/test_nps.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core import metrics, nps
from bot.core import outbox as kinds
from bot.core.rules import desk_for
from bot.storage.models import Customer, NpsState, NpsSurvey, TicketStatus
from tests.core.builders import CHANNEL, ON_BOTH_DATABASES, SUPPORT, email, policy

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
NPS = {"enabled": True, "after": "3d", "once_per": "90d"}


def at(time_machine, **after) -> datetime:
    time_machine.move_to(T0 + timedelta(**after), tick=False)
    return T0 + timedelta(**after)


def use(core, csat: bool = False, **nps_policy) -> None:
    rules = policy(nps={**NPS, **nps_policy})
    core.desk = desk_for(
        rules,
        support_channel=CHANNEL,
        support_address=SUPPORT,
        surveys=rules.csat if csat else None,
        nps=rules.nps,
    )


@pytest.fixture
def desk(core, time_machine):
    """NPS on (CSAT off), and Jane's ticket #1 opened at T0."""
    use(core)
    at(time_machine)
    core.receive(email())
    return core


def new_ticket(core, subject: str):
    core.receive(email(subject=subject))
    return core.ticket(max(core.tickets()))


def sweep(core, time_machine, **after) -> list[int | None]:
    """Runs the job at T0 + `after`; the tickets (by number) whose NPS email was enqueued."""
    now = at(time_machine, **after)
    core.outbox()  # what came before is not this sweep's
    nps.send_due(core.session, core.desk.nps, now)
    core.session.commit()
    return [number for kind, number in core.outbox() if kind == kinds.EMAIL_NPS]


def states(core) -> list[tuple[int, str]]:
    rows = core.session.exec(select(NpsSurvey).order_by(NpsSurvey.id))
    return [(survey.ticket_id, survey.state) for survey in rows]


@ON_BOTH_DATABASES  # the sweep locks rows
def test_a_solved_ticket_is_asked_once_after_the_configured_time(desk, time_machine):
    at(time_machine, hours=1)
    desk.set_status(desk.ticket(1), TicketStatus.SOLVED)
    assert states(desk) == [(1, NpsState.SCHEDULED)]

    assert sweep(desk, time_machine, days=3, minutes=59) == []
    assert sweep(desk, time_machine, days=3, hours=1) == [1]
    [survey] = desk.session.exec(select(NpsSurvey)).all()
    assert survey.state == NpsState.SENT and survey.sent_at == T0 + timedelta(days=3, hours=1)
    [row] = desk.outbox_rows(kinds.EMAIL_NPS)
    assert row.payload == {"survey": survey.id}
    # A second run, or another process's, sends nothing more.
    assert sweep(desk, time_machine, days=4) == []


def test_reopening_cancels_the_pending_survey_and_solving_again_schedules_anew(desk, time_machine):
    ticket = desk.ticket(1)
    desk.set_status(ticket, TicketStatus.SOLVED)
    at(time_machine, days=1)
    desk.set_status(ticket, TicketStatus.OPEN)
    assert states(desk) == [(1, NpsState.CANCELLED)]
    assert sweep(desk, time_machine, days=5) == []

    desk.set_status(ticket, TicketStatus.SOLVED)  # at T0 + 5 days: due at T0 + 8 days
    assert sweep(desk, time_machine, days=7) == []
    assert sweep(desk, time_machine, days=8) == [1]
    assert states(desk) == [(1, NpsState.CANCELLED), (1, NpsState.SENT)]

    # Reopening after the survey went out changes nothing: the customer has it.
    desk.set_status(ticket, TicketStatus.OPEN)
    assert states(desk)[-1] == (1, NpsState.SENT)


def test_a_ticket_closed_unresolved_or_made_pending_is_not_asked(desk, time_machine):
    ticket = desk.ticket(1)
    desk.set_status(ticket, TicketStatus.PENDING)
    assert states(desk) == []
    desk.set_status(ticket, TicketStatus.CLOSED)  # from pending: closed as resolved
    assert states(desk) == [(1, NpsState.SCHEDULED)]


def test_a_customer_is_asked_at_most_once_per_period(desk, time_machine):
    desk.set_status(desk.ticket(1), TicketStatus.SOLVED)
    assert sweep(desk, time_machine, days=3) == [1]

    at(time_machine, days=30)
    second = new_ticket(desk, "Another question")
    desk.set_status(second, TicketStatus.SOLVED)
    assert sweep(desk, time_machine, days=33) == []
    assert states(desk)[-1] == (second.id, NpsState.SKIPPED_RECENT)

    at(time_machine, days=90)
    third = new_ticket(desk, "A third question")
    desk.set_status(third, TicketStatus.SOLVED)
    assert sweep(desk, time_machine, days=93) == [third.number]


@ON_BOTH_DATABASES
def test_two_tickets_due_in_one_sweep_ask_once(desk, time_machine):
    desk.set_status(desk.ticket(1), TicketStatus.SOLVED)
    second = new_ticket(desk, "Another question")
    desk.set_status(second, TicketStatus.SOLVED)
    assert sweep(desk, time_machine, days=4) == [1]
    assert [state for _, state in states(desk)] == [NpsState.SENT, NpsState.SKIPPED_RECENT]


def test_a_ticket_that_got_a_csat_survey_is_not_asked_for_nps(core, time_machine):
    use(core, csat=True)
    at(time_machine)
    core.receive(email())
    core.set_status(core.ticket(1), TicketStatus.SOLVED)
    assert [kind for kind, _ in core.outbox()].count(kinds.EMAIL_SURVEY) == 1
    assert sweep(core, time_machine, days=3) == []
    assert states(core) == [(1, NpsState.SKIPPED_CSAT)]

    # Within CSAT's 30 days another ticket gets no CSAT survey, so it may get NPS.
    at(time_machine, days=10)
    second = new_ticket(core, "Another question")
    core.set_status(second, TicketStatus.SOLVED)
    assert kinds.EMAIL_SURVEY not in [kind for kind, _ in core.outbox()]
    assert sweep(core, time_machine, days=13) == [second.number]


def test_a_customer_erased_before_the_survey_was_due_is_not_asked(desk, time_machine):
    desk.set_status(desk.ticket(1), TicketStatus.SOLVED)
    desk.session.get(Customer, desk.ticket(1).customer_id).email = "erased-1@erased.invalid"
    desk.session.commit()
    assert sweep(desk, time_machine, days=3) == []
    assert states(desk) == [(1, NpsState.CANCELLED)]


def test_answers_change_the_score_and_a_repeat_changes_nothing(desk, time_machine):
    desk.set_status(desk.ticket(1), TicketStatus.SOLVED)
    sweep(desk, time_machine, days=3)
    [survey] = desk.session.exec(select(NpsSurvey)).all()
    first = at(time_machine, days=4)
    nps.record_answer(desk.session, survey, 3, "Slow answers", first)
    assert (survey.score, survey.comment, survey.answered_at) == (3, "Slow answers", first)

    nps.record_answer(desk.session, survey, 3, "", at(time_machine, days=5))
    assert survey.answered_at == first  # the same score again, no comment: nothing changes
    nps.record_answer(desk.session, survey, 9, "", at(time_machine, days=6))
    assert (survey.score, survey.comment) == (9, "Slow answers")  # a blank keeps the comment
    for outside in (-1, 11):
        with pytest.raises(ValueError, match="0 to 10"):
            nps.record_answer(desk.session, survey, outside, "", first)
    assert survey.score == 9


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], None),
        ([10, 9, 8, 7], 50),
        ([0, 6, 10], -33),
        ([7, 8], 0),
        ([0, 1, 2], -100),
    ],
)
def test_the_score_is_promoters_minus_detractors_in_percent(scores, expected):
    counts = {"promoters": 0, "passives": 0, "detractors": 0}
    for score in scores:
        counts[nps.kind_of(score)] += 1
    assert nps.Nps(**counts).score == expected


def test_the_report_counts_the_periods_answers_and_the_90_day_trend(desk, time_machine):
    """Answers by their answer time: the day's, and three 30-day windows before its end."""
    surveys = []
    for n in range(4):
        ticket = new_ticket(desk, f"Question {n}") if n else desk.ticket(1)
        surveys.append(NpsSurvey(ticket_id=ticket.id, customer_id=ticket.customer_id, due_at=T0))
    desk.session.add_all(surveys)
    desk.session.commit()
    day = (T0 + timedelta(days=100)).date()
    for survey, score, days_before in zip(surveys, (10, 2, 9, 7), (0, 0, 40, 80), strict=True):
        answered = datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=days_before)
        nps.record_answer(desk.session, survey, score, "", answered + timedelta(hours=12))
    desk.session.commit()
    at(time_machine, days=102)

    period = metrics.Period.day(day, ZoneInfo("UTC"))
    report = metrics.report(desk.session, period, T0 + timedelta(days=102))
    assert (report.nps.promoters, report.nps.passives, report.nps.detractors) == (1, 0, 1)
    assert report.nps.score == 0
    assert [w.answers for w in report.nps_trend] == [1, 1, 2]
    assert [w.score for w in report.nps_trend] == [0, 100, 0]
