"""Slack's Socket Mode for FakeSlack, over a real WebSocket on 127.0.0.1.

``apps.connections.open`` (called with the app-level ``xapp-`` token) hands out a one-use
``ws://127.0.0.1:<port>/link/?ticket=…`` URL. A client that connects gets ``hello``, then the
envelopes a test sends, and answers each with an ack naming its ``envelope_id`` (and, for
slash commands, modal submissions and menu loads, a ``payload``), as in Slack's protocol:

    {"type": "events_api" | "interactive" | "slash_commands", "envelope_id": "…",
     "payload": {…}, "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": ""}

    envelope = slack.socket_mode.send_event({"type": "message", ...})
    assert slack.socket_mode.wait_for_ack(envelope).response is None

What Slack does to a connection can be done to it: ``disconnect("warning")`` (or
``"refresh_requested"``) asks the client to move, ``drop()`` closes it, ``go_silent()``
leaves it open but stops reading and writing, pings included, like a peer that vanished.
Envelopes wait while no connection is open, and go to the newest connection that got its
``hello`` and no ``disconnect``. An event still unacknowledged when its connection ends is
sent again, as Slack retries events (``retry_attempt`` + 1, ``retry_reason`` ``timeout``); an
unacknowledged interaction or command is marked ``lost``, as Slack shows the user an error.
Acks are matched by ``envelope_id`` on any of the app's connections.

The server is aiohttp's, the library the helpdesk's Socket Mode client is built on already.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web

from bot.devtools.slack_signing import SlackHttpResponse, event_body, slash_command_body

_HOST = "127.0.0.1"
_DEBUG_INFO = {"host": "fake-socket-mode"}
# Interactions whose ack may carry an answer (errors for a modal, options for a menu).
_ANSWERABLE = frozenset({"view_submission", "block_suggestion"})


@dataclass
class Envelope:
    """One envelope as the fake sent it and what became of it."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int = 0
    retry_reason: str = ""
    delivered_to: list[int] = field(default_factory=list)  # connection numbers, in order
    acked: bool = False
    response: dict[str, Any] | None = None  # the ack's payload, when it had one
    lost: bool = False

    def message(self) -> dict[str, Any]:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
            "retry_attempt": self.retry_attempt,
            "retry_reason": self.retry_reason,
        }


@dataclass
class _Connection:
    number: int
    ws: web.WebSocketResponse
    transport: asyncio.Transport
    hello: bool = False
    leaving: bool = False
    silent: bool = False
    closed: bool = False
    in_flight: set[str] = field(default_factory=set)

    @property
    def live(self) -> bool:
        return self.hello and not (self.leaving or self.silent or self.closed)


class FakeSocketMode:
    """The Socket Mode side of one app; started by the first ``apps.connections.open``."""

    def __init__(self, app_id: str) -> None:
        self.app_id = app_id
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._envelopes: dict[str, Envelope] = {}
        self._waiting: deque[str] = deque()  # envelope ids not on any open connection
        self._connections: list[_Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._sending: asyncio.Lock | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def issue_url(self) -> str:
        """What ``apps.connections.open`` answers: a URL good for one connection."""
        with self._cond:
            if self._loop is None:
                self._start()
            ticket = secrets.token_hex(8)
            self._tickets.add(ticket)
            return f"ws://{_HOST}:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-socket-mode", daemon=True
        )
        self._thread.start()
        self._call(self._serve())

    async def _serve(self) -> None:
        self._sending = asyncio.Lock()
        app = web.Application()
        app.router.add_get("/link/", self._accept)
        self._runner = web.AppRunner(app, shutdown_timeout=1, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, _HOST, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._loop is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        for connection in self._connections:
            connection.transport.abort()  # silent ones too: nobody is reading them
        if self._runner is not None:
            await self._runner.cleanup()

    def _call(self, coroutine) -> Any:
        assert self._loop is not None, "no client has called apps.connections.open yet"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    # -- the WebSocket side ------------------------------------------------------------------

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        with self._cond:
            known = request.query.get("ticket") in self._tickets
            self._tickets.discard(request.query.get("ticket", ""))
        if not known:
            return web.Response(
                status=401, text="unknown or used ticket: call apps.connections.open"
            )
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        with self._cond:
            connection = _Connection(len(self._connections) + 1, ws, request.transport)
            self._connections.append(connection)
        await ws.send_str(json.dumps(self._hello()))
        self._changed(lambda: setattr(connection, "hello", True))
        await self._pump()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._receive(message.data)
        finally:
            self._changed(lambda: self._abandon(connection, closed=True))
            await self._pump()
        return ws

    def _hello(self) -> dict[str, Any]:
        with self._cond:
            live = sum(1 for c in self._connections if not (c.closed or c.silent))
        return {
            "type": "hello",
            "num_connections": live,
            "debug_info": {**_DEBUG_INFO, "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _receive(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        with self._cond:
            envelope = self._envelopes.get(ack.get("envelope_id") if isinstance(ack, dict) else "")
            if envelope is None or envelope.acked:
                return
            envelope.acked, envelope.lost = True, False
            envelope.response = ack.get("payload")
            if envelope.envelope_id in self._waiting:
                self._waiting.remove(envelope.envelope_id)  # a retry not yet sent is moot
            self._cond.notify_all()

    def _abandon(self, connection: _Connection, *, closed: bool = False) -> None:
        """The connection will carry no more envelopes: those it had are retried or lost."""
        connection.closed = connection.closed or closed
        for envelope_id in sorted(connection.in_flight):
            envelope = self._envelopes[envelope_id]
            if envelope.acked:
                continue
            if envelope.type == "events_api":
                envelope.retry_attempt += 1
                envelope.retry_reason = "timeout"
                self._waiting.append(envelope_id)
            else:
                envelope.lost = True
        connection.in_flight.clear()

    async def _pump(self) -> None:
        """Sends waiting envelopes, oldest first, to the newest live connection."""
        assert self._sending is not None
        async with self._sending:
            while True:
                with self._cond:
                    target = next((c for c in reversed(self._connections) if c.live), None)
                    if target is None or not self._waiting:
                        return
                    envelope = self._envelopes[self._waiting.popleft()]
                    envelope.delivered_to.append(target.number)
                    target.in_flight.add(envelope.envelope_id)
                    text = json.dumps(envelope.message())
                try:
                    await target.ws.send_str(text)
                except ConnectionError:  # closed under us: the envelope was never sent
                    self._changed(lambda t=target, e=envelope: self._undeliver(t, e))
                self._changed()

    def _undeliver(self, connection: _Connection, envelope: Envelope) -> None:
        envelope.delivered_to.pop()
        connection.in_flight.discard(envelope.envelope_id)
        self._waiting.appendleft(envelope.envelope_id)
        self._abandon(connection, closed=True)

    # -- what a test does --------------------------------------------------------------------

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Envelope:
        """Queues an envelope of ``kind`` (events_api, interactive, slash_commands) for the
        app; it goes out at once when a connection is open. Returns it, to wait for its ack."""
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive" and payload.get("type") in _ANSWERABLE
            )
        envelope = Envelope(
            secrets.token_hex(16), kind, copy.deepcopy(payload), accepts_response_payload,
            retry_attempt, retry_reason,
        )  # fmt: skip
        with self._cond:
            self._envelopes[envelope.envelope_id] = envelope
            self._waiting.append(envelope.envelope_id)
        if self._loop is not None:
            self._call(self._pump())
        return envelope

    def send_event(
        self,
        event: dict[str, Any] | str,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        **envelope: Any,
    ) -> Envelope:
        """An Events API ``event_callback`` around ``event`` (or a prebuilt
        :func:`event_body`, to send the same event again as Slack's retry would)."""
        body = event if isinstance(event, str) else event_body(event, **envelope)
        return self.send(
            "events_api", json.loads(body), retry_attempt=retry_attempt, retry_reason=retry_reason
        )

    def send_interaction(self, payload: dict[str, Any]) -> Envelope:
        return self.send("interactive", payload)

    def send_command(self, command: str, text: str, **fields: Any) -> Envelope:
        """A slash command; ``fields`` are :func:`slash_command_body`'s keywords."""
        return self.send(
            "slash_commands", dict(parse_qsl(slash_command_body(command, text, **fields)))
        )

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's ``disconnect`` message (``warning``, ``refresh_requested``) to every live
        connection; the fake sends them nothing more, and keeps them open until the client
        (or :meth:`drop`) closes them."""
        self._for_live(self._tell_to_go, reason)

    def drop(self, *, handshake: bool = True) -> None:
        """Closes every live connection from the server side: a WebSocket close frame, then
        FIN; without ``handshake``, only the FIN, as when a load balancer cuts it."""
        self._for_live(self._close, handshake)

    def go_silent(self) -> None:
        """Every open connection stays open but is never read or written again: no pongs, no
        envelopes, no FIN. Only the client's own pings can tell it is dead."""
        self._for_live(self._silence, include_leaving=True)

    def _for_live(self, action: Callable, *args: Any, include_leaving: bool = False) -> None:
        with self._cond:
            targets = [
                c for c in self._connections
                if c.live or (include_leaving and c.hello and not (c.closed or c.silent))
            ]  # fmt: skip
        for connection in targets:
            self._call(action(connection, *args))

    async def _tell_to_go(self, connection: _Connection, reason: str) -> None:
        self._changed(lambda: setattr(connection, "leaving", True))
        message = {"type": "disconnect", "reason": reason, "debug_info": _DEBUG_INFO}
        await connection.ws.send_str(json.dumps(message))

    async def _close(self, connection: _Connection, handshake: bool) -> None:
        self._changed(lambda: setattr(connection, "leaving", True))
        if handshake:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake drop")
        else:
            connection.transport.close()

    async def _silence(self, connection: _Connection) -> None:
        connection.transport.pause_reading()
        self._changed(lambda: (setattr(connection, "silent", True), self._abandon(connection)))
        await self._pump()

    # -- inspection --------------------------------------------------------------------------

    @property
    def hellos(self) -> int:
        """Connections that were opened and greeted: 1 + the reconnections so far."""
        with self._cond:
            return sum(1 for c in self._connections if c.hello)

    @property
    def live_connections(self) -> int:
        with self._cond:
            return sum(1 for c in self._connections if c.live)

    def envelope(self, envelope_id: str) -> Envelope:
        with self._cond:
            return replace(self._envelopes[envelope_id])

    @property
    def envelopes(self) -> list[Envelope]:
        with self._cond:
            return [replace(e) for e in self._envelopes.values()]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Blocks until ``predicate()`` holds, re-checked on every change; raises
        AssertionError with what happened so far when ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"condition not met within {timeout:g}s; {self._summary()}"
                    )
                self._cond.wait(min(left, 0.5))  # also re-checks state the fake can't see
            return True

    def wait_for_ack(self, envelope: Envelope, timeout: float = 10.0) -> Envelope:
        """The envelope once the app acknowledged it, with the ack's ``response``."""
        self.wait_for(lambda: self._envelopes[envelope.envelope_id].acked, timeout)
        return self.envelope(envelope.envelope_id)

    def _summary(self) -> str:
        states = [
            f"#{c.number}{' hello' if c.hello else ''}{' leaving' if c.leaving else ''}"
            f"{' silent' if c.silent else ''}{' closed' if c.closed else ''}"
            for c in self._connections
        ]
        unacked = [f"{e.type}:{e.delivered_to}" for e in self._envelopes.values() if not e.acked]
        return f"connections {states}; unacknowledged {unacked}; waiting {len(self._waiting)}"

    def _changed(self, change: Callable[[], Any] = lambda: None) -> None:
        with self._cond:
            change()
            self._cond.notify_all()


class SocketModeSender:
    """Slack's requests as envelopes, answered with what the ack carried: the same calls and
    answers as :class:`~bot.devtools.slack_signing.SlackEventSender`'s, so that one story runs
    over HTTP and over Socket Mode. The body is the ack's payload as JSON ("" without one)."""

    def __init__(self, socket_mode: FakeSocketMode, timeout: float = 10.0) -> None:
        self.socket_mode, self.timeout = socket_mode, timeout

    def send_event(
        self,
        event: dict[str, Any] | str,
        *,
        retry_num: int | None = None,
        retry_reason: str = "timeout",
        **envelope: Any,
    ) -> SlackHttpResponse:
        retry = {"retry_attempt": retry_num, "retry_reason": retry_reason} if retry_num else {}
        return self._answer(self.socket_mode.send_event(event, **retry, **envelope))

    def send_interaction(self, payload: dict[str, Any]) -> SlackHttpResponse:
        return self._answer(self.socket_mode.send_interaction(payload))

    def send_command(self, command: str, text: str, **fields: Any) -> SlackHttpResponse:
        return self._answer(self.socket_mode.send_command(command, text, **fields))

    def _answer(self, envelope: Envelope) -> SlackHttpResponse:
        acked = self.socket_mode.wait_for_ack(envelope, self.timeout)
        body = "" if acked.response is None else json.dumps(acked.response, ensure_ascii=False)
        return SlackHttpResponse(200, {}, body)
