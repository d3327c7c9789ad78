"""The fake Slack's HTTP face: routes requests to the Web API methods, checks tokens, applies
the injected faults, records every call, and serves the URLs Slack hands out (file uploads,
``url_private`` downloads, ``response_url``s)."""

from __future__ import annotations

import copy
import time
from collections import Counter, deque
from collections.abc import Callable
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from bot.devtools.fake_slack import web_api
from bot.devtools.fake_slack.fault_injection import FaultInjection
from bot.devtools.fake_slack.http_exchange import RecordedRequest, Reply
from bot.devtools.fake_slack.request_parsing import lower_keys, multipart_fields, parse_args
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_state import WorkspaceState
from bot.devtools.fake_socket_mode import FakeSocketMode
from bot.devtools.loopback import LoopbackService

RESPONSE_URL_METHOD = "response_url"


class FakeSlack(LoopbackService, WorkspaceState, FaultInjection):
    """The Slack Web API for one workspace and one bot, on a local port. Thread-safe."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_token: str = "xoxb-fake",
        app_token: str = "xapp-1-A0HELPDESK-fake",
        team_id: str = "T0FAKE",
        bot_user_id: str = "U0HELPDESK",
        bot_id: str = "B0HELPDESK",
        app_id: str = "A0HELPDESK",
        max_recorded: int | None = None,
    ) -> None:
        """``max_recorded`` bounds the log of calls (the oldest go first): a long-running
        sandbox sets it; tests keep every call to read them back."""
        WorkspaceState.__init__(
            self, team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, app_id=app_id
        )
        FaultInjection.__init__(self)
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode = FakeSocketMode(app_id)
        self._address = (host, port)
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._methods: dict[str, web_api.Method] = {
            **web_api.METHODS,
            "apps.connections.open": self._open_socket_mode,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    def _respond(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        target = urlsplit(path)
        reply = self._route(method, target.path, target.query, headers, body)
        data, reply_headers = reply.encode()
        return reply.status, reply_headers, data

    def _before_stop(self) -> None:
        self.release_responses()
        self.socket_mode.stop()

    @property
    def base_url(self) -> str:
        return self._origin

    @property
    def url(self) -> str:
        """The Web API base URL, for ``WebClient(base_url=...)`` and ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def reset(self) -> None:
        """An empty workspace again, with only the bot, and no calls recorded."""
        with self._cond:
            self._requests.clear()
            super().reset()

    # -- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def calls(self, method: str) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self._requests if r.method == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds (re-checked on every call and state change).

        Returns True, or raises AssertionError describing the calls seen so far.
        """
        with self._cond:
            if self._cond.wait_for(predicate, timeout):
                return True
            raise AssertionError(f"condition not met within {timeout:g}s; {self._summary()}")

    def _summary(self) -> str:
        counts = Counter(r.method for r in self._requests)
        recent = [
            f"{r.method} -> {r.status} {r.response.get('error', 'ok')}"
            for r in list(self._requests)[-5:]
        ]
        return f"saw {len(self._requests)} call(s) {dict(counts)}; last: {recent}"

    # -- HTTP routing ------------------------------------------------------------------------

    def _route(self, verb: str, path: str, query: str, headers: Message, body: bytes) -> Reply:
        kind, _, rest = path.lstrip("/").partition("/")
        if kind == "api":
            return self._serve_api(rest, headers, body, query)
        if kind == "upload" and verb == "POST":
            return self._receive_upload(rest, headers, body)
        if kind == "files" and verb == "GET":
            return self._serve_file(rest.partition("/")[0], headers)
        if kind == "response" and verb == "POST":
            return self._receive_response(rest, headers, body)
        return Reply(404, b"not found")

    def _serve_api(self, method: str, headers: Message, body: bytes, query: str) -> Reply:
        parse_error = None
        try:
            args = parse_args(headers, body, query)
        except SlackError as exc:
            args, parse_error = {}, exc
        lowered = lower_keys(headers)
        with self._cond:
            reply = self._answer(method, lowered, args, parse_error)
            self._record(method, args, lowered, reply)
            gate = self._held_gate(method)
        if gate is not None:
            gate.wait()
        return reply

    def _answer(
        self, method: str, headers: dict[str, str], args: Args, parse_error: SlackError | None
    ) -> Reply:
        if failure := self._injected_failure(method):
            return failure
        handler = self._methods.get(method)
        if handler is None:
            return Reply(200, {"ok": False, "error": "unknown_method"})
        if parse_error is not None:
            return Reply(200, parse_error.payload())
        try:
            if method != "api.test":
                self._authenticate(headers, args, app_level=method == "apps.connections.open")
            if limited := self._rate_limited(method, args):
                return limited
            # A snapshot: the body is encoded after the lock is released, and recorded for good.
            return Reply(200, {"ok": True, **copy.deepcopy(handler(self, args))})
        except SlackError as exc:
            return Reply(200, exc.payload())

    def _record(self, method: str, args: Args, headers: dict[str, str], reply: Reply) -> None:
        response = reply.body if isinstance(reply.body, dict) else {}
        self._requests.append(
            RecordedRequest(
                method,
                args,
                headers,
                reply.status,
                response,
                time.time(),
                int(reply.headers["Retry-After"]) if "Retry-After" in reply.headers else None,
            )
        )
        self.changed()

    def _authenticate(self, headers: dict[str, str], args: Args, app_level: bool) -> None:
        """The bot token, or for app-level methods the app token; the other is the wrong type."""
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" else args.get("token")
        if not token:
            raise SlackError("not_authed")
        expected, other = (self.app_token, self.bot_token)
        if not app_level:
            expected, other = other, expected
        if token == other:
            raise SlackError("not_allowed_token_type")
        if token != expected:
            raise SlackError("invalid_auth")

    def _receive_upload(self, file_id: str, headers: Message, body: bytes) -> Reply:
        if headers.get_content_type() == "multipart/form-data":
            parts = [v for v in multipart_fields(headers, body).values() if isinstance(v, bytes)]
            body = parts[0] if parts else b""
        with self._cond:
            pending = self.files.get(file_id)
            if pending is None:
                return Reply(404, b"unknown upload")
            pending.data = body
            self.changed()
        return Reply(200, f"OK - {len(body)}".encode(), {"Content-Type": "text/plain"})

    def _serve_file(self, file_id: str, headers: Message) -> Reply:
        if headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            return Reply(403, b"url_private needs the bot token")
        with self._cond:
            found = self.files.get(file_id)
            if found is not None and found.redirect_to:
                return Reply(302, b"", {"Location": found.redirect_to})
        data = self.file_content(file_id)
        return Reply(404, b"no such file") if data is None else Reply(200, data)

    def _receive_response(self, token: str, headers: Message, body: bytes) -> Reply:
        try:
            args = parse_args(headers, body, "")
        except SlackError as exc:
            return Reply(400, exc.payload())
        reply = Reply(200, {"ok": True})
        with self._cond:
            user_id = self._responders.get(token)
            if user_id and args.get("response_type") != "in_channel":
                content = {k: args[k] for k in ("text", "blocks") if k in args}
                self.keep_ephemeral(user_id, {**content, "channel": None, "thread_ts": None})
            self._record(RESPONSE_URL_METHOD, args, lower_keys(headers), reply)
        return reply

    def _open_socket_mode(self, _workspace: WorkspaceState, _args: Args) -> dict[str, Any]:
        """``apps.connections.open``: a URL for the Socket Mode server."""
        return {"url": self.socket_mode.issue_url()}
