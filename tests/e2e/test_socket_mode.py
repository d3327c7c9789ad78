"""The helpdesk reached over Socket Mode: the end-to-end stories run over signed HTTP and over
the fake Slack's WebSocket alike, and the connection survives what Slack and networks do to it
(a `disconnect`, a closed socket, a peer gone silent) without losing an event."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlmodel import Session, select

from bot.app import create_app
from bot.config import ConfigError, Policy
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import event_body
from bot.handlers.slack.socket_mode import PING_INTERVAL_SECONDS
from bot.storage.models import Direction, Escalation, Message
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    answer_values,
    eventually,
    running_helpdesk,
    settings_for,
)
from tests.e2e.test_agent_workflow import Desk


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


TIER2 = "C0TIER2"
POLICY = Policy.model_validate({"escalation": {"tiers": [{"name": "Tier 2", "channel": TIER2}]}})
# Generous: the client notices a silent peer within about 2.5 ping intervals.
DEAD_CONNECTION_REPLACED_WITHIN = 15


def desk_over(transport: str, database_url: str, stack: ExitStack) -> Desk:
    slack = stack.enter_context(FakeSlack())
    slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
    slack.add_channel(TIER2, "tier-2")
    slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
    sink = stack.enter_context(MailSink())
    socket_mode = {"slack_app_token": slack.app_token} if transport == "socket_mode" else {}
    helpdesk = stack.enter_context(
        running_helpdesk(database_url, slack, POLICY, outbound_smtp_url=sink.url, **socket_mode)
    )
    return Desk(helpdesk, slack, sink)


@pytest.fixture(params=["http", "socket_mode"])
def desk(request, database_url):
    with ExitStack() as stack:
        yield desk_over(request.param, database_url, stack)


@pytest.fixture
def socket_desk(tmp_path):
    """Socket Mode only, on SQLite: what is tested here is the connection, not the database."""
    with ExitStack() as stack:
        yield desk_over("socket_mode", f"sqlite:///{tmp_path / 'helpdesk.db'}", stack)


def note(desk: Desk, number: int) -> dict:
    return {"type": "message", "channel": CHANNEL, "user": AGENT["id"], "text": f"note {number}",
            "ts": f"1800000000.{number:06d}", "thread_ts": desk.root_ts,
            "channel_type": "channel"}  # fmt: skip


def note_texts(desk: Desk) -> list[str]:
    with Session(desk.helpdesk.engine) as session:
        query = select(Message.body).where(Message.direction == Direction.NOTE)
        return sorted(session.exec(query.order_by(Message.id)))


@ON_BOTH_DATABASES
def test_email_becomes_a_thread_and_a_retried_event_counts_once(desk):
    root, first = desk.slack.thread(CHANNEL, desk.root_ts)[:2]
    assert "#1" in root["text"] and "my parcel never came." in first["text"]

    body = event_body(note(desk, 1))
    assert desk.sender.send_event(body).status == 200
    assert eventually(lambda: note_texts(desk) == ["note 1"])
    assert desk.sender.send_event(body, retry_num=1).status == 200
    # An edit sent after the retry has gone through the same listeners once applied.
    edited = {**note(desk, 1), "text": "note 1, edited"}
    desk.sender.send_event({"type": "message", "subtype": "message_changed", "channel": CHANNEL,
                            "ts": "1800000001.000001", "message": edited,
                            "previous_message": note(desk, 1)})  # fmt: skip
    assert eventually(lambda: note_texts(desk) == ["note 1, edited"])


def test_reply_modal_shows_an_error_then_sends_the_answer(desk):
    assert desk.click(ids.TICKET_REPLY).status == 200
    view = desk.opened_view()
    empty = desk.submit(view, answer_values(view, "   "))
    assert empty.json()["response_action"] == "errors"
    assert "Write an answer" in json.dumps(empty.json()["errors"])

    sent = desk.submit(view, answer_values(view, "Hi Jane, it ships today."))
    assert sent.status == 200 and sent.body in ("", "{}"), sent.body
    assert eventually(lambda: desk.sink.messages, timeout=10)
    [mail] = desk.sink.parsed()
    assert mail["Subject"] == "Re: Where is my order?"
    assert "it ships today." in mail.get_body(("plain",)).get_content()


def test_escalate_command_answers_and_posts_to_the_tier(desk):
    answer = desk.sender.send_command(
        "/escalate", "#1 refund over the limit", user_id=AGENT["id"], channel_id=CHANNEL
    )
    assert answer.status == 200 and "Escalated #1 to Tier 2" in answer.body
    desk.wait_for_outbox()
    with Session(desk.helpdesk.engine) as session:
        [escalation] = session.exec(select(Escalation)).all()
    assert escalation.tier_name == "Tier 2"
    [post] = desk.slack.messages_in(TIER2)
    assert "refund over the limit" in json.dumps(post["blocks"])


@pytest.mark.parametrize("cut", ["close", "fin", "warning", "refresh_requested"])
def test_a_reconnect_loses_no_envelope(socket_desk, cut):
    desk, socket = socket_desk, socket_desk.slack.socket_mode
    socket.wait_for(lambda: socket.live_connections == 1)
    around = [socket.send_event(note(desk, n)) for n in range(1, 4)]
    if cut in ("close", "fin"):
        socket.drop(handshake=cut == "close")
    else:
        socket.disconnect(cut)
    # Sent while the client moves: they wait for, or go to, the next connection.
    around += [socket.send_event(note(desk, n)) for n in range(4, 7)]
    command = socket.send_command("/helpdesk", "help", user_id=AGENT["id"], channel_id=CHANNEL)
    socket.wait_for(lambda: socket.hellos == 2)
    around += [socket.send_event(note(desk, n)) for n in range(7, 10)]

    for envelope in around:
        socket.wait_for_ack(envelope)
    assert "/escalate" in socket.wait_for_ack(command).response["text"]
    assert eventually(lambda: len(note_texts(desk)) == 9)
    assert note_texts(desk) == [f"note {n}" for n in range(1, 10)]
    assert not any(e.lost for e in socket.envelopes)
    assert len(desk.slack.calls("apps.connections.open")) == 2
    assert socket.live_connections == 1


def test_a_silent_connection_is_replaced_within_seconds_while_idle(socket_desk):
    desk, socket = socket_desk, socket_desk.slack.socket_mode
    socket.wait_for(lambda: socket.live_connections == 1)
    opened = len(desk.slack.calls("apps.connections.open"))

    started, cpu_before = time.monotonic(), _cpu_seconds()
    socket.go_silent()  # no FIN, no pong: only the client's pings can tell
    waiting = socket.send_event(note(desk, 1))
    socket.wait_for(lambda: socket.hellos == 2, timeout=DEAD_CONNECTION_REPLACED_WITHIN)
    wall, cpu = time.monotonic() - started, _cpu_seconds() - cpu_before

    assert len(desk.slack.calls("apps.connections.open")) == opened + 1
    assert socket.wait_for_ack(waiting).delivered_to == [2]
    assert eventually(lambda: note_texts(desk) == ["note 1"])
    print(
        f"silent connection replaced after {wall:.1f} s (ping every {PING_INTERVAL_SECONDS:g} s);"
        f" CPU used meanwhile {cpu:.2f} s"
    )
    # Idle while waiting: a client that spins would use about the whole wall time.
    assert cpu < wall / 4, (cpu, wall)


def test_a_refused_app_token_is_one_clear_line_at_start(tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        settings = settings_for(
            f"sqlite:///{tmp_path / 'helpdesk.db'}", slack, slack_app_token="xapp-1-revoked"
        )
        helpdesk = create_app(settings)
        try:
            with pytest.raises(ConfigError, match="SLACK_APP_TOKEN: Slack refused it"):
                helpdesk.start()
        finally:
            helpdesk.stop()
        assert slack.socket_mode.hellos == 0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
