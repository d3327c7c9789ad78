"""Live chat through its real HTTP API: visitors on one side, agents in the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.config import ChatPolicy, Policy
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.chat_followup import email_unseen_chat_replies
from bot.storage.models import ChatConversation, Message, Source, Ticket
from tests.conftest import (
    ON_BOTH_DATABASES,
    free_port,
    fresh_postgres_database,
    sqlite_unless_on_both,
    start_redis,
)
from tests.e2e.chat_visitor import Answer, ChatVisitor
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SUPPORT,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
    staffed_helpdesk,
)


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


SHOP = "https://shop.example"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
POLICY = Policy(chat=ChatPolicy(allowed_origins=[SHOP], visitor_messages_per_minute=20))


class Agents:
    """The agent in Slack answering chat tickets, found by their number."""

    def __init__(self, helpdesk, slack: FakeSlack):
        self.helpdesk, self.slack = helpdesk, slack
        self.agent = SlackAgent(helpdesk.http_port, slack)

    def ticket(self, number: int = 1) -> Ticket:
        with Session(self.helpdesk.engine) as session:
            return session.exec(select(Ticket).where(Ticket.number == number)).one()

    def reply(self, text: str, number: int = 1) -> None:
        ticket = self.ticket(number)
        self.agent.reply(ticket.id, ticket.thread_ts, text)

    def thread_texts(self, number: int = 1) -> list[str]:
        """Reads the database: wait on it with `eventually`, never inside FakeSlack.wait_for,
        whose lock the fake's server needs while the outbox may hold the database."""
        ticket = self.ticket(number)
        return [m["text"] for m in self.slack.thread(ticket.channel, ticket.thread_ts)]


@pytest.fixture
def desk(database_url):
    with staffed_helpdesk(database_url, POLICY) as (helpdesk, slack, sink):
        yield helpdesk, slack, sink, Agents(helpdesk, slack)


def email_unseen(helpdesk, now: datetime | None = None) -> int:
    """The follow-up job as the scheduler runs it, at `now` (default: now)."""
    return email_unseen_chat_replies(helpdesk.engine, SUPPORT, POLICY.chat.away_after, now=now)


def visitor_of(helpdesk, **kwargs) -> ChatVisitor:
    return ChatVisitor(helpdesk.http_port, **kwargs)


@ON_BOTH_DATABASES
def test_a_chat_becomes_a_ticket_thread_and_the_agents_reply_streams_back(desk):
    helpdesk, slack, _, agents = desk
    jane = visitor_of(helpdesk, origin=SHOP)
    started = jane.start(
        "Where is order #1001?",
        name="Jane Doe",
        email="jane@customer.example",
        page_url="https://shop.example/products/mug",
        client_id="c-first-0123456789",
    )
    assert started.status == 201, started.body
    assert started.headers["access-control-allow-origin"] == SHOP
    body = started.body
    assert body["conversation"]["ticket_number"] == 1
    assert [(m["from"], m["text"]) for m in body["messages"]] == [
        ("visitor", "Where is order #1001?")
    ]

    assert slack.wait_for(
        lambda: len(agents.thread_texts()) == 2 if slack.messages_in(CHANNEL) else False
    )
    root = slack.messages_in(CHANNEL)[0]
    assert root["text"].startswith("#1 Where is order #1001?")
    root_text = json.dumps(root["blocks"])
    assert "via live chat" in root_text
    assert "https://shop.example/products/mug" in root_text
    assert agents.thread_texts()[1] == "Where is order #1001?"

    with jane.stream(after=body["messages"][-1]["id"]) as stream:
        agents.reply("It ships today, Jane.")
        message = stream.next_message()
    assert (message["from"], message["text"]) == ("agent", "It ships today, Jane.")
    assert eventually(lambda: len(agents.thread_texts()) == 3)
    copy = slack.thread(CHANNEL, agents.ticket().thread_ts)[2]
    assert "Sent to the live chat" in json.dumps(copy["blocks"])

    with Session(helpdesk.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.source == Source.CHAT
        assert ticket.first_response_at is not None


def test_a_reload_resumes_and_the_stream_picks_up_after_the_last_event(desk):
    helpdesk, slack, _, agents = desk
    jane = visitor_of(helpdesk)
    jane.start("Hello?")
    assert jane.say("Anyone there?").status == 201
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 3)
    agents.reply("Yes! How can I help?")

    resumed = jane.resume()
    assert resumed.status == 200
    assert eventually(lambda: len(jane.resume().body["messages"]) == 3)
    texts = [m["text"] for m in jane.resume().body["messages"]]
    assert texts == ["Hello?", "Anyone there?", "Yes! How can I help?"]
    second_id = jane.resume().body["messages"][1]["id"]

    # A browser reconnecting after an event sends its id as Last-Event-ID.
    with jane.stream(last_event_id=str(second_id)) as stream:
        replayed = stream.next_message()
        assert replayed["text"] == "Yes! How can I help?"
        jane.say("My order is #1001")
        assert stream.next_message()["text"] == "My order is #1001"
        assert stream.events.empty()

    assert [m["text"] for m in jane.poll(after=second_id).body["messages"]] == [
        "Yes! How can I help?",
        "My order is #1001",
    ]


def test_another_visitor_cannot_read_or_write_a_conversation_not_theirs(desk):
    helpdesk, *_ = desk
    jane, mallory = visitor_of(helpdesk), visitor_of(helpdesk)
    jane.start("My address is 1 Private Lane")
    mallory.start("Hi")
    mallory.conversation_id = jane.conversation_id  # knows the id, not the token

    for answer in (
        mallory.resume(),
        mallory.poll(),
        mallory.say("Send it to my house instead"),
        mallory.request("PUT", f"{mallory.path}/contact", {"email": "mallory@evil.example"}),
    ):
        assert answer.status == 403 and answer.body["code"] == "wrong_token", answer.body
    stream = mallory.stream()
    assert stream.status == 403
    stream.close()

    tokenless = visitor_of(helpdesk)
    tokenless.conversation_id = jane.conversation_id
    assert tokenless.resume().body["code"] == "token_missing"
    mallory.conversation_id = "no-such-conversation"
    assert mallory.resume().status == 404
    assert [m["text"] for m in jane.resume().body["messages"]] == ["My address is 1 Private Lane"]


def test_bad_input_gets_the_right_status_and_a_json_error(desk):
    helpdesk, *_ = desk
    jane = visitor_of(helpdesk)
    start = "/chat/api/conversations"
    cases = [
        (jane.request("POST", start, raw=b"{not json"), 400, "invalid_json"),
        (jane.request("POST", start, {"message": "   "}), 422, "invalid"),
        (jane.request("POST", start, {"name": "Jane"}), 422, "invalid"),
        (jane.request("POST", start, ["a list"]), 422, "invalid"),
        (jane.request("POST", start, {"message": "x" * 5001}), 422, "invalid"),
        (jane.request("POST", start, {"message": "x" * (1024 * 1024)}), 413, "too_large"),
        (jane.request("POST", start, {"message": "hi", "email": "a@b OR 1=1"}), 422, "invalid"),
        (jane.request("POST", start, {"message": "hi", "client_id": "<script>"}), 422, "invalid"),
    ]
    for answer, status, code in cases:
        assert (answer.status, answer.body["code"]) == (status, code), answer.body
        assert answer.body["error"]
    assert cases[6][0].body["fields"]["email"].startswith("expected an email address")

    with Session(helpdesk.engine) as session:
        assert session.exec(select(Ticket)).all() == []


def test_markup_is_stored_as_text_and_escaped_in_slack(desk):
    helpdesk, slack, _, agents = desk
    jane = visitor_of(helpdesk)
    hostile = "<script>alert(1)</script> <!channel> <@U0AGENT1> <https://evil.example|click>"
    started = jane.start(hostile, name="<b>Jane</b> <!here>")
    assert started.body["messages"][0]["text"] == hostile
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    everything = json.dumps(slack.thread(CHANNEL, agents.ticket().thread_ts))
    for raw in ("<script>", "<!channel>", "<@U0AGENT1>", "<https://evil", "<!here>", "<b>"):
        assert raw not in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything


@ON_BOTH_DATABASES
def test_a_retried_send_stores_one_message(desk):
    helpdesk, *_ = desk
    jane = visitor_of(helpdesk)
    first = jane.start("Hi", client_id="start-abcdefghijklmnop")
    old_token = jane.token
    again = jane.start("Hi", client_id="start-abcdefghijklmnop")
    assert (first.status, again.status) == (201, 200)
    assert again.body["conversation"]["id"] == first.body["conversation"]["id"]
    assert jane.request("GET", jane.path, token=old_token).status == 403  # the lost one

    assert jane.say("Order 1001", client_id="m1").status == 201
    repeat = jane.say("Order 1001", client_id="m1")
    assert repeat.status == 200
    assert [m["text"] for m in jane.resume().body["messages"]] == ["Hi", "Order 1001"]
    with Session(helpdesk.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_a_flooding_visitor_is_limited_without_slowing_anyone_else(desk):
    helpdesk, *_ = desk
    flooder, calm = visitor_of(helpdesk, ip="203.0.113.7"), visitor_of(helpdesk, ip="198.51.100.2")
    flooder.start("spam")
    calm.start("Hello")
    began = time.monotonic()
    answers = [flooder.say(f"spam {n}") for n in range(200)]
    # The policy's burst of 20, plus what the bucket refilled meanwhile (20 a minute): on a
    # busy machine the 200 requests take long enough for a few more.
    refilled = int((time.monotonic() - began) * 20 / 60) + 1
    accepted = [a.status for a in answers].count(201)
    assert 20 <= accepted <= 20 + refilled
    limited = next(a for a in answers if a.status == 429)
    assert limited.body["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1

    assert calm.say("Is my order coming?").status == 201
    with Session(helpdesk.engine) as session:
        stored = session.exec(select(Message).where(Message.body.startswith("spam"))).all()
    assert len(stored) == accepted + 1


def test_pages_on_other_sites_are_refused(desk):
    helpdesk, *_ = desk
    shop, stranger = (
        visitor_of(helpdesk, origin=SHOP),
        visitor_of(helpdesk, origin="https://evil.example"),
    )
    preflight = shop.request(
        "OPTIONS",
        "/chat/api/conversations",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] == SHOP
    refused = stranger.start("Hi")
    assert refused.status == 403 and refused.body["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in refused.headers
    own_page = visitor_of(helpdesk, origin=f"http://127.0.0.1:{helpdesk.http_port}")
    assert own_page.start("Hi from the full page").status == 201


def test_the_widget_and_the_page_are_served(desk):
    helpdesk, *_ = desk
    visitor = visitor_of(helpdesk)
    script = visitor.request("GET", "/chat/widget.js")
    assert script.status == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert b"attachShadow" in script.body
    again = visitor.request(
        "GET", "/chat/widget.js", headers={"If-None-Match": script.headers["etag"]}
    )
    assert again.status == 304
    page = visitor.request("GET", "/chat/")
    assert page.status == 200 and b"/chat/widget.js" in page.body
    schema = visitor.request("GET", "/openapi.json").body
    assert "/chat/api/conversations/{conversation_id}/events" in schema["paths"]


def test_a_closed_conversation_is_gone(desk):
    helpdesk, slack, *_ = desk
    jane = visitor_of(helpdesk)
    jane.start("Thanks, all sorted")
    assert slack.wait_for(lambda: slack.messages_in(CHANNEL))
    with Session(helpdesk.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        ticket.status = "closed"
        session.add(ticket)
        session.commit()
    answer = jane.say("One more thing")
    assert answer.status == 410 and answer.body["code"] == "conversation_closed"


def test_a_visitor_without_an_address_is_headed_by_their_name_or_as_a_website_visitor(desk):
    helpdesk, slack, _, agents = desk
    visitor_of(helpdesk).start("Do you ship to Norway?")
    visitor_of(helpdesk).start("Is the mug dishwasher-safe?", name="Ola")

    def headers(number: int) -> list[str]:
        ticket = agents.ticket(number)
        thread = slack.thread(ticket.channel, ticket.thread_ts)
        return [m["blocks"][0]["elements"][0]["text"] for m in thread[1:]]

    assert eventually(lambda: headers(1) and headers(2))
    assert headers(1) == [":incoming_envelope: *Website visitor* wrote by live chat"]
    assert headers(2) == [":incoming_envelope: *Ola* wrote by live chat"]


def test_a_reply_the_visitor_left_without_seeing_is_emailed_and_their_answer_joins(desk):
    helpdesk, slack, sink, agents = desk
    jane = visitor_of(helpdesk)
    jane.start("Can you check my order?", name="Jane Doe", email="jane@customer.example")
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    agents.reply("Your parcel left yesterday.")
    assert eventually(lambda: len(agents.thread_texts()) == 3)

    # Not yet away long enough: nothing is emailed.
    assert email_unseen(helpdesk) == 0
    later = datetime.now(UTC) + timedelta(minutes=6)
    # A reply row another transaction holds at that instant is skipped (SKIP LOCKED) and
    # taken on the job's next run; run it until it has been taken once.
    emailed = []
    assert eventually(lambda: emailed.append(email_unseen(helpdesk, later)) or sum(emailed))
    assert sum(emailed) == 1
    assert eventually(lambda: len(sink.messages) == 1)
    mail = sink.parsed()[0]
    assert mail["To"] == "Jane Doe <jane@customer.example>"
    assert "Your parcel left yesterday." in mail.get_body(("plain",)).get_content()
    # Once is enough.
    assert email_unseen(helpdesk, later) == 0
    assert eventually(
        lambda: (
            "by email" in json.dumps(slack.thread(CHANNEL, agents.ticket().thread_ts)[2]["blocks"])
        )
    )

    answer = customer_mail(
        "Great, thanks!\n\n> Your parcel left yesterday.",
        subject=mail["Subject"],
        in_reply_to=mail["Message-ID"].strip("<>"),
        references=[mail["Message-ID"]],
    )
    answer.replace_header("In-Reply-To", mail["Message-ID"])
    assert smtp_send(helpdesk.smtp.port, answer)[0] == 250
    assert eventually(lambda: len(jane.resume().body["messages"]) == 3)
    last = jane.resume().body["messages"][-1]
    assert (last["from"], last["text"]) == ("visitor", "Great, thanks!")
    with Session(helpdesk.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1


def test_a_reply_the_visitor_saw_is_not_emailed(desk):
    helpdesk, slack, sink, agents = desk
    jane = visitor_of(helpdesk)
    jane.start("Hi", email="jane@customer.example")
    assert slack.wait_for(lambda: slack.messages_in(CHANNEL))
    with jane.stream() as stream:
        stream.next_message()
        agents.reply("Hello Jane")
        assert stream.next_message()["text"] == "Hello Jane"
    later = datetime.now(UTC) + timedelta(hours=1)
    assert email_unseen(helpdesk, later) == 0
    assert sink.messages == []


def test_out_of_hours_the_widget_is_told_and_an_email_is_required(database_url):
    today = datetime.now(UTC).date()
    policy = Policy(
        business_hours={"mon-sun": "09:00-17:00"},
        holidays=[today.isoformat(), (today + timedelta(days=1)).isoformat()],
    )
    with FakeSlack() as slack, running_helpdesk(database_url, slack, policy) as helpdesk:
        visitor = visitor_of(helpdesk)
        config = visitor.request("GET", "/chat/api/config").body
        assert config["open"] is False
        back = datetime.fromisoformat(config["back_at"])
        assert back.date() == today + timedelta(days=2) and back.hour == 9
        refused = visitor.start("Hello?")
        assert refused.status == 422 and refused.body["code"] == "email_required"
        assert visitor.start("Hello?", email="jane@customer.example").status == 201


@pytest.fixture
def postgres_url():
    yield from fresh_postgres_database()


@pytest.mark.postgres
def test_a_reply_reaches_a_visitor_connected_to_another_process(postgres_url):
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        first = stack.enter_context(running_helpdesk(postgres_url, slack, POLICY))
        second = stack.enter_context(running_helpdesk(postgres_url, slack, POLICY))
        jane = visitor_of(second)
        jane.start("Hi from the second process")
        agents = Agents(first, slack)
        assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
        with jane.stream(after=jane.resume().body["messages"][-1]["id"]) as stream:
            agents.reply("Answered through the first process")
            assert stream.next_message()["text"] == "Answered through the first process"


def test_a_stranger_with_the_conversation_id_cannot_use_up_the_visitors_limit(desk):
    helpdesk, *_ = desk
    jane = visitor_of(helpdesk, ip="198.51.100.2")
    jane.start("Hello")
    stranger = visitor_of(helpdesk, ip="203.0.113.7")
    stranger.conversation_id, stranger.token = jane.conversation_id, "not-janes-token"
    answers = [stranger.say(f"spam {n}").status for n in range(3 * 20)]
    assert set(answers) == {403}, answers  # three times the visitor's per-minute burst
    anonymous = visitor_of(helpdesk, ip="203.0.113.7")
    anonymous.conversation_id = jane.conversation_id
    refused = [anonymous.say("spam") for _ in range(30)]
    assert {(a.status, a.body["code"]) for a in refused} == {(401, "token_missing")}

    assert jane.say("Is my order coming?").status == 201
    with Session(helpdesk.engine) as session:
        assert session.exec(select(Message).where(Message.body.startswith("spam"))).all() == []


def expire(helpdesk) -> None:
    """Idle, visitor and ticket alike, for longer than the policy's resume_for."""
    long_ago = datetime.now(UTC) - POLICY.chat.resume_for - timedelta(days=1)
    with Session(helpdesk.engine) as session:
        conversation = session.exec(select(ChatConversation)).one()
        conversation.last_seen_at = long_ago
        session.get(Ticket, conversation.ticket_id).updated_at = long_ago
        session.commit()


def test_an_expired_conversation_is_refused_alike_on_every_endpoint(desk):
    helpdesk, slack, *_ = desk
    jane = visitor_of(helpdesk)
    jane.start("Hello")
    assert slack.wait_for(lambda: slack.messages_in(CHANNEL))
    expire(helpdesk)
    answers = {
        "resume": jane.resume(),
        "send": jane.say("Still there?"),
        "contact": jane.request("PUT", f"{jane.path}/contact", {"name": "Jane"}),
        "poll": jane.poll(),
    }
    with jane.stream() as stream:
        # A refusal has a JSON body; an open stream would be read until it ends.
        refused = stream.status != 200
        body = json.loads(stream.response.read()) if refused else {}
        answers["stream"] = Answer(stream.status, body, {})
    refusals = {name: (a.status, a.body.get("code")) for name, a in answers.items()}
    assert refusals == dict.fromkeys(answers, (410, "conversation_expired"))
    # Refused, not read: asking didn't mark the visitor as seen and revive the conversation.
    assert jane.resume().status == 410


def test_chat_requests_while_redis_is_away_get_a_503_and_work_again_after(tmp_path):
    port = free_port()
    redis = start_redis(port)
    with (
        FakeSlack() as slack,
        running_helpdesk(
            f"sqlite:///{tmp_path / 'helpdesk.db'}", slack, redis_url=f"redis://127.0.0.1:{port}/0"
        ) as helpdesk,
    ):
        visitor = visitor_of(helpdesk)
        try:
            assert visitor.request("GET", "/chat/api/config").status == 200
            redis.terminate()
            redis.wait(10)
            away = visitor.request("GET", "/chat/api/config")
            assert (away.status, away.body["code"]) == (503, "unavailable")
            redis = start_redis(port)
            assert visitor.request("GET", "/chat/api/config").status == 200
        finally:
            redis.terminate()
            redis.wait(10)
