"""Signed requests from Slack to `/slack/events`, answered by the running helpdesk."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import SlackEventSender, SlackRequestSigner
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import CHANNEL, SIGNING_SECRET, running_helpdesk


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support")
        fake.add_user("U0AGENT1", "agent", real_name="Alex Agent")
        yield fake


def sender_for(helpdesk, secret: str = SIGNING_SECRET) -> SlackEventSender:
    url = f"http://127.0.0.1:{helpdesk.http_port}/slack/events"
    return SlackEventSender(url, SlackRequestSigner(secret))


def button_payload(action_id: str) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": "U0AGENT1", "username": "agent", "team_id": "T0FAKE"},
        "team": {"id": "T0FAKE", "domain": "fake"},
        "api_app_id": "A0HELPDESK",
        "trigger_id": "123.456.abc",
        "channel": {"id": CHANNEL, "name": "support"},
        "container": {"type": "message", "message_ts": "1700000000.000100"},
        "message": {"ts": "1700000000.000100", "text": "#1 Help"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": ids.ROOT_ACTIONS_BLOCK,
                "value": "1",
                "action_ts": "1700000001.000200",
            }
        ],
    }


def test_unsigned_and_forged_requests_are_refused(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        forged = sender_for(helpdesk, secret="not-the-secret")
        assert (
            forged.send_command("/helpdesk", "help", user_id="U0AGENT1", channel_id=CHANNEL)[0]
            == 401
        )
        unsigned = forged.post("command=%2Fhelpdesk", "application/x-www-form-urlencoded")
        assert unsigned.status == 401


@pytest.mark.parametrize(
    "body, kind",
    [
        ("payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        ("payload=%5B1%5D", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
    ],
)
def test_a_body_that_is_no_payload_gets_400_signed_and_401_unsigned(slack, tmp_path, body, kind):
    with running_helpdesk(f"sqlite:///{tmp_path / 'h.db'}", slack) as helpdesk:
        signed = sender_for(helpdesk).post(body, kind)
        assert signed.status == 400 and "not a Slack payload" in signed.body
        forged = sender_for(helpdesk, secret="not-the-secret").post(body, kind)
        assert forged.status == 401


def test_an_oversized_body_is_refused_before_it_is_read(slack, tmp_path):
    with running_helpdesk(f"sqlite:///{tmp_path / 'h.db'}", slack) as helpdesk:
        connection = http.client.HTTPConnection("127.0.0.1", helpdesk.http_port, timeout=10)
        # Declared, not sent: the answer must come without waiting for 50 MB.
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(50 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read()) == {"error": "request body too large"}
        connection.close()


def test_buttons_from_non_agents_are_refused_privately(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        response = sender_for(helpdesk).send_interaction(button_payload(ids.TICKET_ESCALATE))
        assert response.status == 200
        slack.wait_for(lambda: slack.calls("chat.postEphemeral"), timeout=5)
    [call] = slack.calls("chat.postEphemeral")
    assert call.args["user"] == "U0AGENT1"
    assert call.args["channel"] == CHANNEL
    # U0AGENT1 is not in the support channel here, so not an agent.
    assert "Only the support team" in call.args["text"]


def test_helpdesk_help_command(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        response = sender_for(helpdesk).send_command(
            "/helpdesk", "help", user_id="U0AGENT1", channel_id=CHANNEL
        )
    assert response.status == 200
    # Slack shows a plain-text answer to a command as an ephemeral message.
    assert "/escalate" in response.body


@ON_BOTH_DATABASES
def test_thread_messages_are_acknowledged_once_even_when_retried(database_url, slack):
    event = {
        "type": "message",
        "channel": CHANNEL,
        "user": "U0AGENT1",
        "text": "internal thought",
        "ts": "1700000002.000300",
        "thread_ts": "1700000000.000100",
        "channel_type": "channel",
    }
    with running_helpdesk(database_url, slack) as helpdesk:
        sender = sender_for(helpdesk)
        assert sender.send_event(event).status == 200
        assert sender.send_event(event, retry_num=1).status == 200
    # Nothing reaches a customer or the channel from a typed thread message.
    assert slack.calls("chat.postMessage") == []
