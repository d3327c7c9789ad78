"""Status changes and the SLA clocks they pause, stop and resume, and the times they measure.

Times are set with time-machine, so a test neither sleeps nor depends on how fast it runs;
the sweep that announces due clocks through Slack is tests/e2e/test_sla.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core import outbox
from bot.storage.models import TicketStatus
from tests.core.builders import email, message_id_of, policy

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def at(time_machine, **after) -> None:
    time_machine.move_to(T0 + timedelta(**after), tick=False)


def test_pending_pauses_every_clock_and_reopening_resumes_them_where_they_stopped(
    core, time_machine
):
    at(time_machine)
    core.receive(email())
    core.outbox()
    ticket = core.ticket(1)
    at(time_machine, minutes=10)
    core.set_status(ticket, TicketStatus.PENDING)

    assert core.outbox() == [(outbox.SLACK_UPDATE_ROOT, 1)]
    for clock in core.clocks(ticket).values():
        assert (clock.running_since, clock.due_at, clock.consumed_seconds) == (None, None, 600)

    at(time_machine, hours=5)  # far past the first response's hour: paused, so not breached
    core.set_status(ticket, TicketStatus.OPEN)
    first = core.clocks(ticket)["first_response"]
    assert first.due_at == T0 + timedelta(hours=5, minutes=50)
    assert first.stopped_at is None and not first.breached


def test_a_customers_mail_reopens_a_pending_ticket_and_resumes_its_clocks(core, time_machine):
    at(time_machine)
    mail = email()
    core.receive(mail)
    ticket = core.ticket(1)
    core.set_status(ticket, TicketStatus.PENDING)
    core.outbox()
    at(time_machine, hours=1)
    core.receive(email("Any news?", in_reply_to=message_id_of(mail)))

    assert ticket.status == TicketStatus.OPEN
    assert core.outbox() == [(outbox.SLACK_UPDATE_ROOT, 1), (outbox.SLACK_POST_MESSAGE, 1)]
    assert core.clocks(ticket)["first_response"].due_at == T0 + timedelta(hours=2)


def test_solving_stops_the_clocks_and_measures_and_reopening_takes_the_resolution_up_again(
    core, time_machine
):
    at(time_machine)
    core.receive(email())
    ticket = core.ticket(1)
    at(time_machine, hours=3)
    core.set_status(ticket, TicketStatus.SOLVED)

    assert (ticket.solved_at, ticket.resolution_seconds) == (T0 + timedelta(hours=3), 10800)
    assert {kind: c.outcome for kind, c in core.clocks(ticket).items()} == {
        "first_response": "breached",  # three hours without an answer
        "resolution": "met",
    }

    at(time_machine, hours=4)
    core.set_status(ticket, TicketStatus.OPEN)
    resolution = core.clocks(ticket)["resolution"]
    assert ticket.solved_at is None
    assert (resolution.stopped_at, resolution.outcome, resolution.consumed_seconds) == (
        None,
        None,
        10800,
    )
    assert resolution.due_at == T0 + timedelta(hours=4) + timedelta(days=1, hours=-3)
    assert core.clocks(ticket)["first_response"].outcome == "breached"  # stays stopped

    at(time_machine, hours=6)
    core.set_status(ticket, TicketStatus.SOLVED)
    assert ticket.resolution_seconds == 21600  # measured from the ticket's creation


def test_closing_stops_every_clock(core, time_machine):
    at(time_machine)
    core.receive(email())
    ticket = core.ticket(1)
    core.outbox()
    at(time_machine, minutes=20)
    core.set_status(ticket, TicketStatus.CLOSED)

    assert core.outbox() == [(outbox.SLACK_UPDATE_ROOT, 1)]
    assert all(c.stopped_at == T0 + timedelta(minutes=20) for c in core.clocks(ticket).values())
    assert core.events(ticket)[-1] == "status_changed"


def test_clocks_and_measured_times_count_business_hours_only(core, time_machine):
    core.use(policy(business_hours={"mon-fri": "09:00-18:00"}))
    friday = datetime(2026, 3, 6, 17, 30, tzinfo=UTC)
    time_machine.move_to(friday, tick=False)
    core.receive(email())
    ticket = core.ticket(1)
    # Half an hour on Friday, the other half on Monday morning.
    assert core.clocks(ticket)["first_response"].due_at == datetime(2026, 3, 9, 9, 30, tzinfo=UTC)

    time_machine.move_to(datetime(2026, 3, 9, 10, 0, tzinfo=UTC), tick=False)
    core.set_status(ticket, TicketStatus.SOLVED)
    assert ticket.resolution_seconds == 232200  # 64.5 hours on the wall clock
    assert ticket.resolution_business_seconds == 5400  # 30 minutes Friday, an hour Monday
