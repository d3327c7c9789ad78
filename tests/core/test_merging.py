"""Merging a duplicate ticket into the one kept: what moves, where mail goes, the clocks, and
unmerging the same day. Times are set with time-machine; Slack's side is
tests/e2e/test_merge_and_split.py's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.attachments import FileStore
from bot.core.customer_data import messages_of
from bot.core.merging import DifferentCustomers, merge, merge_suggestion, unmerge
from bot.core.privacy import erase
from bot.core.threading import reply_address
from bot.core.ticket_moves import MoveRefused
from bot.core.tickets import name_given, set_tags
from bot.storage.models import Customer, Source, Ticket, TicketEvent, TicketMove, TicketStatus
from tests.core.builders import AGENT, JANE, ON_BOTH_DATABASES, SUPPORT, email, message_id_of

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def at(time_machine, **after) -> None:
    time_machine.move_to(T0 + timedelta(**after), tick=False)


def two_tickets(core, time_machine, second_sender: str = f"Jane Doe <{JANE}>"):
    """#1 at T0 and #2 ten minutes later, each with one mail; the first mails' bytes too."""
    at(time_machine)
    first = email("My parcel never came.", subject="Parcel missing")
    core.receive(first)
    at(time_machine, minutes=10)
    second = email("Where is order 1001?", subject="Order 1001", sender=second_sender)
    core.receive(second)
    core.outbox()
    return core.ticket(1), core.ticket(2), first, second


def merge_now(core, merged, kept, **options):
    move = merge(core.session, core.desk, merged, kept, actor=AGENT.user_id, **options)
    core.session.commit()
    return move


@ON_BOTH_DATABASES
def test_a_merge_moves_messages_notes_and_tags_closes_the_merged_ticket_and_tells_both(
    core, time_machine
):
    kept, merged, _, _ = two_tickets(core, time_machine)
    set_tags(core.session, merged, ["shipping"], actor=AGENT.user_id)
    set_tags(core.session, kept, ["refund"], actor=AGENT.user_id)
    core.outbox()
    at(time_machine, minutes=20)
    move = merge_now(core, merged, kept)

    assert [m.body for m in core.messages(kept)] == [
        "My parcel never came.",
        "Where is order 1001?",
    ]
    assert core.messages(merged) == []
    assert core.tags(kept) == ["refund", "shipping"]
    assert merged.status == TicketStatus.CLOSED and merged.merged_into_id == kept.id
    assert merged.solved_at is None  # closed as merged, never counted as solved
    assert all(clock.stopped_at for clock in core.clocks(merged).values())
    assert move.tags_added == ["shipping"]
    rows = core.outbox()
    assert rows.count((outbox.SLACK_TICKET_MOVE, 1)) == 1
    assert rows.count((outbox.SLACK_TICKET_MOVE, 2)) == 1
    assert (outbox.SLACK_UPDATE_ROOT, 1) in rows and (outbox.SLACK_UPDATE_ROOT, 2) in rows
    assert "merged_into" in core.events(merged) and "merged_in" in core.events(kept)


def test_mail_to_the_merged_conversation_lands_in_the_kept_ticket_by_every_path(core, time_machine):
    kept, merged, _, second = two_tickets(core, time_machine)
    merge_now(core, merged, kept)

    core.receive(email("Still nothing.", in_reply_to=message_id_of(second)))
    core.receive(email("By number.", subject="Re: [#2] Order 1001"))
    token = reply_address(SUPPORT, merged.reply_token)
    core.receive(email("By address.", to=token), recipients=(token,))

    assert core.tickets() == [1, 2]
    assert [m.body for m in core.messages(kept)][-3:] == [
        "Still nothing.",
        "By number.",
        "By address.",
    ]
    assert merged.status == TicketStatus.CLOSED


def test_the_kept_tickets_response_clock_follows_the_earliest_unanswered_message(
    core, time_machine
):
    kept, merged, _, _ = two_tickets(core, time_machine)
    at(time_machine, minutes=15)
    core.reply(kept, "We are looking into it.")  # #1 answered: its first response stopped
    at(time_machine, minutes=30)
    merge_now(core, merged, kept)

    # #2's mail (T0 + 10 min) waits for an answer now in #1: the next response counts from it.
    waiting = core.clocks(kept)["next_response"]
    assert waiting.started_at == T0 + timedelta(minutes=10) and waiting.stopped_at is None
    assert waiting.due_at == T0 + timedelta(hours=2, minutes=10)


def test_an_unanswered_kept_ticket_counts_its_first_response_from_the_older_message(
    core, time_machine
):
    older, newer, _, _ = two_tickets(core, time_machine)
    merge_now(core, older, newer)  # the newer ticket kept

    first = core.clocks(newer)["first_response"]
    assert first.started_at == T0 and first.due_at == T0 + timedelta(hours=1)


def test_different_customers_need_an_explicit_confirmation_and_both_are_recorded(
    core, time_machine
):
    kept, merged, _, _ = two_tickets(core, time_machine, "Bob <bob@other.example>")
    with pytest.raises(DifferentCustomers):
        merge_now(core, merged, kept)
    core.session.rollback()
    assert core.messages(merged) and merged.merged_into_id is None

    merge_now(core, merged, kept, different_customers=True)
    event = core.session.exec(select(TicketEvent).where(TicketEvent.kind == "merged_in")).one()
    assert (event.data["merged_customer"], event.data["kept_customer"]) == (
        "bob@other.example",
        JANE,
    )


@pytest.mark.parametrize("case", ["itself", "closed", "loop", "twice"])
def test_bad_merges_are_refused_and_change_nothing(core, time_machine, case):
    kept, merged, _, _ = two_tickets(core, time_machine)
    if case == "itself":
        merged = kept
    elif case == "closed":
        core.set_status(kept, TicketStatus.CLOSED)
    else:
        merge_now(core, merged, kept)
        if case == "loop":
            kept, merged = merged, kept  # #1 into #2, which went into #1
    before = [m.ticket_id for m in core.messages(kept)]
    with pytest.raises(MoveRefused):
        merge_now(core, merged, kept)
    core.session.rollback()
    assert [m.ticket_id for m in core.messages(kept)] == before


def test_a_resubmitted_merge_is_the_same_merge(core, time_machine):
    kept, merged, _, _ = two_tickets(core, time_machine)
    first = merge_now(core, merged, kept, request_key="view:V1")
    again = merge_now(core, merged, kept, request_key="view:V1")
    assert again.id == first.id
    assert len(core.session.exec(select(TicketMove)).all()) == 1


def test_unmerge_gives_back_what_moved_and_keeps_what_came_since(core, time_machine):
    kept, merged, _, second = two_tickets(core, time_machine)
    set_tags(core.session, merged, ["shipping"], actor=AGENT.user_id)
    move = merge_now(core, merged, kept)
    at(time_machine, minutes=30)
    core.receive(email("A new question.", in_reply_to=message_id_of(second)))
    core.outbox()

    unmerge(core.session, core.desk, move, actor=AGENT.user_id, now=T0 + timedelta(minutes=40))
    core.session.commit()

    assert [m.body for m in core.messages(merged)] == ["Where is order 1001?"]
    assert [m.body for m in core.messages(kept)] == ["My parcel never came.", "A new question."]
    assert core.tags(kept) == [] and core.tags(merged) == ["shipping"]
    assert merged.status == TicketStatus.OPEN and merged.merged_into_id is None
    assert core.clocks(merged)["first_response"].stopped_at is None
    assert "unmerged" in core.events(merged) and "unmerged" in core.events(kept)
    assert (outbox.SLACK_TICKET_MOVE, 2) in core.outbox()
    with pytest.raises(MoveRefused, match="undone already"):
        unmerge(core.session, core.desk, move, actor=AGENT.user_id, now=T0 + timedelta(hours=1))


def test_a_merge_is_undoable_only_the_same_day(core, time_machine):
    kept, merged, _, _ = two_tickets(core, time_machine)
    move = merge_now(core, merged, kept)
    with pytest.raises(MoveRefused, match="today"):
        unmerge(core.session, core.desk, move, actor=AGENT.user_id, now=T0 + timedelta(days=1))


def test_a_second_ticket_within_a_day_suggests_merging_into_the_first(core, time_machine):
    first, second, _, _ = two_tickets(core, time_machine)
    assert merge_suggestion(core.session, second) == first
    assert merge_suggestion(core.session, first) is None
    at(time_machine, hours=30)
    core.receive(email("A day later.", subject="Another thing"))
    assert merge_suggestion(core.session, core.ticket(3)) is None


def test_a_live_chat_is_neither_merged_nor_kept_its_visitor_sees_its_messages(core, time_machine):
    kept, merged, _, _ = two_tickets(core, time_machine)
    kept.source = Source.CHAT
    core.session.commit()
    for into, away in ((kept, merged), (merged, kept)):
        with pytest.raises(MoveRefused, match="live chat"):
            merge_now(core, away, into)
        core.session.rollback()


def test_each_customers_data_keeps_their_own_messages_across_a_merge(core, time_machine):
    """Export and erasure read `messages_of`: Bob's words merged into Jane's ticket are still
    Bob's, never Jane's."""
    kept, merged, _, _ = two_tickets(core, time_machine, "Bob <bob@other.example>")
    merge_now(core, merged, kept, different_customers=True)
    core.receive(email("After the merge.", subject="Re: [#1] Parcel missing"))

    assert [m.body for m in messages_of(core.session, merged.id)] == ["Where is order 1001?"]
    assert [m.body for m in messages_of(core.session, kept.id)] == [
        "My parcel never came.",
        "After the merge.",
    ]


def test_a_reply_on_the_kept_ticket_greets_its_own_customer_not_the_merged_one(core, time_machine):
    kept, merged, _, _ = two_tickets(core, time_machine, "Bob <bob@other.example>")
    merge_now(core, merged, kept, different_customers=True)  # Bob's mail is the newest now
    assert name_given(core.session, kept) == "Jane Doe"


def test_erasing_the_merged_customer_reaches_their_words_in_the_kept_ticket(
    core, time_machine, tmp_path
):
    kept, merged, _, _ = two_tickets(core, time_machine, "Bob <bob@other.example>")
    merge_now(core, merged, kept, different_customers=True)
    core.outbox()  # delivered: the summary is a post in #1's thread now
    summary = core.outbox_rows(outbox.SLACK_TICKET_MOVE)[0]
    summary.result = {"ts": "1800000000.000300"}
    core.session.commit()

    bob = core.session.exec(select(Customer).where(Customer.email == "bob@other.example")).one()
    erase(core.session, bob, FileStore(tmp_path), actor=AGENT.user_id)
    core.session.commit()

    assert [m.body for m in core.messages(kept)] == ["My parcel never came.", "[erased]"]
    event = core.session.exec(select(TicketEvent).where(TicketEvent.kind == "merged_in")).one()
    assert event.data["merged_customer"] == "[erased]"
    assert event.data["kept_customer"] == JANE
    erased = [row.payload for row in core.outbox_rows(outbox.SLACK_ERASE)]
    assert {"channel": kept.channel, "ts": "1800000000.000300"} in erased


def test_erasing_the_kept_customer_reaches_the_merged_tickets_record_of_them(
    core, time_machine, tmp_path
):
    kept, merged, _, _ = two_tickets(core, time_machine, "Bob <bob@other.example>")
    merge_now(core, merged, kept, different_customers=True)
    jane = core.session.exec(select(Customer).where(Customer.email == JANE)).one()
    erase(core.session, jane, FileStore(tmp_path), actor=AGENT.user_id)
    core.session.commit()

    event = core.session.exec(select(TicketEvent).where(TicketEvent.kind == "merged_into")).one()
    assert (event.data["merged_customer"], event.data["kept_customer"]) == (
        "bob@other.example",
        "[erased]",
    )
    assert [m.body for m in core.messages(merged)] == []  # Bob's words stay Bob's, in #1
    assert [m.body for m in core.messages(kept)] == ["[erased]", "Where is order 1001?"]


def test_a_merge_whose_kept_ticket_went_on_into_a_third_is_unmerged_from_the_last_first(
    core, time_machine
):
    first, second, _, _ = two_tickets(core, time_machine)
    core.receive(email("A third.", subject="Third"))
    third = core.ticket(3)
    into_second = merge_now(core, first, second)
    into_third = merge_now(core, second, third)
    now = T0 + timedelta(hours=1)
    with pytest.raises(MoveRefused, match="unmerge that first"):
        unmerge(core.session, core.desk, into_second, actor=AGENT.user_id, now=now)
    core.session.rollback()
    unmerge(core.session, core.desk, into_third, actor=AGENT.user_id, now=now)
    unmerge(core.session, core.desk, into_second, actor=AGENT.user_id, now=now)
    core.session.commit()
    assert [len(core.messages(t)) for t in (first, second, third)] == [1, 1, 1]


@ON_BOTH_DATABASES
def test_two_agents_merging_a_into_b_and_b_into_a_at_once_make_no_loop(core, time_machine):
    """The second waits for the first's row locks (SQLite's write lock), then is refused."""
    two_tickets(core, time_machine)
    core.session.commit()  # its reads began a transaction: SQLite's write lock, released
    outcomes: list[str] = []

    def merge_numbers(session: Session, away: int, into: int) -> None:
        merged, kept = (
            session.exec(select(Ticket).where(Ticket.number == n)).one() for n in (away, into)
        )
        try:
            merge(session, core.desk, merged, kept, actor=AGENT.user_id)
            outcomes.append("merged")
        except MoveRefused:
            outcomes.append("refused")

    with Session(core.engine) as first, Session(core.engine) as second:
        merge_numbers(first, 2, 1)  # not committed yet
        waiter = threading.Thread(target=lambda: (merge_numbers(second, 1, 2), second.commit()))
        waiter.start()
        waiter.join(0.5)  # most likely waiting now; either way it must be refused
        first.commit()
        waiter.join()
    assert sorted(outcomes) == ["merged", "refused"]
    core.session.expire_all()
    assert [t.merged_into_id is None for t in (core.ticket(1), core.ticket(2))] == [True, False]
