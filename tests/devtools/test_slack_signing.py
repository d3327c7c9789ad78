"""Signed requests: checked by slack_sdk's verifier and by a real Bolt app behind HTTP."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.devtools.fake_slack import RESPONSE_URL_METHOD, FakeSlack
from bot.devtools.slack_signing import (
    SlackEventSender,
    SlackRequestSigner,
    event_body,
    interaction_body,
    slash_command_body,
    url_verification_body,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MESSAGE = {
    "type": "message",
    "channel": "C0SUPPORT",
    "user": "U0AGENT1",
    "text": "hi",
    "ts": "1732450000.000100",
    "channel_type": "channel",
}


def bolt_payload(corpora: Path, kind: str, source: str) -> Any:
    """A request Slack sent in bolt-python's own tests (corpus D1)."""
    payloads = json.loads((corpora / "slack-bolt-python-payloads" / "payloads.json").read_text())
    return next(
        p["payload"]
        for p in payloads["payloads"]
        if p["kind"] == kind and p["source"].endswith(source)
    )


# -- signatures ------------------------------------------------------------------------------


def test_signature_verifies_with_slack_sdk() -> None:
    body = event_body(MESSAGE)
    headers = SlackRequestSigner(SECRET).headers(body)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body.replace("hi", "hj"), headers)


def test_signature_carries_the_timestamp_it_was_made_at() -> None:
    stale = int(time.time()) - 600
    headers = SlackRequestSigner(SECRET).headers("payload=%7B%7D", timestamp=stale)

    assert headers["X-Slack-Request-Timestamp"] == str(stale)
    assert headers["X-Slack-Signature"].startswith("v0=")
    # Slack's verifier refuses requests older than five minutes.
    assert not SignatureVerifier(SECRET).is_valid_request("payload=%7B%7D", headers)


# -- bodies ----------------------------------------------------------------------------------


def test_event_body_is_an_event_callback_envelope_like_slacks(corpora: Path) -> None:
    envelope = json.loads(event_body(MESSAGE, event_id="Ev0TEST", event_time=1732450000))

    assert envelope["type"] == "event_callback"
    assert (envelope["event_id"], envelope["event_time"]) == ("Ev0TEST", 1732450000)
    assert envelope["event"] == {**MESSAGE, "event_ts": MESSAGE["ts"]}
    assert envelope["authorizations"][0]["user_id"] == "U0HELPDESK"
    assert envelope["authorizations"][0]["is_bot"] is True
    slack_sent = bolt_payload(corpora, "events_api:message", "test_message_bot.py")
    assert set(slack_sent) - set(envelope) == {"enterprise_id"}  # single-workspace install


def test_interaction_and_command_bodies_are_forms(corpora: Path) -> None:
    payload = {"type": "block_actions", "actions": [{"action_id": "reply", "value": "#1 & co"}]}
    form = parse_qs(interaction_body(payload))
    assert json.loads(form["payload"][0]) == payload

    command = parse_qs(slash_command_body("/escalate", "#12 angry", user_id="U1", channel_id="C1"))
    assert command["command"] == ["/escalate"] and command["text"] == ["#12 angry"]
    assert command["response_url"][0].startswith("https://hooks.fake.slack.test/")
    slack_sent = parse_qs(bolt_payload(corpora, "str", "test_slash_command.py"))
    assert set(slack_sent) - set(command) == {"enterprise_id", "enterprise_name"}


# -- delivery to a Bolt app over HTTP --------------------------------------------------------


class _BoltHandler(BaseHTTPRequestHandler):
    """The app side of /slack/events: hands each request to Bolt, as the helpdesk will."""

    app: App

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        answer = self.app.dispatch(BoltRequest(body=body, headers=dict(self.headers.items())))
        data = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet in tests."""


@pytest.fixture
def seen() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def bolt_url(slack: FakeSlack, seen: list[tuple[str, Any]]) -> Iterator[str]:
    client = WebClient(token=slack.bot_token, base_url=slack.url)
    app = App(signing_secret=SECRET, client=client, process_before_response=True)

    @app.event("message")
    def on_message(event: dict, request: BoltRequest) -> None:
        seen.append(("message", (event["text"], request.headers.get("x-slack-retry-num"))))

    @app.command("/helpdesk")
    def on_helpdesk(ack: Any, respond: Any, command: dict) -> None:
        ack(f"searching for {command['text']}")
        respond("found nothing")

    @app.view("view-id")
    def on_submission(ack: Any, view: dict) -> None:
        ack()
        seen.append(("view", (view["private_metadata"], view["state"]["values"])))

    handler = type("Handler", (_BoltHandler,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()
    thread.join()


def test_events_and_retries_reach_the_app(bolt_url: str, seen: list) -> None:
    sender = SlackEventSender(bolt_url, SlackRequestSigner(SECRET))
    body = event_body(MESSAGE)

    assert sender.send_event(body).status == 200
    assert sender.send_event(body, retry_num=1).status == 200  # the same delivery, again

    assert seen == [("message", ("hi", None)), ("message", ("hi", ["1"]))]


def test_slash_command_is_acknowledged_and_responds(
    bolt_url: str, slack: FakeSlack, seen: list
) -> None:
    sender = SlackEventSender(bolt_url, SlackRequestSigner(SECRET))
    response_url = slack.response_url()

    answer = sender.send_command(
        "/helpdesk", "refund", user_id="U0AGENT1", channel_id="C0SUPPORT", response_url=response_url
    )

    assert answer.status == 200
    assert answer.body == "searching for refund"
    (response,) = slack.calls(RESPONSE_URL_METHOD)
    assert response.args["text"] == "found nothing"


def test_real_view_submission_payload_reaches_the_app(
    bolt_url: str, seen: list, corpora: Path
) -> None:
    sender = SlackEventSender(bolt_url, SlackRequestSigner(SECRET))
    payload = bolt_payload(corpora, "interactivity:view_submission", "test_view_submission.py")

    assert sender.send_interaction(payload).status == 200

    values = {"hspI": {"maBWU": {"type": "plain_text_input", "value": "test"}}}
    assert seen == [("view", ("This is for you!", values))]


def test_url_verification_and_bad_signatures(bolt_url: str, seen: list) -> None:
    sender = SlackEventSender(bolt_url, SlackRequestSigner(SECRET))
    challenge = sender.post(url_verification_body("3eZbrw1aB"), "application/json")
    assert challenge.status == 200 and challenge.json() == {"challenge": "3eZbrw1aB"}

    forged = SlackEventSender(bolt_url, SlackRequestSigner("not-the-secret"))
    assert forged.send_event(MESSAGE).status == 401
    stale = sender.post(event_body(MESSAGE), "application/json", timestamp=int(time.time()) - 600)
    assert stale.status == 401
    assert seen == []
