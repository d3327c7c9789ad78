"""Closing resolves unless told not to, solving or closing ends an escalation, and a snoozed
ticket ("Pending until…") reopens by itself at its time, or when the customer writes first.

The Slack side of each (the root's controls, the modal, the tier post): tests/e2e/
test_status_semantics.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core import outbox
from bot.core.escalation import current_escalation
from bot.core.rules import desk_for
from bot.core.snooze import SnoozeRefused, snooze, wake_due
from bot.core.tickets import set_status
from bot.storage.models import TicketEvent, TicketStatus
from tests.core.builders import AGENT, CHANNEL, SUPPORT, email, message_id_of, policy

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
TIERS = [{"name": "Tier 2", "channel": "C0TIER2"}]


def at(time_machine, **after) -> datetime:
    time_machine.move_to(T0 + timedelta(**after), tick=False)
    return T0 + timedelta(**after)


@pytest.fixture
def surveyed(core, time_machine):
    """A desk with surveys on, and one ticket opened at T0."""
    rules = policy(escalation={"tiers": TIERS})
    core.desk = desk_for(
        rules, support_channel=CHANNEL, support_address=SUPPORT, surveys=rules.csat
    )
    at(time_machine)
    core.receive(email())
    core.outbox()
    return core.ticket(1)


def close(core, ticket, resolving: bool = True) -> None:
    set_status(
        core.session, core.desk, ticket, TicketStatus.CLOSED, actor=AGENT.user_id,
        resolving=resolving,
    )  # fmt: skip
    core.session.commit()


def last_events(core, ticket, count: int) -> list[TicketEvent]:
    rows = core.session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
    )
    return list(rows)[-count:]


def test_closing_an_unsolved_ticket_resolves_it_and_offers_the_survey(core, surveyed, time_machine):
    at(time_machine, hours=2)
    close(core, surveyed)

    assert surveyed.solved_at == T0 + timedelta(hours=2)
    assert (surveyed.resolution_seconds, surveyed.resolution_business_seconds) == (7200, 7200)
    assert outbox.EMAIL_SURVEY in [kind for kind, _ in core.outbox()]
    assert core.clocks(surveyed)["resolution"].outcome == "met"


def test_closing_a_solved_ticket_keeps_its_solve_and_surveys_once(core, surveyed, time_machine):
    at(time_machine, hours=1)
    core.set_status(surveyed, TicketStatus.SOLVED)
    at(time_machine, hours=5)
    close(core, surveyed)

    assert surveyed.solved_at == T0 + timedelta(hours=1) and surveyed.resolution_seconds == 3600
    assert [kind for kind, _ in core.outbox()].count(outbox.EMAIL_SURVEY) == 1


def test_closing_without_resolving_counts_nowhere_and_sends_no_survey(core, surveyed, time_machine):
    at(time_machine, hours=1)
    core.set_status(surveyed, TicketStatus.SOLVED)  # then found to be spam
    core.outbox()
    close(core, surveyed, resolving=False)

    assert surveyed.status == TicketStatus.CLOSED
    assert (surveyed.solved_at, surveyed.resolution_seconds) == (None, None)
    assert outbox.EMAIL_SURVEY not in [kind for kind, _ in core.outbox()]
    [last] = last_events(core, surveyed, 1)
    assert (last.kind, last.data["reason"]) == ("status_changed", "closed without resolving")


def test_reopening_a_closed_ticket_takes_its_solve_back(core, surveyed, time_machine):
    close(core, surveyed)
    core.set_status(surveyed, TicketStatus.OPEN)
    assert surveyed.solved_at is None and surveyed.pending_until is None


@pytest.mark.parametrize("status", [TicketStatus.SOLVED, TicketStatus.CLOSED])
def test_solving_or_closing_ends_the_escalation_with_an_event(core, surveyed, status):
    escalation = core.escalate(surveyed)
    core.outbox()
    core.set_status(surveyed, status)

    assert current_escalation(core.session, surveyed.id) is None
    assert escalation.resolved_by == AGENT.user_id
    kinds = [kind for kind, _ in core.outbox()]
    assert outbox.SLACK_UPDATE_ESCALATION in kinds and outbox.SLACK_UPDATE_ROOT in kinds
    assert "escalation_ended" in core.events(surveyed)


def test_a_snoozed_ticket_waits_with_its_clocks_paused_then_reopens_on_time(
    core, surveyed, time_machine
):
    at(time_machine, minutes=10)
    until = T0 + timedelta(days=1)
    snooze(core.session, core.desk, surveyed, until, actor=AGENT.user_id, now=T0)
    core.session.commit()
    assert (surveyed.status, surveyed.pending_until) == (TicketStatus.PENDING, until)
    assert all(c.running_since is None for c in core.clocks(surveyed).values())
    assert (outbox.THREAD_NOTICE, 1) in core.outbox()

    assert wake_due(core.session, core.desk, until - timedelta(seconds=1)) == 0
    now = at(time_machine, days=1, minutes=1)
    assert wake_due(core.session, core.desk, now) == 1
    assert wake_due(core.session, core.desk, now) == 0  # once
    core.session.commit()

    assert (surveyed.status, surveyed.pending_until) == (TicketStatus.OPEN, None)
    first = core.clocks(surveyed)["first_response"]
    assert first.running_since == now and first.consumed_seconds == 600
    notices = core.outbox_rows(outbox.THREAD_NOTICE)
    assert notices[-1].payload == {"notice": "snooze_ended", "until": int(until.timestamp())}
    snoozed, woke = last_events(core, surveyed, 2)
    assert (snoozed.kind, snoozed.data["until"]) == ("snoozed", until.isoformat())
    assert (woke.kind, woke.data["reason"], woke.actor) == (
        "status_changed",
        "snooze ended",
        "helpdesk",
    )


def test_the_customer_writing_first_ends_the_snooze_at_once(core, time_machine):
    at(time_machine)
    mail = email()
    core.receive(mail)
    ticket = core.ticket(1)
    snooze(core.session, core.desk, ticket, T0 + timedelta(days=3), actor=AGENT.user_id, now=T0)
    core.session.commit()
    at(time_machine, hours=1)
    core.receive(email("Any news?", in_reply_to=message_id_of(mail)))

    assert (ticket.status, ticket.pending_until) == (TicketStatus.OPEN, None)
    assert wake_due(core.session, core.desk, T0 + timedelta(days=4)) == 0


@pytest.mark.parametrize(
    ("until", "refusal"),
    [
        (T0 - timedelta(minutes=1), "in the future"),
        (T0, "in the future"),
        (T0 + timedelta(days=366), "within 365 days"),
    ],
)
def test_a_time_past_or_too_far_is_refused_and_changes_nothing(core, until, refusal):
    core.receive(email())
    ticket = core.ticket(1)
    core.outbox()
    with pytest.raises(SnoozeRefused, match=refusal):
        snooze(core.session, core.desk, ticket, until, actor=AGENT.user_id, now=T0)
    assert (ticket.status, ticket.pending_until) == (TicketStatus.OPEN, None)
    assert core.outbox() == []
