"""Merging and splitting tickets from Slack, driven as Slack drives the app (signed requests
against the fake Slack), with the customer's mail over real SMTP: the summary and the
"merged into" line in the threads, mail to the merged conversation landing in the kept
ticket, Unmerge, Split and its undoing, the merge suggestion, and every refusal."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.tickets import set_tags, tags_of
from bot.storage.db import transaction
from bot.storage.models import (
    Message,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketMove,
)
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SlackAgent,
    customer_mail,
    eventually,
    outbox_drained,
    slack_sender,
    smtp_send,
    staffed_helpdesk,
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


JANE = "Jane Doe <jane@customer.example>"
BOB = "Bob <bob@other.example>"
POLICY = Policy.model_validate(
    {"sla": {"normal": {"first_response": "1h", "next_response": "2h", "resolution": "1d"}}}
)


class Desk:
    """A running helpdesk, and an agent acting on its tickets as Slack would."""

    def __init__(self, helpdesk, slack):
        self.helpdesk, self.slack = helpdesk, slack
        self.agent = SlackAgent(helpdesk.http_port, slack, sender=slack_sender(helpdesk, slack))
        self.sender = self.agent.sender

    def mail(self, body: str, subject: str, sender: str = JANE, **headers) -> str:
        """Sends the customer's mail; returns its Message-ID."""
        mail = customer_mail(body, subject=subject, sender=sender, **headers)
        assert smtp_send(self.helpdesk.smtp.port, mail)[0] == 250
        self.settle()
        return mail["Message-ID"]

    def settle(self) -> None:
        outbox_drained(self.helpdesk.engine)

    def ticket(self, number: int) -> Ticket:
        with Session(self.helpdesk.engine) as session:
            return session.exec(select(Ticket).where(Ticket.number == number)).one()

    def bodies(self, number: int) -> list[str]:
        with Session(self.helpdesk.engine) as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
            rows = session.exec(
                select(Message.body)
                .where(Message.ticket_id == ticket.id)
                .order_by(Message.created_at, Message.id)
            )
            return list(rows)

    def numbers(self) -> list[int]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(Ticket.number).order_by(Ticket.number)))

    def tags(self, number: int) -> list[str]:
        ticket_id = self.ticket(number).id
        with Session(self.helpdesk.engine) as session:
            return tags_of(session, ticket_id)

    def thread(self, number: int) -> list[dict]:
        return self.slack.thread(CHANNEL, self.ticket(number).thread_ts)

    def click(self, number: int, action_id: str, **action):
        ticket = self.ticket(number)
        return self.agent.click(ticket.id, ticket.thread_ts, action_id, **action)

    def open_merge(self, number: int) -> dict:
        opened = len(self.slack.calls("views.open"))
        self.click(number, ids.TICKET_MORE, selected_option={"value": ids.MORE_MERGE})
        return self.agent.opened_view(after=opened)

    def pick(self, view: dict, kept: int, view_id: str = "V0MERGE") -> dict:
        values = {
            ids.MERGE_TARGET_BLOCK: {
                ids.MERGE_TARGET: {"selected_option": {"value": str(self.ticket(kept).id)}}
            }
        }
        return self.agent.submit(view, values, view_id=view_id).json()

    def confirm(self, view: dict, ticked: bool = False, view_id: str = "V0MERGE"):
        chosen = [{"value": "yes"}] if ticked else []
        values = {ids.MERGE_CONFIRM_BLOCK: {ids.MERGE_CONFIRM: {"selected_options": chosen}}}
        return self.agent.submit(view, values, view_id=view_id)

    def merge(self, merged: int, kept: int, ticked: bool = False, view_id: str = "V0MERGE"):
        picked = self.pick(self.open_merge(merged), kept, view_id)
        assert picked["response_action"] == "update", picked
        answer = self.confirm(picked["view"], ticked, view_id)
        self.settle()
        return picked["view"], answer

    def ephemerals(self) -> list[str]:
        return [call.args["text"] for call in self.slack.calls("chat.postEphemeral")]

    def told(self, words: str) -> bool:
        return self.slack.wait_for(lambda: any(words in text for text in self.ephemerals()))

    def undo_button(self, number: int) -> dict:
        for message in reversed(self.thread(number)):
            for block in message.get("blocks") or []:
                for element in block.get("elements") or []:
                    if element.get("action_id") == ids.MOVE_UNDO:
                        return element
        raise AssertionError(f"no undo button in #{number}'s thread")

    def undo(self, number: int) -> None:
        """Clicks the thread's Unmerge or Undo split; the click is worked after its ack."""
        before = self.undone()
        self.click(number, ids.MOVE_UNDO, value=self.undo_button(number)["value"])
        assert eventually(lambda: self.undone() > before)
        self.settle()

    def close(self, number: int) -> None:
        """The root's Close button; the click is worked after its ack."""
        self.click(number, ids.TICKET_CLOSE)
        assert eventually(lambda: self.ticket(number).status == "closed")
        self.settle()

    def undone(self) -> int:
        with Session(self.helpdesk.engine) as session:
            moves = session.exec(select(TicketMove)).all()
            return sum(move.undone_at is not None for move in moves)


@pytest.fixture
def desk(database_url):
    with staffed_helpdesk(database_url, POLICY) as (helpdesk, slack, _sink):
        yield Desk(helpdesk, slack)


def root_of(desk: Desk, number: int) -> dict:
    return desk.thread(number)[0]


def test_a_merge_summarises_moves_and_leads_the_customers_mail_to_the_kept_ticket(desk):
    desk.mail("My parcel never came.", "Parcel missing")
    second = desk.mail("Where is order 1001?", "Order 1001")
    with transaction(desk.helpdesk.engine) as session:
        set_tags(session, session.get(Ticket, desk.ticket(2).id), ["shipping"], actor="U0AGENT1")
    desk.settle()

    view = desk.open_merge(2)
    assert view["callback_id"] == ids.MERGE_PICK_MODAL
    typed = desk.sender.send_interaction(
        {"type": "block_suggestion", "user": AGENT, "team": {"id": "T0FAKE"},
         "api_app_id": "A0HELPDESK", "action_id": ids.MERGE_TARGET,
         "block_id": ids.MERGE_TARGET_BLOCK, "value": "jane", "view": {**view, "id": "V0MERGE"}}
    )  # fmt: skip
    assert [o["value"] for o in typed.json()["options"]] == [str(desk.ticket(1).id)]
    picked = desk.pick(view, 1)
    confirm = picked["view"]
    shown = str(confirm["blocks"])
    assert "Parcel missing" in shown and "Order 1001" in shown and "jane@customer.example" in shown
    assert all(
        b["block_id"] != ids.MERGE_CONFIRM_BLOCK for b in confirm["blocks"] if "block_id" in b
    )
    assert desk.confirm(confirm).status == 200
    assert desk.confirm(confirm).status == 200  # Slack's retry of the submission: one merge
    desk.settle()
    with Session(desk.helpdesk.engine) as session:
        assert len(session.exec(select(TicketMove)).all()) == 1

    # One summary in the kept thread, linking the message where it was posted; no re-post.
    kept_thread = [m["text"] for m in desk.thread(1)[1:]]
    summaries = [t for t in kept_thread if "merged" in t]
    assert len(summaries) == 1 and "#2" in summaries[0]
    with Session(desk.helpdesk.engine) as session:
        posted = session.exec(select(Message.slack_ts).where(Message.body.like("Where%"))).one()
    summary = str(next(m for m in desk.thread(1) if "merged" in m["text"])["blocks"])
    assert f"/p{posted.replace('.', '')}?thread_ts=" in summary  # linked where it was posted
    assert "Unmerge" in summary
    assert sum("Where is order 1001?" in t for t in kept_thread) == 0
    assert "merged this ticket into" in desk.thread(2)[-1]["text"]
    assert "Merged into #1" in str(root_of(desk, 2)["blocks"])
    assert desk.bodies(1) == ["My parcel never came.", "Where is order 1001?"]
    assert desk.bodies(2) == []
    # A note typed in the merged thread afterwards is the kept ticket's.
    note = {"type": "message", "channel": CHANNEL, "user": AGENT["id"], "text": "seen",
            "ts": "1800000000.000100", "thread_ts": desk.ticket(2).thread_ts}  # fmt: skip
    assert desk.sender.send_event(note).status == 200
    assert eventually(lambda: desk.bodies(1)[-1] == "seen")
    assert desk.tags(1) == ["shipping"]

    # The customer answers the merged conversation, by its headers and by its number.
    desk.mail("Any news?", "Re: Order 1001", in_reply_to=second, references=[second])
    desk.mail("Me again.", "Re: [#2] Order 1001")
    assert desk.bodies(1)[-2:] == ["Any news?", "Me again."]
    # The message shortcut on the merged root: it is merged already.
    shortcut(desk, ids.SHORTCUT_MERGE, desk.ticket(2).thread_ts, desk.ticket(2).thread_ts)
    assert desk.told("#2 is already merged")
    assert desk.numbers() == [1, 2]  # no new ticket for either

    # Unmerge gives back what moved; the mail that came since stays kept.
    desk.undo(1)
    assert desk.bodies(2) == ["Where is order 1001?"]
    assert desk.bodies(1) == [
        "My parcel never came.",
        "seen",
        "Any news?",
        "Me again.",
    ]
    assert desk.ticket(2).status == "open" and desk.ticket(2).merged_into_id is None
    assert desk.tags(1) == [] and desk.tags(2) == ["shipping"]
    assert "Merged into" not in str(root_of(desk, 2)["blocks"])
    assert "unmerged" in desk.thread(1)[-1]["text"]
    desk.click(1, ids.MOVE_UNDO, value=desk.undo_button(1)["value"])  # a second click
    assert desk.told("undone already")


def test_the_kept_tickets_clock_counts_from_the_earliest_unanswered_message(desk):
    desk.mail("My parcel never came.", "Parcel missing")
    desk.mail("Where is order 1001?", "Order 1001")
    desk.merge(1, 2)  # the newer ticket kept
    merged_id, kept_id = desk.ticket(1).id, desk.ticket(2).id
    with Session(desk.helpdesk.engine) as session:
        first_message = session.exec(select(Message).order_by(Message.id)).first()
        clocks = session.exec(select(SlaClock).order_by(SlaClock.id)).all()
    running = {c.kind: c.started_at for c in clocks if c.ticket_id == kept_id and not c.stopped_at}
    assert running["first_response"] == first_message.created_at
    assert all(c.stopped_at is not None for c in clocks if c.ticket_id == merged_id)


def test_different_customers_need_the_box_ticked_and_both_are_recorded(desk):
    desk.mail("My parcel never came.", "Parcel missing")
    desk.mail("Order 1001 for my wife", "Order 1001", sender=BOB)
    picked = desk.pick(desk.open_merge(2), 1)
    confirm = picked["view"]
    assert any(b.get("block_id") == ids.MERGE_CONFIRM_BLOCK for b in confirm["blocks"])
    refused = desk.confirm(confirm).json()
    assert refused["response_action"] == "errors"
    assert "bob@other.example" in refused["errors"][ids.MERGE_CONFIRM_BLOCK]
    assert desk.bodies(2) == ["Order 1001 for my wife"]

    assert desk.confirm(confirm, ticked=True).status == 200
    desk.settle()
    assert desk.bodies(2) == []
    with Session(desk.helpdesk.engine) as session:
        event = session.exec(select(TicketEvent).where(TicketEvent.kind == "merged_in")).one()
    assert (event.data["merged_customer"], event.data["kept_customer"]) == (
        "bob@other.example",
        "jane@customer.example",
    )
    assert "Different customers" in str(desk.thread(1)[-1]["blocks"])


def test_a_second_ticket_within_a_day_offers_to_merge_into_the_first(desk):
    desk.mail("My parcel never came.", "Parcel missing")
    desk.mail("Where is order 1001?", "Order 1001")
    assert "Possibly the same as" not in str(root_of(desk, 1)["blocks"])
    [suggestion] = [
        e
        for b in root_of(desk, 2)["blocks"]
        if b.get("block_id") == ids.MERGE_SUGGESTION_BLOCK
        for e in b["elements"]
    ]
    assert suggestion["text"]["text"] == "Possibly the same as #1 — Merge"
    opened = len(desk.slack.calls("views.open"))
    desk.click(2, ids.MERGE_SUGGESTED, value=suggestion["value"])
    view = desk.agent.opened_view(after=opened)
    picker = view["blocks"][1]["element"]
    assert picker["initial_option"]["value"] == str(desk.ticket(1).id)

    opened = len(desk.slack.calls("views.open"))
    root_ts = desk.ticket(2).thread_ts
    shortcut(desk, ids.SHORTCUT_MERGE, root_ts, root_ts)  # the same, from the root's shortcut
    assert desk.agent.opened_view(after=opened)["callback_id"] == ids.MERGE_PICK_MODAL

    desk.merge(2, 1)
    assert "Possibly the same as" not in str(root_of(desk, 2)["blocks"])
    desk.click(2, ids.MERGE_SUGGESTED, value=suggestion["value"])  # a stale click
    assert desk.told("already merged")


def test_a_message_and_those_after_it_split_into_a_new_ticket_and_back(desk):
    first = desk.mail("My parcel never came.", "Parcel missing")
    desk.mail("Also, can I return the mug?", "Re: Parcel missing", in_reply_to=first)
    desk.mail("It is chipped.", "Re: Parcel missing", in_reply_to=first)
    with Session(desk.helpdesk.engine) as session:
        mug = session.exec(select(Message).where(Message.body.like("Also%"))).one()
    opened = len(desk.slack.calls("views.open"))
    shortcut(desk, ids.SHORTCUT_SPLIT, mug.slack_ts, desk.ticket(1).thread_ts)
    view = desk.agent.opened_view(after=opened)
    assert view["callback_id"] == ids.SPLIT_MODAL
    values = {
        ids.SPLIT_FOLLOWING_BLOCK: {ids.SPLIT_FOLLOWING: {"selected_options": [{"value": "yes"}]}}
    }
    assert desk.agent.submit(view, values, view_id="V0SPLIT").status == 200
    desk.agent.submit(view, values, view_id="V0SPLIT")  # Slack's retry: one split
    desk.settle()

    assert desk.bodies(1) == ["My parcel never came."]
    assert desk.bodies(2) == ["Also, can I return the mug?", "It is chipped."]
    assert desk.ticket(2).customer_id == desk.ticket(1).customer_id
    assert root_of(desk, 2)["text"].startswith("#2")
    assert "split this ticket off" in desk.thread(2)[-1]["text"]
    assert "split 2 messages off into" in desk.thread(1)[-1]["text"]
    with Session(desk.helpdesk.engine) as session:
        assert len(session.exec(select(TicketMove)).all()) == 1

    desk.undo(2)
    assert len(desk.bodies(1)) == 3 and desk.bodies(2) == []
    assert desk.ticket(2).status == "closed"
    assert "undid the split" in desk.thread(1)[-1]["text"]


def shortcut(desk: Desk, callback_id: str, ts: str, thread_ts: str):
    return desk.sender.send_interaction(
        {"type": "message_action", "callback_id": callback_id, "user": AGENT,
         "team": {"id": "T0FAKE"}, "trigger_id": "9.9.trigger", "channel": {"id": CHANNEL},
         "message": {"ts": ts, "thread_ts": thread_ts, "text": "hi"}, "message_ts": ts,
         "response_url": "https://hooks.slack.test/x"}
    )  # fmt: skip


def test_bad_merges_and_splits_are_refused_and_change_nothing(desk):
    desk.mail("My parcel never came.", "Parcel missing")
    desk.mail("Where is order 1001?", "Order 1001")
    desk.mail("Something else.", "Third")

    # Into itself: the pick is refused in the modal.
    refused = desk.pick(desk.open_merge(1), 1)
    assert refused["response_action"] == "errors" and "itself" in str(refused["errors"])

    # Into a closed ticket.
    desk.close(3)
    refused = desk.pick(desk.open_merge(1), 3)
    assert "closed" in refused["errors"][ids.MERGE_TARGET_BLOCK]

    # In a loop: #2 into #1, then #1 into #2 (which now leads to #1).
    desk.merge(2, 1)
    refused = desk.pick(desk.open_merge(1), 2)
    assert "merged into another ticket" in refused["errors"][ids.MERGE_TARGET_BLOCK]

    # A confirmation made stale by a change meanwhile: refused whole, nothing half-done.
    desk.mail("A fresh question.", "Fresh")
    confirm = desk.pick(desk.open_merge(4), 1, view_id="V0STALE")["view"]
    desk.close(1)
    answer = desk.confirm(confirm, view_id="V0STALE").json()
    assert answer["view"]["callback_id"] == ids.MOVE_REFUSED_MODAL
    assert "closed" in str(answer["view"]["blocks"])
    assert desk.bodies(4) == ["A fresh question."]
    with Session(desk.helpdesk.engine) as session:
        assert len(session.exec(select(TicketMove)).all()) == 1

    # Splitting the only message of a ticket, and a message that is not a customer's.
    only = desk.ticket(4)
    with Session(desk.helpdesk.engine) as session:
        message = session.exec(select(Message).where(Message.ticket_id == only.id)).one()
    shortcut(desk, ids.SHORTCUT_SPLIT, message.slack_ts, only.thread_ts)
    assert desk.told("would move all")
    shortcut(desk, ids.SHORTCUT_SPLIT, only.thread_ts, only.thread_ts)
    assert desk.told("Split works on a customer's message")
    assert desk.numbers() == [1, 2, 3, 4]
