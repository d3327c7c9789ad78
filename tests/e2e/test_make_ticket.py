"""Any Slack message can become a ticket: the "Make a ticket" shortcut and its modal, agents'
emoji reactions, and Slack Connect channels whose customers' messages are tickets answered in
their own threads. Driven as Slack drives the app: signed requests against the fake Slack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.devtools.fake_slack import FakeSlack
from bot.handlers.slack.make_ticket import FROM_A_BOT, NOT_AN_ADDRESS
from bot.storage.models import (
    Customer,
    Direction,
    Message,
    OutboxItem,
    OutboxStatus,
    Ticket,
    TicketEvent,
)
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    SlackAgent,
    answer_values,
    eventually,
    running_helpdesk,
)


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


TEAM = "C0TEAM"  # a channel of the company's own, the app in it
ELSEWHERE = "C0ELSEWHERE"  # a channel the app is not in
SHARED = "C0SHARED"  # a Slack Connect channel shared with a wholesale buyer
KIM = {"id": "U0KIM", "username": "kim", "name": "kim", "team_id": "T0FAKE"}  # a teammate
BUYER = "U0BUYER"  # the wholesale buyer, in the shared channel
POLICY = Policy(agents=[AGENT["id"]], connect_channels=[SHARED])
CALL = "Customer called about order 1001\nShe wants a refund for the broken vase."


class Workspace:
    def __init__(self, helpdesk, slack: FakeSlack, sink: MailSink):
        self.helpdesk, self.slack, self.sink = helpdesk, slack, sink
        self.agent = SlackAgent(helpdesk.http_port, slack)

    def message(self, channel: str, ts: str) -> dict:
        return next(m for m in self.slack.messages_in(channel) if m["ts"] == ts)

    def tickets(self) -> list[Ticket]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(Ticket).order_by(Ticket.id)))

    def ticket(self) -> Ticket:
        [ticket] = self.tickets()
        return ticket

    def customer(self, ticket: Ticket) -> Customer:
        with Session(self.helpdesk.engine) as session:
            return session.get(Customer, ticket.customer_id)

    def inbound(self, ticket: Ticket) -> list[str]:
        with Session(self.helpdesk.engine) as session:
            return list(
                session.exec(
                    select(Message.body)
                    .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
                    .order_by(Message.id)
                )
            )

    def settled(self) -> None:
        """Every queued Slack request worked, and every effect delivered."""

        def done() -> bool:
            with Session(self.helpdesk.engine) as session:
                pending = session.exec(
                    select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.PENDING)
                ).first()
            return self.helpdesk.slack_inbox.waiting() == 0 and pending is None

        assert eventually(done, timeout=20)

    def opened_view(self, after: int) -> dict:
        return self.agent.opened_view(after=after)

    def shortcut(self, channel: str, ts: str, user: dict = AGENT) -> dict:
        """The view the shortcut on the message opened."""
        opened = len(self.slack.calls("views.open"))
        message = self.message(channel, ts)
        assert self.agent.message_shortcut(ids.SHORTCUT_MAKE_TICKET, channel, message, user)
        return self.opened_view(opened)

    def replies_under(self, channel: str, ts: str) -> list[dict]:
        return self.slack.thread(channel, ts)[1:]


@pytest.fixture
def workspace(database_url):
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(TEAM, "team", members=[AGENT["id"], KIM["id"]])
        slack.add_channel(ELSEWHERE, "elsewhere", is_member=False, members=[AGENT["id"]])
        slack.add_channel(SHARED, "shared-buyer", members=[AGENT["id"], BUYER])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        slack.add_user(KIM["id"], "kim", real_name="Kim Teammate")
        slack.add_user(BUYER, "bo", real_name="Bo Buyer")
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, POLICY, outbound_smtp_url=sink.url)
        )
        yield Workspace(helpdesk, slack, sink)


def modal_values(view: dict, requester: str = "", subject: str | None = None) -> dict:
    """The modal's state as Slack sends it: the prefilled text and subject (or `subject`),
    the typed requester, priority high."""
    blocks = {b.get("block_id"): b.get("element", {}) for b in view["blocks"]}
    text = blocks[ids.MAKE_TICKET_TEXT_BLOCK]["initial_value"]
    subject = blocks[ids.MAKE_TICKET_SUBJECT_BLOCK]["initial_value"] if subject is None else subject
    return {
        ids.MAKE_TICKET_TEXT_BLOCK: {ids.MAKE_TICKET_TEXT: {"value": text}},
        ids.MAKE_TICKET_REQUESTER_BLOCK: {ids.MAKE_TICKET_REQUESTER: {"value": requester}},
        ids.MAKE_TICKET_SUBJECT_BLOCK: {ids.MAKE_TICKET_SUBJECT: {"value": subject}},
        ids.MAKE_TICKET_PRIORITY_BLOCK: {
            ids.MAKE_TICKET_PRIORITY: {"selected_option": {"value": "high"}}
        },
    }


@ON_BOTH_DATABASES
def test_the_shortcut_makes_a_ticket_linked_both_ways_once(workspace):
    ts = workspace.slack.add_message(TEAM, CALL, user=KIM["id"])
    view = workspace.shortcut(TEAM, ts)
    assert view["callback_id"] == ids.MAKE_TICKET_MODAL
    blocks = {b.get("block_id"): b.get("element", {}) for b in view["blocks"]}
    assert blocks[ids.MAKE_TICKET_TEXT_BLOCK]["initial_value"] == CALL
    assert blocks[ids.MAKE_TICKET_SUBJECT_BLOCK]["initial_value"] == CALL.splitlines()[0]

    refused = workspace.agent.submit(view, modal_values(view, "not an address"), view_id="V0MAKE")
    assert refused.json()["errors"] == {ids.MAKE_TICKET_REQUESTER_BLOCK: NOT_AN_ADDRESS}
    assert workspace.tickets() == []
    values = modal_values(view, "Jane@Customer.example", "Refund for the broken vase")
    assert workspace.agent.submit(view, values, view_id="V0MAKE").body in ("", "{}")
    # Slack's retry of the submission, or a second modal: still one ticket, and why.
    again = workspace.agent.submit(view, values, view_id="V0MAKE")
    assert again.json()["errors"] == {
        ids.MAKE_TICKET_TEXT_BLOCK: "This message is already ticket #1."
    }

    ticket = workspace.ticket()
    assert (ticket.subject, ticket.source, ticket.priority) == (
        "Refund for the broken vase", "slack", "high",
    )  # fmt: skip
    assert workspace.customer(ticket).email == "jane@customer.example"
    assert workspace.inbound(ticket) == [CALL]
    workspace.settled()
    ticket = workspace.ticket()  # its root posted now
    # The ticket's thread links to the message; the message's thread names the ticket.
    origin_link = workspace.slack.calls("chat.getPermalink")[0].response["permalink"]
    assert f"/archives/{TEAM}/p{ts.replace('.', '')}" in origin_link
    thread = [m["text"] for m in workspace.slack.thread(CHANNEL, ticket.thread_ts)]
    assert any(origin_link in text and f"<@{KIM['id']}>" in text for text in thread)
    [back_link] = workspace.replies_under(TEAM, ts)
    root_link = f"/archives/{CHANNEL}/p{ticket.thread_ts.replace('.', '')}"
    assert "ticket #1" in back_link["text"] and root_link in back_link["text"]

    # The shortcut again points to the ticket instead of opening the modal.
    pointer = workspace.shortcut(TEAM, ts)
    assert pointer.get("callback_id") != ids.MAKE_TICKET_MODAL
    assert "already" in json.dumps(pointer) and "ticket #1" in json.dumps(pointer)
    assert len(workspace.tickets()) == 1

    # Jane gave an address: she is answered by email, as any customer is.
    workspace.agent.reply(ticket.id, ticket.thread_ts, "Your refund is on its way.")
    assert eventually(lambda: len(workspace.sink.messages) == 1)
    [(recipients, _)] = workspace.sink.messages
    assert recipients == ["jane@customer.example"]


def test_the_shortcut_refuses_bots_messages_and_channels_without_the_app(workspace):
    ts = workspace.slack.add_message(TEAM, CALL, user=KIM["id"])
    view = workspace.shortcut(TEAM, ts)  # a ticket, for a root the app posted
    workspace.agent.submit(view, modal_values(view), view_id="V0MAKE")
    workspace.settled()
    root = workspace.slack.messages_in(CHANNEL)[0]
    assert "bot_id" in root

    from_bot = workspace.shortcut(CHANNEL, root["ts"])
    assert FROM_A_BOT in json.dumps(from_bot)
    away = workspace.slack.add_message(ELSEWHERE, "Please help", user=KIM["id"])
    slack = workspace.slack
    opened = len(slack.calls("views.open"))
    message = {"type": "message", "user": KIM["id"], "ts": away, "text": "Please help"}
    workspace.agent.message_shortcut(ids.SHORTCUT_MAKE_TICKET, ELSEWHERE, message)
    not_in = workspace.opened_view(opened)
    assert f"I'm not in <#{ELSEWHERE}>" in json.dumps(not_in)
    assert len(workspace.tickets()) == 1


def ticket_made(workspace: Workspace) -> bool:
    return len(workspace.tickets()) == 1


def test_agents_reactions_make_claim_and_solve_and_nobody_elses_do(workspace):
    stranger = KIM  # in the channel, but not an agent
    ts = workspace.slack.add_message(TEAM, CALL, user=KIM["id"])
    workspace.agent.react(TEAM, ts, "ticket", stranger)
    workspace.settled()
    assert workspace.tickets() == []

    for _ in range(2):  # Slack's retry of the event: one request, worked once
        workspace.agent.react(TEAM, ts, "ticket", event_id="Ev0TICKET")
    workspace.agent.react(TEAM, ts, "ticket")  # reacted again: the message is a ticket
    workspace.settled()
    ticket = workspace.ticket()
    assert ticket.thread_ts is not None
    assert ticket.subject == CALL.splitlines()[0] and ticket.source == "slack"
    assert workspace.customer(ticket).name == "Kim Teammate"  # an internal request
    assert workspace.inbound(ticket) == [CALL]
    assert len(workspace.replies_under(TEAM, ts)) == 1

    # Claim and solve act on the ticket's root only, and only for agents.
    workspace.agent.react(TEAM, ts, "eyes")
    workspace.agent.react(TEAM, ts, "white_check_mark")
    workspace.agent.react(CHANNEL, ticket.thread_ts, "eyes", stranger)
    workspace.agent.react(CHANNEL, ticket.thread_ts, "white_check_mark", stranger)
    workspace.settled()
    assert (workspace.ticket().assignee, workspace.ticket().status) == (None, "open")

    workspace.agent.react(CHANNEL, ticket.thread_ts, "eyes")
    workspace.agent.react(CHANNEL, ticket.thread_ts, "eyes", type="reaction_removed")
    workspace.settled()
    assert workspace.ticket().assignee == AGENT["id"]  # removing the reaction undoes nothing
    workspace.agent.react(CHANNEL, ticket.thread_ts, "white_check_mark")
    workspace.settled()
    assert (workspace.ticket().assignee, workspace.ticket().status) == (AGENT["id"], "solved")
    with Session(workspace.helpdesk.engine) as session:
        actors = set(session.exec(select(TicketEvent.actor).where(TicketEvent.kind != "created")))
    assert stranger["id"] not in actors


def test_a_reply_in_a_thread_made_a_ticket_is_linked_and_answered_in_that_thread(workspace):
    top = workspace.slack.add_message(TEAM, "Quick question", user=KIM["id"])
    reply = workspace.slack.add_message(TEAM, CALL, user=KIM["id"], thread_ts=top)
    workspace.agent.react(TEAM, reply, "ticket")
    workspace.settled()
    ticket = workspace.ticket()
    assert workspace.inbound(ticket) == [CALL]
    [_, back_link] = workspace.replies_under(TEAM, top)
    assert "ticket #1" in back_link["text"]

    opened = len(workspace.slack.calls("views.open"))
    workspace.agent.click(ticket.id, ticket.thread_ts, ids.TICKET_REPLY)
    view = workspace.opened_view(opened)
    assert workspace.agent.submit(view, answer_values(view, "Done, Kim.")).body in ("", "{}")
    workspace.settled()
    assert workspace.replies_under(TEAM, top)[-1]["text"] == "Done, Kim."
    assert workspace.sink.messages == []


def test_reactions_the_policy_turned_off_do_nothing(database_url):
    policy = Policy(agents=[AGENT["id"]], reactions={"ticket": None, "claim": "raised_hands"})
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(TEAM, "team", members=[AGENT["id"], KIM["id"]])
        slack.add_user(KIM["id"], "kim", real_name="Kim Teammate")
        with running_helpdesk(database_url, slack, policy) as helpdesk:
            workspace = Workspace(helpdesk, slack, None)
            ts = slack.add_message(TEAM, CALL, user=KIM["id"])
            workspace.agent.react(TEAM, ts, "ticket")
            workspace.settled()
            assert workspace.tickets() == []


def test_a_connect_channels_customers_are_answered_in_their_thread(workspace):
    slack = workspace.slack
    ts = slack.add_message(SHARED, "Can we get 40 more vases by Friday?", user=BUYER)
    workspace.agent.sender.send_event(
        {"type": "message", "channel": SHARED, "user": BUYER, "ts": ts,
         "text": "Can we get 40 more vases by Friday?", "channel_type": "channel"}
    )  # fmt: skip
    agent_ts = slack.add_message(SHARED, "Hi Bo, welcome!", user=AGENT["id"])
    workspace.agent.sender.send_event(
        {"type": "message", "channel": SHARED, "user": AGENT["id"], "ts": agent_ts,
         "text": "Hi Bo, welcome!"}
    )  # fmt: skip
    workspace.settled()
    ticket = workspace.ticket()  # the agent's message is no ticket
    assert ticket.thread_ts is not None
    assert ticket.subject == "Can we get 40 more vases by Friday?"
    assert workspace.customer(ticket).name == "Bo Buyer"
    [told] = workspace.replies_under(SHARED, ts)
    assert "ticket #1" in told["text"] and "archives" not in told["text"]  # no internal link

    reply_ts = slack.add_message(SHARED, "And 10 bowls, please.", user=BUYER, thread_ts=ts)
    workspace.agent.sender.send_event(
        {"type": "message", "channel": SHARED, "user": BUYER, "ts": reply_ts,
         "thread_ts": ts, "text": "And 10 bowls, please."}
    )  # fmt: skip
    assert eventually(lambda: len(workspace.inbound(ticket)) == 2)
    assert workspace.inbound(ticket)[1] == "And 10 bowls, please."

    opened = len(slack.calls("views.open"))
    workspace.agent.click(ticket.id, ticket.thread_ts, ids.TICKET_REPLY)
    view = workspace.opened_view(opened)
    assert "in their Slack thread" in json.dumps(view)
    typed = "Yes, both ship Thursday <!channel>."
    answer = workspace.agent.submit(view, answer_values(view, typed))
    assert answer.body in ("", "{}")
    workspace.settled()
    answers = [m["text"] for m in workspace.replies_under(SHARED, ts)]
    assert "Yes, both ship Thursday &lt;!channel&gt;." in answers  # no mention in their channel
    assert workspace.sink.messages == []  # never by email
    copy = workspace.slack.thread(CHANNEL, ticket.thread_ts)[-1]
    assert "in their Slack thread" in json.dumps(copy["blocks"])
