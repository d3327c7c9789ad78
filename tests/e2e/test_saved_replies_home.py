"""Saved replies, the App Home and `/helpdesk find`, driven by signed requests, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import Session, select

from bot.core import saved_replies
from bot.core.tickets import assign
from bot.devtools.fake_slack import WORKSPACE_URL, FakeSlack
from bot.devtools.slack_signing import new_trigger_id
from bot.handlers.slack.gate import NOT_AN_AGENT
from bot.storage.db import transaction
from bot.storage.models import SavedReply, Ticket
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import CHANNEL, customer_mail, eventually, running_helpdesk, smtp_send
from tests.e2e.test_slack_requests import sender_for


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


AGENT = "U0AGENT1"
OUTSIDER = "U0OUTSIDER"


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support", members=[AGENT])
        fake.add_user(AGENT, "agent", real_name="Alex Agent")
        fake.add_user(OUTSIDER, "outsider", real_name="Olly Outsider")
        yield fake


class Person:
    """Someone in Slack: sends, signed, what their commands and clicks make Slack send."""

    def __init__(self, helpdesk, user: str = AGENT):
        self.sender = sender_for(helpdesk)
        self.user = user

    def command(self, text: str):
        response = self.sender.send_command(
            "/helpdesk", text, user_id=self.user, channel_id=CHANNEL
        )
        assert response.status == 200, response.body
        return response

    def click(self, view: dict, action: dict) -> None:
        payload = {
            **self._envelope("block_actions"),
            "container": {"type": "view", "view_id": view["id"]},
            "view": view,
            "actions": [{"block_id": "b", "action_ts": "1700000001.000200", **action}],
        }
        assert self.sender.send_interaction(payload).status == 200

    def overflow(self, view: dict, reply_id: int, verb: str) -> None:
        option = {"text": {"type": "plain_text", "text": verb}, "value": f"{verb}:{reply_id}"}
        action_id = f"{ids.SAVED_REPLY_EDIT}-{reply_id}"
        self.click(view, {"type": "overflow", "action_id": action_id, "selected_option": option})

    def submit(self, form: dict, title: str, text: str) -> dict | None:
        """Submits the saved reply form; returns the response_action answer, if any."""
        values = {
            ids.SAVED_REPLY_TITLE_BLOCK: {
                ids.SAVED_REPLY_TITLE: {"type": "plain_text_input", "value": title}
            },
            ids.SAVED_REPLY_BODY_BLOCK: {
                ids.SAVED_REPLY_BODY: {"type": "plain_text_input", "value": text}
            },
        }
        payload = {
            **self._envelope("view_submission"),
            "view": {**form, "state": {"values": values}},
            "response_urls": [],
        }
        response = self.sender.send_interaction(payload)
        assert response.status == 200, response.body
        return response.json() if response.body else None

    def open_home(self, tab: str = "home") -> None:
        event = {"type": "app_home_opened", "user": self.user, "channel": "D0HOME", "tab": tab}
        assert self.sender.send_event(event).status == 200

    def _envelope(self, kind: str) -> dict:
        return {
            "type": kind,
            "team": {"id": "T0FAKE", "domain": "fake"},
            "user": {"id": self.user, "username": "agent", "team_id": "T0FAKE"},
            "api_app_id": "A0HELPDESK",
            "token": "verification-token",
            "trigger_id": new_trigger_id(),
        }


def latest_view(slack: FakeSlack, method: str, count: int) -> dict:
    """The view of the `count`th call of `method`, once it has happened, as Slack now holds it."""
    slack.wait_for(lambda: len(slack.calls(method)) >= count)
    return slack.view(slack.calls(method)[count - 1].response["view"]["id"])


def stored(helpdesk) -> list[tuple[str, str]]:
    with Session(helpdesk.engine) as session:
        return [(r.title, r.body) for r in session.exec(select(SavedReply).order_by(SavedReply.id))]


def test_saved_replies_are_created_edited_and_deleted_from_the_modals(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        agent = Person(helpdesk)
        assert agent.command("replies").body == ""
        listing = latest_view(slack, "views.open", 1)
        assert listing["callback_id"] == ids.SAVED_REPLIES_MODAL
        assert "No saved replies yet" in json.dumps(listing["blocks"])

        agent.click(listing, {"type": "button", "action_id": ids.SAVED_REPLY_NEW, "value": "new"})
        form = latest_view(slack, "views.push", 1)
        assert form["callback_id"] == ids.SAVED_REPLY_EDIT_MODAL
        body = "Hi {{customer.first_name}}, your refund is on its way. {{agent.first_name}}"
        assert agent.submit(form, "  Refund sent ", body) is None
        assert stored(helpdesk) == [("Refund sent", body)]
        # The form closed onto the list, which now shows the new reply.
        listing = latest_view(slack, "views.update", 1)
        assert listing["id"] == form_list_id(form)
        assert "Refund sent" in json.dumps(listing["blocks"])

        duplicate = agent.submit(form, "REFUND SENT", "Another text")
        assert duplicate["response_action"] == "errors"
        assert "already a saved reply" in duplicate["errors"][ids.SAVED_REPLY_TITLE_BLOCK]
        bad = agent.submit(form, "Totals", "Your total is {{order.total}} and {{ order.id }}.")
        assert bad["response_action"] == "errors"
        message = bad["errors"][ids.SAVED_REPLY_BODY_BLOCK]
        assert message.startswith("{{order.total}}, {{ order.id }} are not placeholders; use ")
        assert "{{customer.first_name}}" in message
        assert len(stored(helpdesk)) == 1

        [reply_id] = reply_ids(helpdesk)
        agent.overflow(listing, reply_id, "edit")
        form = latest_view(slack, "views.push", 2)
        assert form["callback_id"] == ids.SAVED_REPLY_EDIT_MODAL
        assert "your refund is on its way" in json.dumps(form["blocks"])
        assert agent.submit(form, "Refund sent", "Refunded, {{customer.name}}.") is None
        assert stored(helpdesk) == [("Refund sent", "Refunded, {{customer.name}}.")]

        agent.overflow(listing, reply_id, "delete")
        listing = latest_view(slack, "views.update", 3)
        assert stored(helpdesk) == []
        assert "No saved replies yet" in json.dumps(listing["blocks"])


def form_list_id(form: dict) -> str:
    return json.loads(form["private_metadata"])["list_view_id"]


def reply_ids(helpdesk) -> list[int]:
    with Session(helpdesk.engine) as session:
        return list(session.exec(select(SavedReply.id)))


def test_app_home_shows_my_tickets_and_unassigned_ones_with_thread_links(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        for subject in ("Broken mug", "Where is my order?"):
            assert smtp_send(helpdesk.smtp.port, customer_mail(subject=subject))[0] == 250
        assert eventually(lambda: all(t.thread_ts for t in tickets(helpdesk)) and tickets(helpdesk))
        with transaction(helpdesk.engine) as session:
            mine = session.exec(select(Ticket).where(Ticket.number == 1)).one()
            assign(session, mine, AGENT, actor=AGENT)

        agent = Person(helpdesk)
        agent.open_home(tab="messages")
        agent.open_home()
        home = latest_view(slack, "views.publish", 1)
        asked_for_workspace = len(slack.calls("auth.test"))
        agent.open_home()
        latest_view(slack, "views.publish", 2)

    assert home["type"] == "home"
    text = json.dumps(home["blocks"])
    mine = text.index("Your open tickets")
    assert text.index("My customers waiting") < mine
    assert mine < text.index("#1 Broken mug", mine) < text.index("Unassigned")
    assert text.index("Unassigned") < text.index("#2 Where is my order?")
    for ticket in tickets(helpdesk):
        link = f"{WORKSPACE_URL}archives/{CHANNEL}/p{ticket.thread_ts.replace('.', '')}"
        assert f"<{link}|#{ticket.number} " in text
    # Saved replies are one click away; the workspace URL was asked for once.
    assert ids.HOME_SAVED_REPLIES in text
    assert len(slack.calls("auth.test")) == asked_for_workspace
    assert len(slack.calls("views.publish")) == 2  # the Messages tab drew nothing


def tickets(helpdesk) -> list[Ticket]:
    with Session(helpdesk.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.number)))


@ON_BOTH_DATABASES
def test_find_answers_privately_with_links(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        port = helpdesk.smtp.port
        assert smtp_send(port, customer_mail(subject="Refund 100% please"))[0] == 250
        mail = customer_mail("It came cracked", subject="Mug <!here>", sender="bo@shop.example")
        assert smtp_send(port, mail)[0] == 250
        assert eventually(lambda: len(tickets(helpdesk)) == 2 and tickets(helpdesk)[1].thread_ts)
        agent = Person(helpdesk)
        answers = {
            query: agent.command(f"find {query}").json()
            for query in ("#2", "bo@shop.example", "cracked", "100%", "1_0", "#99")
        }
        usage = agent.command("find").body

    def found(query: str) -> list[str]:
        answer = answers[query]
        for block in answer["blocks"]:
            Block.parse(block).to_dict()  # as Slack would validate them
        return [b["text"]["text"] for b in answer["blocks"][1:]]

    [line] = found("#2")
    link = f"{WORKSPACE_URL}archives/{CHANNEL}/p{tickets(helpdesk)[1].thread_ts.replace('.', '')}"
    assert line.startswith(f"*<{link}|#2 Mug &lt;!here&gt;>*")  # escaped: it pings nobody
    assert answers["#2"]["text"] == "1 ticket matches `#2`:"
    assert found("bo@shop.example") == [line]
    assert found("cracked") == [line]
    # % and _ are searched for as written, not as wildcards.
    [line] = found("100%")
    assert "|#1 Refund 100% please>*" in line
    assert "No tickets match" in answers["1_0"]["text"]
    assert "No tickets match" in answers["#99"]["text"]
    assert "find refund" in usage


def test_unknown_subcommands_get_the_help(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        answer = Person(helpdesk).command("frobnicate now").body
    assert answer.startswith("I did not understand `frobnicate`.")
    assert "/helpdesk find" in answer and "/helpdesk replies" in answer


def test_people_outside_the_team_are_refused_and_change_nothing(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        assert smtp_send(helpdesk.smtp.port, customer_mail())[0] == 250
        with transaction(helpdesk.engine) as session:
            reply_id = saved_replies.create(session, "Thanks", "Thank you!", actor=AGENT).id
        outsider = Person(helpdesk, user=OUTSIDER)
        assert outsider.command("replies").body == NOT_AN_AGENT
        assert outsider.command("find #1").body == NOT_AN_AGENT

        # Views they could only have got hold of by forging them.
        listing = {"id": "V0FORGED", "type": "modal", "callback_id": ids.SAVED_REPLIES_MODAL}
        outsider.overflow(listing, reply_id, "delete")
        form = {"id": "V0FORGED", "type": "modal", "callback_id": ids.SAVED_REPLY_EDIT_MODAL}
        form["private_metadata"] = json.dumps({"reply_id": reply_id, "list_view_id": "V0FORGED"})
        refused = outsider.submit(form, "Sneaky", "Hello")
        assert refused["errors"][ids.SAVED_REPLY_TITLE_BLOCK] == NOT_AN_AGENT
        slack.wait_for(lambda: slack.calls("chat.postEphemeral"))

        outsider.open_home()
        home = latest_view(slack, "views.publish", 1)

    assert stored(helpdesk) == [("Thanks", "Thank you!")]
    assert [call.args["text"] for call in slack.calls("chat.postEphemeral")] == [NOT_AN_AGENT]
    assert [r.method for r in slack.requests if r.method.startswith("views.")] == ["views.publish"]
    assert "for the support team" in json.dumps(home["blocks"])
    assert ids.HOME_SAVED_REPLIES not in json.dumps(home["blocks"])


def test_render_for_fills_a_saved_reply_in_for_a_ticket(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        assert smtp_send(helpdesk.smtp.port, customer_mail())[0] == 250
        assert eventually(lambda: tickets(helpdesk))
        with transaction(helpdesk.engine) as session:
            reply = saved_replies.create(
                session,
                "Hello",
                "Hi {{customer.first_name}} ({{customer.name}}), #{{ticket.number}}. "
                "{{agent.first_name}}",
                actor=AGENT,
            )
            ticket = session.exec(select(Ticket)).one()
            assert saved_replies.render_for(session, reply.id, ticket, "Alex Agent") == (
                "Hi Jane (Jane Doe), #1. Alex"
            )
            assert saved_replies.render_for(session, reply.id, ticket, "") == (
                "Hi Jane (Jane Doe), #1. the team"
            )
            assert saved_replies.render_for(session, reply.id + 1, ticket, "Alex") is None
