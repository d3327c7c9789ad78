"""Splitting a customer's message (and those after it) into a new ticket, and undoing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import outbox
from bot.core.splitting import split, undo_split
from bot.core.ticket_moves import MoveRefused
from bot.storage.models import TicketStatus
from tests.core.builders import AGENT, ON_BOTH_DATABASES, email, message_id_of

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def at(time_machine, **after) -> None:
    time_machine.move_to(T0 + timedelta(**after), tick=False)


def conversation(core, time_machine):
    """#1: the customer's mail, an answer, then two more mails of a new matter."""
    at(time_machine)
    first = email("My parcel never came.")
    core.receive(first)
    at(time_machine, minutes=5)
    core.reply(core.ticket(1), "It is on its way.")
    at(time_machine, minutes=10)
    core.receive(email("Also: can I return the mug?", in_reply_to=message_id_of(first)))
    at(time_machine, minutes=12)
    core.receive(email("It is chipped.", in_reply_to=message_id_of(first)))
    core.outbox()
    return core.ticket(1)


def split_now(core, message, following=False, **options):
    move = split(
        core.session, core.desk, message, following=following, actor=AGENT.user_id, **options
    )
    core.session.commit()
    return move


@ON_BOTH_DATABASES
def test_a_message_and_those_after_it_start_a_new_ticket_of_the_same_customer(core, time_machine):
    old = conversation(core, time_machine)
    at(time_machine, minutes=20)
    mug = core.messages(old)[2]
    move = split_now(core, mug, following=True)

    new = core.ticket(2)
    assert new.customer_id == old.customer_id and new.subject == old.subject
    assert [m.body for m in core.messages(new)] == ["Also: can I return the mug?", "It is chipped."]
    assert [m.body for m in core.messages(old)] == ["My parcel never came.", "It is on its way."]
    # The new ticket's first response counts from when the customer asked.
    assert core.clocks(new)["first_response"].started_at == T0 + timedelta(minutes=10)
    assert core.clocks(old)["next_response"].stopped_at is not None  # nothing waits there now
    rows = core.outbox()
    assert rows.index((outbox.SLACK_POST_ROOT, 2)) < rows.index((outbox.SLACK_TICKET_MOVE, 2))
    assert (outbox.SLACK_TICKET_MOVE, 1) in rows
    assert "split_into" in core.events(old) and "split_from" in core.events(new)

    undo_split(core.session, core.desk, move, actor=AGENT.user_id, now=T0 + timedelta(minutes=30))
    core.session.commit()
    assert len(core.messages(old)) == 4 and core.messages(new) == []
    assert new.status == TicketStatus.CLOSED and new.merged_into_id == old.id
    assert core.clocks(old)["next_response"].stopped_at is None


def test_only_the_message_itself_moves_unless_asked(core, time_machine):
    old = conversation(core, time_machine)
    split_now(core, core.messages(old)[2])
    assert [m.body for m in core.messages(core.ticket(2))] == ["Also: can I return the mug?"]
    assert len(core.messages(old)) == 3


@pytest.mark.parametrize("case", ["only message", "whole conversation", "an answer"])
def test_bad_splits_are_refused_and_change_nothing(core, time_machine, case):
    at(time_machine)
    core.receive(email("Hello"))
    ticket = core.ticket(1)
    if case != "only message":
        core.reply(ticket, "Hi!")
    message = core.messages(ticket)[1 if case == "an answer" else 0]
    with pytest.raises(MoveRefused):
        split_now(core, message, following=True)
    core.session.rollback()
    assert core.tickets() == [1]


def test_a_split_ticket_with_a_conversation_of_its_own_is_not_undone(core, time_machine):
    old = conversation(core, time_machine)
    move = split_now(core, core.messages(old)[3])
    core.reply(core.ticket(2), "We will take it back.")
    with pytest.raises(MoveRefused, match="changed since"):
        undo_split(core.session, core.desk, move, actor=AGENT.user_id, now=T0 + timedelta(hours=1))
