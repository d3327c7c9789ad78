"""Socket Mode: Slack's requests reach the Bolt app over a WebSocket the helpdesk opens.

The client is slack_sdk's aiohttp one. Of the four slack_sdk offers, it is the only one that
notices a dead connection (no FIN, the far end just silent) by itself within seconds: aiohttp's
heartbeat closes a WebSocket whose pong is late, and the client's monitor then fetches a new
URL. The builtin client took ~49 s and kept a core busy meanwhile; websocket-client is never
given a pong timeout, and `websockets` keeps its 20 s default. Between pings it sleeps.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode.aiohttp import SocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import ConfigError
from bot.handlers.slack.inbox import SlackInbox

log = logging.getLogger(__name__)

# A ping every 4 s; a pong more than 2 s late (half the interval, aiohttp's rule) closes the
# connection, and the monitor, waking every interval, replaces it: a silent connection is
# gone within about 10 s. Slack answers pings in well under a second, so 2 s is no hair
# trigger, and a needless reconnect loses nothing (unacknowledged events are sent again).
PING_INTERVAL_SECONDS = 4.0
# How long `start` waits for the first connection before going on; the client keeps trying.
CONNECT_WAIT_SECONDS = 10.0


class _ThreadedHandler(SocketModeHandler):
    """Bolt's aiohttp adapter runs a sync app's listeners on the event loop itself, which
    would hold up pings (and so look dead) while a listener works: here they run in threads.
    What the Slack inbox takes is acknowledged once stored, as over HTTP."""

    inbox: SlackInbox | None = None

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        started = time.time()
        if self.inbox is None:
            response = await asyncio.to_thread(run_bolt_app, self.app, req)
        else:
            with self.inbox.answering():
                response = await self._answer(req)
        await send_async_response(client, req, response, started)

    async def _answer(self, req: SocketModeRequest) -> BoltResponse:
        payload = req.payload
        if await self.inbox.accepted(payload, json.dumps(payload), None):
            return BoltResponse(status=200, body="")
        return await asyncio.to_thread(run_bolt_app, self.app, req)


class SocketModeListener:
    """Keeps one Socket Mode connection for the Bolt app, on an event loop of its own."""

    def __init__(
        self, bolt: App, app_token: str, api_url: str, inbox: SlackInbox | None = None
    ) -> None:
        self._bolt, self._app_token, self._api_url = bolt, app_token, api_url
        self._inbox = inbox
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="slack-socket-mode", daemon=True
        )
        self._handler: SocketModeHandler | None = None

    def start(self) -> None:
        self._thread.start()
        connecting = asyncio.run_coroutine_threadsafe(self._connect(), self._loop)
        try:
            connecting.result(CONNECT_WAIT_SECONDS)
        except TimeoutError:
            log.warning("Socket Mode: not connected yet; still trying in the background")
        except SlackApiError as refused:
            self.stop()
            raise ConfigError(
                f"SLACK_APP_TOKEN: Slack refused it for Socket Mode "
                f"({refused.response.get('error')}); it needs the connections:write scope"
            ) from None

    async def _connect(self) -> None:
        web_client = AsyncWebClient(base_url=self._api_url)
        self._handler = _ThreadedHandler(
            self._bolt, self._app_token, web_client=web_client, ping_interval=PING_INTERVAL_SECONDS
        )
        self._handler.inbox = self._inbox
        client = self._handler.client
        # Asked here first so that a refused token is an error at start, not a retry loop.
        client.wss_uri = await client.issue_new_wss_url()
        await client.connect()

    def stop(self) -> None:
        if self._handler is not None:
            closing = asyncio.run_coroutine_threadsafe(self._handler.close_async(), self._loop)
            closing.result(CONNECT_WAIT_SECONDS)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CONNECT_WAIT_SECONDS)
        self._loop.close()
