"""FakeSlack's Socket Mode, spoken to by a bare aiohttp WebSocket client, frame by frame."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.devtools.fake_slack import FakeSlack

from .conftest import SUPPORT

COMMAND = {"user_id": "U0AGENT1", "channel_id": SUPPORT}


def open_url(slack: FakeSlack) -> str:
    return WebClient(base_url=slack.url).apps_connections_open(app_token=slack.app_token)["url"]


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict:
    return json.loads(await asyncio.wait_for(ws.receive_str(), 5))


def run(steps) -> None:
    """On a thread of its own: when a browser test ran first in this worker, Playwright's sync
    API has left an event loop running on the main thread, where asyncio.run() refuses."""

    async def session():
        async with aiohttp.ClientSession() as http:
            await steps(http)

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, session()).result()


def test_connections_open_takes_the_app_token_and_its_url_is_good_once(slack: FakeSlack):
    anonymous = WebClient(base_url=slack.url)
    with pytest.raises(SlackApiError) as refused:
        anonymous.apps_connections_open(app_token=slack.bot_token)
    assert refused.value.response["error"] == "not_allowed_token_type"
    url = open_url(slack)
    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url

    async def steps(http):
        async with http.ws_connect(url) as ws:
            hello = await receive(ws)
        assert hello["type"] == "hello" and hello["connection_info"] == {"app_id": slack.app_id}
        assert hello["num_connections"] == 1 and "approximate_connection_time" in str(hello)
        with pytest.raises(aiohttp.WSServerHandshakeError) as again:
            await http.ws_connect(url)
        assert again.value.status == 401

    run(steps)


def test_envelopes_carry_slacks_fields_and_acks_are_kept(slack: FakeSlack):
    socket = slack.socket_mode
    url = open_url(slack)

    async def steps(http):
        async with http.ws_connect(url) as ws:
            await receive(ws)
            command = socket.send_command("/helpdesk", "help", **COMMAND)
            sent = await receive(ws)
            assert sent == command.message()
            assert sent["type"] == "slash_commands" and sent["accepts_response_payload"]
            assert sent["payload"]["command"] == "/helpdesk" and sent["payload"]["text"] == "help"
            await ws.send_str(json.dumps({"envelope_id": sent["envelope_id"],
                                          "payload": {"text": "hi"}}))  # fmt: skip
            assert socket.wait_for_ack(command).response == {"text": "hi"}

            event = socket.send_event({"type": "message", "channel": SUPPORT, "text": "x"})
            sent = await receive(ws)
            assert sent["type"] == "events_api" and not sent["accepts_response_payload"]
            assert sent["payload"]["type"] == "event_callback" and sent["retry_attempt"] == 0
            await ws.send_str(json.dumps({"envelope_id": sent["envelope_id"]}))
            assert socket.wait_for_ack(event).response is None

    run(steps)


def test_a_closed_connection_retries_its_events_and_loses_its_interactions(slack: FakeSlack):
    socket = slack.socket_mode
    first, second = open_url(slack), open_url(slack)

    async def steps(http):
        async with http.ws_connect(first) as ws:
            await receive(ws)
            event = socket.send_event({"type": "message", "channel": SUPPORT, "text": "x"})
            click = socket.send_interaction({"type": "block_actions", "actions": []})
            assert [(await receive(ws))["type"] for _ in range(2)] == ["events_api", "interactive"]
            await asyncio.to_thread(socket.disconnect, "warning")
            assert await receive(ws) == {"type": "disconnect", "reason": "warning",
                                         "debug_info": {"host": "fake-socket-mode"}}  # fmt: skip
            waiting = socket.send_event({"type": "message", "channel": SUPPORT, "text": "y"})
        await asyncio.to_thread(socket.wait_for, lambda: socket.envelope(click.envelope_id).lost)
        async with http.ws_connect(second) as ws:
            await receive(ws)
            sent = {m["envelope_id"]: m for m in [await receive(ws), await receive(ws)]}
        assert set(sent) == {event.envelope_id, waiting.envelope_id}
        resent = sent[event.envelope_id]
        assert (resent["retry_attempt"], resent["retry_reason"]) == (1, "timeout")
        assert resent["payload"] == event.payload
        assert socket.envelope(waiting.envelope_id).delivered_to == [2]
        assert socket.envelope(event.envelope_id).delivered_to == [1, 2]

    run(steps)
