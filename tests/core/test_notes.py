"""Internal notes: kept on the ticket, never sent anywhere, and no answer to the customer.

Notes typed, edited and deleted in a real Slack thread: tests/e2e/test_agent_workflow.py.
"""

from __future__ import annotations

from bot.core.notes import delete_note, edit_note, record_note
from bot.storage.models import Direction
from tests.core.builders import AGENT, email

TS = "1700000000.000200"


def test_a_note_is_kept_once_records_no_effect_and_answers_no_one(core):
    core.receive(email())
    core.outbox()
    ticket = core.ticket(1)

    assert record_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="VIP")
    assert not record_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="VIP")

    note = core.messages(ticket)[-1]
    assert (note.direction, note.body, note.author) == (Direction.NOTE, "VIP", AGENT.user_id)
    assert len(core.messages(ticket)) == 2
    assert core.outbox() == []  # already in Slack, and never emailed
    assert ticket.first_response_at is None
    assert core.clocks(ticket)["first_response"].stopped_at is None


def test_an_edit_and_a_delete_follow_the_slack_message_and_a_deleted_note_stays_deleted(core):
    core.receive(email())
    ticket = core.ticket(1)
    record_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="first")

    assert edit_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="second")
    assert not edit_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="second")
    assert delete_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id)
    assert not edit_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id, text="third")
    assert not delete_note(core.session, ticket, slack_ts=TS, author=AGENT.user_id)

    note = core.messages(ticket)[-1]
    assert note.body == "second" and note.edited_at and note.deleted_at
    assert core.events(ticket)[-3:] == ["note_added", "note_edited", "note_deleted"]
    core.outbox()  # the mail's rows
    assert core.outbox() == []
