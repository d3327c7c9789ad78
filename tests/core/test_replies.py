"""An agent's answer: the outbound message, its email row before its thread copy, the clocks.

The Reply modal and the email on the wire are tests/e2e/test_agent_workflow.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import outbox
from bot.core.replies import ReplyRefused
from bot.storage.models import Delivery, Direction, Source, TicketStatus
from tests.core.builders import AGENT, email, message_id_of, policy

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; the test policy is 24/7 anyway


@pytest.fixture
def jane(core, time_machine):
    """Ticket #1, opened by Jane's mail at T0, its outbox rows looked at."""
    time_machine.move_to(T0, tick=False)
    mail = email("Where is it?")
    core.receive(mail)
    core.outbox()
    return message_id_of(mail)


def test_a_reply_is_an_email_row_then_its_thread_copy_and_meets_the_first_response(
    core, jane, time_machine
):
    time_machine.move_to(T0 + timedelta(minutes=30), tick=False)
    ticket = core.ticket(1)
    message = core.reply(ticket, "  It left our warehouse today.  ")

    assert (message.direction, message.source) == (Direction.OUTBOUND, Source.EMAIL)
    assert (message.author, message.body) == (AGENT.user_id, "It left our warehouse today.")
    assert message.delivery == Delivery.PENDING
    assert message.email_message_id.startswith("helpdesk.")
    assert message.email_message_id.endswith("@shop.example")
    assert core.outbox() == [(outbox.EMAIL_SEND, 1), (outbox.SLACK_POST_MESSAGE, 1)]
    [email_row] = core.outbox_rows(outbox.EMAIL_SEND)
    assert email_row.message_id == message.id
    assert ticket.first_response_at == T0 + timedelta(minutes=30)
    assert (ticket.first_response_seconds, ticket.first_response_business_seconds) == (1800, 1800)
    clocks = core.clocks(ticket)
    assert (clocks["first_response"].stopped_at, clocks["first_response"].outcome) == (
        T0 + timedelta(minutes=30),
        "met",
    )
    assert clocks["resolution"].stopped_at is None
    assert core.events(ticket)[-2:] == ["first_response", "replied"]
    assert ticket.status == TicketStatus.OPEN


def test_a_late_first_answer_is_breached_and_the_customers_next_mail_starts_the_next_clock(
    core, jane, time_machine
):
    ticket = core.ticket(1)
    time_machine.move_to(T0 + timedelta(minutes=90), tick=False)
    core.reply(ticket, "Sorry for the wait")
    assert core.clocks(ticket)["first_response"].outcome == "breached"

    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    core.receive(email("Still nothing", in_reply_to=jane))
    next_response = core.clocks(ticket)["next_response"]
    assert next_response.due_at == T0 + timedelta(hours=4)

    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    core.reply(ticket, "Found it")
    assert core.clocks(ticket)["next_response"].outcome == "met"
    assert ticket.first_response_seconds == 5400  # the first answer's, kept
    assert core.events(ticket).count("first_response") == 1


def test_a_customers_answer_starts_no_clock_the_policy_does_not_set(core, time_machine):
    core.use(policy(sla={"normal": {"first_response": "1h"}}))
    time_machine.move_to(T0, tick=False)
    mail = email("Where is it?")
    core.receive(mail)
    core.reply(core.ticket(1), "On its way")
    core.receive(email("Thanks", in_reply_to=message_id_of(mail)))
    assert list(core.clocks(core.ticket(1))) == ["first_response"]


@pytest.mark.parametrize("answer", ["", "  \n\t "])
def test_an_empty_answer_is_refused_and_records_nothing(core, jane, answer):
    ticket = core.ticket(1)
    with pytest.raises(ReplyRefused, match="Write an answer"):
        core.reply(ticket, answer)
    assert len(core.messages(ticket)) == 1
    assert ticket.first_response_at is None
    assert core.clocks(ticket)["first_response"].stopped_at is None
    assert core.outbox() == []


def test_a_closed_ticket_refuses_answers_until_reopened(core, jane):
    ticket = core.ticket(1)
    core.set_status(ticket, TicketStatus.CLOSED)
    core.outbox()
    with pytest.raises(ReplyRefused, match="#1 is closed"):
        core.reply(ticket, "Hello?")
    assert core.outbox() == []


def test_the_same_submission_twice_sends_one_email(core, jane):
    ticket = core.ticket(1)
    first = core.reply(ticket, "On it", request_key="view-1")
    again = core.reply(ticket, "On it", request_key="view-1")
    assert again.id == first.id
    assert core.outbox() == [(outbox.EMAIL_SEND, 1), (outbox.SLACK_POST_MESSAGE, 1)]


def test_a_reply_that_solves_the_ticket_updates_the_root_after_its_email(core, jane, time_machine):
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    ticket = core.ticket(1)
    core.reply(ticket, "Refunded", new_status=TicketStatus.SOLVED)

    assert core.outbox() == [
        (outbox.EMAIL_SEND, 1),
        (outbox.SLACK_POST_MESSAGE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
    ]
    assert (ticket.status, ticket.solved_at) == (TicketStatus.SOLVED, T0 + timedelta(hours=2))
    assert ticket.resolution_seconds == 7200
    assert {kind: clock.outcome for kind, clock in core.clocks(ticket).items()} == {
        "first_response": "breached",
        "resolution": "met",
    }
