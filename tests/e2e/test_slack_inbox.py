"""Slack's requests acknowledged first (bot/handlers/slack/inbox.py): acks while the database
is locked, a `kill -9` right after acks under load, and Slack's retries."""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import count

import pytest
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import SlackEventSender, event_body, interaction_body
from bot.storage.db import engine_apart, make_engine
from bot.storage.models import Direction, Message, SlackInboxEntry, Ticket, TicketEvent
from bot.views import ids
from tests.conftest import free_port
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    customer_mail,
    eventually,
    http_sender,
    running_helpdesk,
    smtp_send,
    start_serve,
)
from tests.e2e.test_agent_workflow import OTHER_AGENT, Desk


@pytest.fixture
def desk(database_url) -> Iterator[Desk]:
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"], OTHER_AGENT])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, outbound_smtp_url=sink.url)
        )
        yield Desk(helpdesk, slack, sink)


@contextmanager
def database_locked(database_url: str) -> Iterator[None]:
    """Another connection holds what every change from Slack needs: SQLite's writer lock, or
    PostgreSQL's lock on the tickets table (no read or write of it gets past)."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("LOCK TABLE tickets IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


def note(root_ts: str, n: int) -> dict:
    return {
        "type": "message",
        "channel": CHANNEL,
        "channel_type": "channel",
        "user": AGENT["id"],
        "text": f"note {n}",
        "ts": f"1800000000.{n:06d}",
        "thread_ts": root_ts,
    }


def notes_of(engine, ticket_id: int) -> list[str]:
    with Session(engine) as session:
        found = session.exec(
            select(Message.body)
            .where(Message.ticket_id == ticket_id, Message.direction == Direction.NOTE)
            .order_by(Message.id)
        )
        return list(found)


def test_acks_come_back_while_the_database_is_locked_and_the_work_lands_after(desk, database_url):
    # More than Bolt's five listener threads: each would have waited for the lock with them.
    notes = [note(desk.root_ts, n) for n in range(12)]
    with database_locked(database_url):
        for event in notes:
            assert desk.sender.send_event(event).status == 200
        for choice in ("urgent", "low", "high"):
            clicked = desk.click(ids.TICKET_PRIORITY, value=None, selected_option={"value": choice})
            assert clicked.status == 200
    # In the order they came, once each, with the clicks applied in order too.
    expected = [event["text"] for event in notes]
    assert eventually(lambda: notes_of(desk.helpdesk.engine, desk.ticket_id) == expected, 60)
    assert eventually(lambda: desk.ticket().priority == "high", timeout=30)


def events_of(engine, ticket_id: int, kind: str) -> int:
    with Session(engine) as session:
        return session.exec(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
        ).one()


def test_slacks_retries_of_a_request_do_one_thing(desk):
    event = event_body(note(desk.root_ts, 1), event_id="Ev0RETRIED")
    for retry in (None, 1, 2):
        assert desk.sender.send_event(event, retry_num=retry).status == 200
    # The same click twice, byte for byte, the second after the first was worked.
    click = interaction_body(
        {
            "type": "block_actions",
            "user": AGENT,
            "team": {"id": "T0FAKE", "domain": "fake"},
            "api_app_id": "A0HELPDESK",
            "trigger_id": "1.2.once",
            "channel": {"id": CHANNEL, "name": "support"},
            "container": {"type": "message", "message_ts": desk.root_ts},
            "message": {"ts": desk.root_ts, "text": "#1"},
            "actions": [{"type": "button", "action_id": ids.TICKET_ASSIGN,
                         "block_id": f"{ids.ROOT_ACTIONS_BLOCK}:{desk.ticket_id}",
                         "value": str(desk.ticket_id), "action_ts": "1.2"}],
        }
    )  # fmt: skip
    form = "application/x-www-form-urlencoded"
    assert desk.sender.post(click, form).status == 200
    assert eventually(lambda: desk.ticket().assignee == AGENT["id"])
    assert desk.sender.post(click, form).status == 200
    # Worked in order after the requests before it in the thread: once it shows, they ran.
    assert desk.sender.send_event(note(desk.root_ts, 2)).status == 200
    engine = desk.helpdesk.engine
    # What is tested is once and in order, not how soon: on a loaded CI machine the inbox
    # worker once took longer than the default 10 s to reach note 2.
    assert eventually(lambda: notes_of(engine, desk.ticket_id) == ["note 1", "note 2"], timeout=30)
    assert events_of(engine, desk.ticket_id, "assigned") == 1
    # A second "assign to me" would have been told "You already have ticket #1".
    assert not desk.slack.calls("chat.postEphemeral")


def send_until_killed(
    sender: SlackEventSender, root_ts: str, numbers: count, acked: list[str], stop: threading.Event
) -> None:
    while not stop.is_set():
        event = note(root_ts, next(numbers))
        try:
            if sender.send_event(event).status == 200:
                acked.append(event["text"])
        except OSError:
            return  # the server is gone: Slack would retry this one later


def test_kill_9_right_after_acks_under_load_loses_no_acknowledged_event(database_url, tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        smtp_port, http_port = free_port(), free_port()
        serve = start_serve(
            database_url, slack, smtp_port, tmp_path, HELPDESK_HTTP_PORT=str(http_port)
        )
        engine = make_engine(database_url)
        try:
            assert smtp_send(smtp_port, customer_mail("Where is my parcel?"))[0] == 250
            ticket = []

            def threaded() -> bool:
                with Session(engine) as session:
                    ticket[:] = session.exec(select(Ticket).where(Ticket.thread_ts.is_not(None)))
                return bool(ticket)

            assert eventually(threaded, timeout=15)
            ticket_id, root_ts = ticket[0].id, ticket[0].thread_ts
            sender = http_sender(http_port)
            numbers, acked, stop = count(), [], threading.Event()
            load = (sender, root_ts, numbers, acked, stop)
            senders = [threading.Thread(target=send_until_killed, args=load) for _ in range(4)]
            for thread in senders:
                thread.start()
            assert eventually(lambda: len(acked) >= 20, timeout=30)
            # From here nothing acknowledged can be worked: it is all in the inbox at the kill.
            with database_locked(database_url):
                worked_before = len(acked)
                assert eventually(lambda: len(acked) >= worked_before + 20, timeout=30)
                serve.send_signal(signal.SIGKILL)
                serve.wait(10)
                stop.set()
                for thread in senders:
                    thread.join(15)
            restarted = start_serve(database_url, slack, smtp_port, tmp_path)
            try:
                assert eventually(
                    lambda: set(acked) <= set(notes_of(engine, ticket_id)), timeout=60
                ), f"lost: {set(acked) - set(notes_of(engine, ticket_id))}"
                inbox = engine_apart(engine, "slack-inbox")
                assert eventually(lambda: not rows(inbox), timeout=15)
                inbox.dispose()
            finally:
                restarted.send_signal(signal.SIGTERM)
                assert restarted.wait(15) == 0
            recorded = notes_of(engine, ticket_id)
            assert len(recorded) == len(set(recorded))  # once each
            # Besides the acknowledged ones, only those whose ack the kill cut off.
            assert len(recorded) <= len(acked) + len(senders)
        finally:
            if serve.poll() is None:
                serve.kill()
            engine.dispose()


def rows(inbox) -> list:
    with Session(inbox) as session:
        return list(session.exec(select(SlackInboxEntry.id)))
