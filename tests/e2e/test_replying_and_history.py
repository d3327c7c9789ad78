"""Not answering twice and knowing who the customer is, driven as Slack drives the app:
signed requests against the fake Slack, mail over real SMTP, Shopify's fake Admin API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, insert
from sqlmodel import Session, select

from bot.core import replying
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.reply_expiry import expire_replies
from bot.read_models.ticket_summary import customer_history, ticket_summary
from bot.storage.models import Customer, ReplyInProgress, Ticket, utcnow
from bot.views import ids
from bot.views.customer_history import PAGE_SIZE
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    SlackAgent,
    answer_values,
    customer_mail,
    eventually,
    running_helpdesk,
    slack_sender,
    smtp_send,
)
from tests.e2e.test_agent_workflow import OTHER_AGENT, POLICY, Desk
from tests.e2e.test_shopify_context import BOB, TOKEN, shop_desk


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


KIM = {"id": OTHER_AGENT, "username": "kim", "name": "kim", "team_id": "T0FAKE"}


@pytest.fixture
def desk(database_url):
    """Two agents, Alex and Kim, and Jane's first ticket."""
    with FakeSlack() as slack, MailSink() as sink:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"], OTHER_AGENT])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        slack.add_user(OTHER_AGENT, "kim", real_name="Kim Agent")
        with running_helpdesk(database_url, slack, POLICY, outbound_smtp_url=sink.url) as helpdesk:
            yield Desk(helpdesk, slack, sink)


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()  # 1 order, 41.94 USD spent
        yield fake


def root_of(desk) -> str:
    """The ticket's root message as Slack shows it now, blocks and all."""
    return json.dumps(desk.slack.thread(CHANNEL, desk.root_ts)[0].get("blocks"))


def root_says(desk, text: str) -> bool:
    return eventually(lambda: text in root_of(desk))


def root_stops_saying(desk, text: str) -> bool:
    return eventually(lambda: text not in root_of(desk))


def open_reply(desk, user: dict = AGENT) -> dict:
    opened = len(desk.slack.calls("views.open"))
    assert desk.click(ids.TICKET_REPLY, user).status == 200
    return desk.agent.opened_view(after=opened)


def close(desk, view: dict, user: dict = AGENT) -> None:
    payload = {"type": "view_closed", "user": user, "team": {"id": "T0FAKE"},
               "api_app_id": "A0HELPDESK", "view": view, "is_cleared": False}  # fmt: skip
    assert desk.sender.send_interaction(payload).status == 200


def test_two_agents_replying_are_shown_and_warned_until_they_close(desk):
    first = open_reply(desk)
    assert root_says(desk, f"<@{AGENT['id']}> is replying")
    assert "already replying" not in json.dumps(first["blocks"])

    second = open_reply(desk, KIM)
    warning = json.dumps(second["blocks"][0])
    assert f"<@{AGENT['id']}>" in warning and "already replying" in warning
    assert "opened 0m ago" in warning
    assert root_says(desk, f"<@{AGENT['id']}> and <@{OTHER_AGENT}> are replying")

    close(desk, first)
    assert root_says(desk, f"<@{OTHER_AGENT}> is replying")
    close(desk, second, KIM)
    assert root_stops_saying(desk, "replying")
    with Session(desk.helpdesk.engine) as session:
        assert session.exec(select(ReplyInProgress)).all() == []


def test_a_modal_left_open_stops_counting_after_the_timeout(desk):
    open_reply(desk)
    assert root_says(desk, "is replying")
    assert expire_replies(desk.helpdesk.engine, utcnow()) == 0  # not yet
    later = utcnow() + replying.TIMEOUT + timedelta(seconds=1)
    assert expire_replies(desk.helpdesk.engine, later) == 1
    assert root_stops_saying(desk, "is replying")
    # A second agent opening the modal now is warned of nobody.
    assert "already replying" not in json.dumps(open_reply(desk, KIM)["blocks"])


def test_submitting_after_the_customer_wrote_again_asks_to_confirm_then_sends_once(desk):
    view = open_reply(desk)
    assert root_says(desk, "is replying")
    follow_up = customer_mail(
        "Actually, it came today but it is broken.", subject="Re: Where is my order?",
        in_reply_to=desk.first_mail["Message-ID"],
    )  # fmt: skip
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250
    assert eventually(lambda: any("broken" in text for text in desk.thread_texts()))

    answer = desk.submit(view, answer_values(view, "We have sent a new one."), view_id=view["id"])
    update = json.loads(answer.body)
    assert update["response_action"] == "update"
    redrawn = update["view"]
    shown = json.dumps(redrawn["blocks"])
    assert "wrote again" in shown and "it is broken" in shown
    assert "We have sent a new one." in shown  # the answer is kept
    confirm = next(b for b in redrawn["blocks"] if b.get("block_id") == ids.REPLY_CONFIRM_BLOCK)
    assert confirm["type"] == "input" and not confirm.get("optional")
    time.sleep(0.5)
    assert desk.sink.messages == []  # nothing went to the customer

    values = answer_values(redrawn, "Sorry! A new one is on its way.")
    unticked = {**values, ids.REPLY_CONFIRM_BLOCK: {ids.REPLY_CONFIRM: {"selected_options": []}}}
    refused = json.loads(desk.submit(redrawn, unticked, view_id=view["id"]).body)
    assert refused["response_action"] == "errors"
    assert ids.REPLY_CONFIRM_BLOCK in refused["errors"]

    ticked = {ids.REPLY_CONFIRM: {"selected_options": [{"value": "send"}]}}
    sent = desk.submit(redrawn, {**values, ids.REPLY_CONFIRM_BLOCK: ticked}, view_id=view["id"])
    assert sent.status == 200 and sent.body in ("", "{}"), sent.body
    assert eventually(lambda: len(desk.sink.messages) == 1)
    sent_mail = desk.sink.parsed()[0]
    assert "A new one is on its way" in sent_mail.get_body(preferencelist=("plain",)).get_content()
    assert root_stops_saying(desk, "is replying")
    time.sleep(0.5)
    assert len(desk.sink.messages) == 1


def test_a_returning_customer_has_a_history_line_a_history_modal_and_a_command(desk):
    second = customer_mail("Also, do you sell gift cards?", subject="Gift cards")
    assert smtp_send(desk.helpdesk.smtp.port, second)[0] == 250
    assert eventually(lambda: (_ticket(desk, 2) or Ticket()).thread_ts is not None)
    ticket = _ticket(desk, 2)
    assert eventually(lambda: ticket.thread_ts in {m["ts"] for m in _roots(desk)})
    root = next(m for m in _roots(desk) if m["ts"] == ticket.thread_ts)
    assert "1 earlier ticket" in json.dumps(root["blocks"])
    assert "First ticket from this customer" in root_of(desk)

    opened = len(desk.slack.calls("views.open"))
    desk.agent.click(ticket.id, ticket.thread_ts, ids.TICKET_HISTORY)
    modal = json.dumps(desk.agent.opened_view(after=opened)["blocks"])
    assert "Where is my order?" in modal and "#1" in modal
    assert "Gift cards" not in modal  # the ticket it was opened from is not listed
    assert f"archives/{CHANNEL}/p{desk.root_ts.replace('.', '')}" in modal

    for query in ("Jane@Customer.example", "jane d"):
        answer = desk.sender.send_command(
            "/helpdesk", f"customer {query}", user_id=AGENT["id"], channel_id=CHANNEL
        )
        assert "Jane Doe" in answer.body and "2 tickets" in answer.body, answer.body
        assert "Gift cards" in answer.body and ids.CUSTOMER_HISTORY in answer.body

    unknown = desk.sender.send_command(
        "/helpdesk", "customer nobody@nowhere.example", user_id=AGENT["id"], channel_id=CHANNEL
    )
    assert "No customer matches" in unknown.body
    usage = desk.sender.send_command(
        "/helpdesk", "customer", user_id=AGENT["id"], channel_id=CHANNEL
    )
    assert "/helpdesk customer jane@example.com" in usage.body


def test_hostile_names_and_subjects_are_escaped_in_the_history(desk):
    hostile = customer_mail(
        "hi", subject="<!channel> <@U0BOSS> refund", sender='"<!here> Eve" <eve@evil.example>'
    )
    assert smtp_send(desk.helpdesk.smtp.port, hostile, envelope_sender="eve@evil.example")[0] == 250
    assert eventually(lambda: _ticket(desk, 2) is not None)
    answer = desk.sender.send_command(
        "/helpdesk", "customer eve@evil.example", user_id=AGENT["id"], channel_id=CHANNEL
    )
    assert "&lt;!channel&gt;" in answer.body and "&lt;@U0BOSS&gt;" in answer.body
    assert "<!channel>" not in answer.body and "<!here>" not in answer.body


def test_the_app_home_lists_my_customers_waiting(desk):
    assert desk.click(ids.TICKET_ASSIGN).status == 200
    assert eventually(lambda: desk.ticket().assignee == AGENT["id"])

    def waiting() -> list[str]:
        published = len(desk.slack.calls("views.publish"))
        desk.sender.send_event(
            {"type": "app_home_opened", "user": AGENT["id"], "channel": "D0HOME", "tab": "home"}
        )
        desk.slack.wait_for(lambda: len(desk.slack.calls("views.publish")) > published)
        blocks = desk.slack.home_view(AGENT["id"])["blocks"]
        headers = [i for i, b in enumerate(blocks) if b["type"] == "header"]
        at = next(i for i in headers if blocks[i]["text"]["text"] == "My customers waiting")
        end = next(i for i in headers if i > at)
        return [json.dumps(b) for b in blocks[at:end] if b["type"] == "section"]

    assert any("#1 Where is my order?" in line for line in waiting())
    desk.agent.reply(desk.ticket_id, desk.root_ts, "On its way.")
    assert eventually(lambda: waiting() == [])


@ON_BOTH_DATABASES
def test_a_customer_with_ten_thousand_tickets_is_paged_and_counted_in_one_query(desk):
    engine = desk.helpdesk.engine
    first = desk.ticket()
    with Session(engine) as session:
        jane = session.exec(select(Customer)).one()
    start = first.created_at - timedelta(days=3000)
    rows = [
        {"number": 100 + i, "subject": f"Old question {i}", "status": "closed",
         "priority": "normal", "source": "email", "customer_id": jane.id, "channel": CHANNEL,
         "thread_ts": f"1500000000.{i:06d}", "reply_token": f"old-{i}", "vip": False,
         "created_at": start + timedelta(hours=i), "updated_at": start + timedelta(hours=i)}
        for i in range(10_000)
    ]  # fmt: skip
    with Session(engine) as session:
        session.execute(insert(Ticket), rows)
        session.commit()

    statements: list[tuple[str, object]] = []

    def count(conn, cursor, statement, parameters, *args) -> None:
        statements.append((statement, parameters))

    with Session(engine) as session:
        ticket = session.get(Ticket, first.id)
        customer = session.get(Customer, jane.id)
        event.listen(engine, "before_cursor_execute", count)
        try:
            history = customer_history(session, customer, ticket.created_at)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert history.tickets_before == 10_000
        assert len(statements) == 1  # one statement, however many tickets
        assert ticket_summary(session, ticket).history.tickets_before == 10_000
    if engine.dialect.name == "sqlite":
        # Every part is answered from an index: no scan of the tickets or the surveys.
        [(statement, parameters)] = statements
        with engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            steps = [row[-1] for row in plan]
        assert any("ix_tickets_customer_created" in step for step in steps), steps
        assert not [s for s in steps if s.startswith("SCAN") and s != "SCAN CONSTANT ROW"], steps

    opened = len(desk.slack.calls("views.open"))
    desk.click(ids.TICKET_HISTORY)
    view = desk.agent.opened_view(after=opened)
    assert "10000 earlier tickets" in json.dumps(view["blocks"])
    assert json.dumps(view["blocks"]).count("Old question") == PAGE_SIZE
    assert "Old question 9999" in json.dumps(view["blocks"])  # newest first
    pager = next(b for b in view["blocks"] if b["type"] == "actions")
    assert [e["text"]["text"] for e in pager["elements"]] == ["Older"]

    updates = len(desk.slack.calls("views.update"))
    desk.sender.send_interaction(
        {
            "type": "block_actions",
            "user": AGENT,
            "team": {"id": "T0FAKE"},
            "api_app_id": "A0HELPDESK",
            "trigger_id": "1.2.3",
            "container": {"type": "view"},
            "view": view,
            "actions": [
                {
                    "type": "button",
                    "action_id": ids.HISTORY_PAGE,
                    "value": "499",
                    "action_ts": "1.0",
                }
            ],
        }
    )
    desk.slack.wait_for(lambda: len(desk.slack.calls("views.update")) > updates)
    last = json.dumps(desk.slack.calls("views.update")[-1].args["view"])
    assert "Old question 0" in last and "Old question 20" not in last
    assert '"Newer"' in last and '"Older"' not in last


def _ticket(desk, number: int) -> Ticket | None:
    with Session(desk.helpdesk.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).first()


def _roots(desk) -> list[dict]:
    return [
        m
        for m in desk.slack.messages_in(CHANNEL)
        if "thread_ts" not in m or m["thread_ts"] == m["ts"]
    ]


def test_a_returning_shop_customer_shows_orders_and_spend(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        agent = SlackAgent(helpdesk.http_port, slack, sender=slack_sender(helpdesk, slack))
        for subject in ("Order status", "Another question"):
            mail = customer_mail("Hello, Bob here", sender=BOB, subject=subject)
            assert (
                smtp_send(helpdesk.smtp.port, mail, envelope_sender="bob.norman@hostmail.com")[0]
                == 250
            )

        def second_root() -> str:
            with Session(helpdesk.engine) as session:
                ticket = session.exec(select(Ticket).where(Ticket.number == 2)).first()
            if ticket is None or ticket.thread_ts is None:
                return ""
            return json.dumps(slack.thread(CHANNEL, ticket.thread_ts)[0].get("blocks"))

        assert eventually(lambda: "41.94 USD spent" in second_root(), timeout=15)
        assert "1 earlier ticket" in second_root() and "1 order" in second_root()
        with Session(helpdesk.engine) as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == 2)).one()
        opened = len(slack.calls("views.open"))
        updated = len(slack.calls("views.update"))
        agent.click(ticket.id, ticket.thread_ts, ids.TICKET_HISTORY)
        assert "Order status" in json.dumps(agent.opened_view(after=opened)["blocks"])
        slack.wait_for(lambda: len(slack.calls("views.update")) > updated, timeout=10)
        orders = json.dumps(slack.calls("views.update")[-1].args["view"])
        assert "Orders in Shopify" in orders and "#1001" in orders
