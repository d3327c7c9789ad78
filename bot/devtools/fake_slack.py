"""A stand-in for the Slack Web API, served over real HTTP on 127.0.0.1.

The helpdesk talks to it exactly as it talks to Slack: point ``SLACK_API_URL`` (or
``WebClient(base_url=...)``) at :attr:`FakeSlack.url`. It keeps a small simulated workspace
(channels, users, messages, threads, views, files), records every call, and can be told to
fail the way Slack fails: HTTP 429 with ``Retry-After``, 5xx, outages and per-channel rate
limits.

    with FakeSlack() as slack:
        slack.add_channel("C0SUPPORT", "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url)
        client.chat_postMessage(channel="C0SUPPORT", text="#1 Broken mug")
        slack.wait_for(lambda: len(slack.messages_in("C0SUPPORT")) == 1)

Besides ``/api/<method>`` the server answers three URLs Slack hands out: file upload URLs
(from ``files.getUploadURLExternal``), ``url_private`` file downloads, and ``response_url``s
(from :meth:`FakeSlack.response_url`); posts to the latter are recorded under the method
name :data:`RESPONSE_URL_METHOD`.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import mimetypes
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.devtools.fake_socket_mode import FakeSocketMode
from bot.devtools.loopback import LoopbackService
from bot.devtools.slack_signing import new_trigger_id

WORKSPACE_URL = "https://fake.slack.test/"
RESPONSE_URL_METHOD = "response_url"

# Slack accepts these as JSON text inside form-encoded bodies.
_JSON_ARGS = frozenset({"attachments", "blocks", "files", "metadata", "view"})
_TS_PATTERN = re.compile(r"\d+(\.\d+)?")
_MAX_TEXT = 40_000
_MAX_BLOCKS = 50
_PAGE_DEFAULT = 100
_PAGE_MAX = 999
_BOT_NAME = "helpdesk"
_MAX_ISSUED = 1000
_FAILURE_ERRORS = {429: "ratelimited", 503: "service_unavailable"}

Args = dict[str, Any]


class SlackError(Exception):
    """An ``ok: false`` answer: raised by method handlers, turned into the response body."""

    def __init__(self, error: str, *messages: str) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


@dataclass(frozen=True)
class RecordedRequest:
    """One call as the fake saw and answered it. Header names are lower-cased."""

    method: str
    args: Args
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    time: float  # when it was answered (time.time())
    retry_after: int | None = None  # the answer's Retry-After, in seconds

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class _Reply:
    status: int
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, bytes):
            return self.body, {"Content-Type": "application/octet-stream", **self.headers}
        data = json.dumps(self.body).encode()
        return data, {"Content-Type": "application/json; charset=utf-8", **self.headers}


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int

    def reply(self) -> _Reply:
        return _failure(self.status, self.error, self.retry_after)


def _failure(status: int, error: str | None = None, retry_after: int | None = None) -> _Reply:
    """An injected failure as Slack sends it; 429s always say when to retry."""
    headers = {}
    if status == 429 or retry_after is not None:
        headers["Retry-After"] = str(1 if retry_after is None else retry_after)
    body = {"ok": False, "error": error or _FAILURE_ERRORS.get(status, "internal_error")}
    return _Reply(status, body, headers)


@dataclass(frozen=True)
class _RateRule:
    per_second: float
    burst: int
    per_channel: bool


@dataclass
class _TokenBucket:
    per_second: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0 when granted, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool = False
    dm_user: str | None = None
    members: list[str] = field(default_factory=list)
    created: int = field(default_factory=lambda: int(time.time()))
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # ts -> message, oldest first
    threads: dict[str, list[str]] = field(default_factory=dict)  # root ts -> reply ts, oldest first

    def info(self, bot_user_id: str) -> dict[str, Any]:
        if self.dm_user:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "user": self.dm_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        empty_text = {"value": "", "creator": "", "last_set": 0}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "created": self.created,
            "creator": "",
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
            "topic": empty_text,
            "purpose": dict(empty_text),
        }

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if "thread_ts" not in m]

    def thread(self, ts: str) -> list[dict[str, Any]]:
        """[root, *replies] of the thread holding ``ts``; empty when there is none."""
        message = self.messages.get(ts)
        root = message and self.messages.get(message.get("thread_ts", ts))
        if root is None or "thread_ts" in root:
            return []
        return [root, *(self.messages[r] for r in self.threads.get(root["ts"], []))]

    def render(self, message: dict[str, Any], include_metadata: bool) -> dict[str, Any]:
        out = {k: v for k, v in message.items() if include_metadata or k != "metadata"}
        replies = [self.messages[r] for r in self.threads.get(message["ts"], [])]
        if replies and "thread_ts" not in message:
            users = list(dict.fromkeys(r.get("user", "") for r in replies))
            out.update(
                thread_ts=message["ts"],
                reply_count=len(replies),
                reply_users=users,
                reply_users_count=len(users),
                latest_reply=replies[-1]["ts"],
            )
        return out


@dataclass
class _File:
    id: str
    name: str
    title: str = ""
    data: bytes | None = None
    created: int = field(default_factory=lambda: int(time.time()))
    shares: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    # For tests of a client's care: the address files.info gives, and a redirect on download.
    url: str | None = None
    redirect_to: str | None = None

    def describe(self, base_url: str, user: str, team_id: str) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(self.name)[0] or "application/octet-stream"
        url = self.url or f"{base_url}/files/{self.id}/{self.name}"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": mimetype,
            "filetype": self.name.rpartition(".")[2].lower() if "." in self.name else "binary",
            "user": user,
            "user_team": team_id,
            "size": len(self.data or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": "public" in self.shares,
            "url_private": url,
            "url_private_download": url,
            "permalink": f"{WORKSPACE_URL}files/{user}/{self.id}/{self.name}",
            "shares": copy.deepcopy(self.shares),
        }


class FakeSlack(LoopbackService):
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
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.socket_mode = FakeSocketMode(app_id)
        self._address = (host, port)
        # One lock for all state; waiters in wait_for() are woken on every change.
        self._cond = threading.Condition(threading.RLock())
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._version = 0  # counts state changes, for watchers such as the sandbox page
        self._triggers: dict[str, str] = {}  # trigger_id -> the user who caused it
        self._modals: dict[str, list[str]] = {}  # user id -> open modal view ids, top last
        self._responders: dict[str, str] = {}  # response_url token -> user id
        self._ephemeral: dict[str, list[dict[str, Any]]] = {}  # user id -> messages
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._files: dict[str, _File] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._outage: int | None = None
        self._held_methods: set[str] = set()
        self._release = threading.Event()
        self._rate_rules: dict[str, _RateRule] = {}
        self._buckets: dict[tuple[str, str | None], _TokenBucket] = {}
        self._last_ts_micros = 0
        self._id_counter = 0
        self._methods: dict[str, Callable[[Args], dict[str, Any]]] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.replies": self._conversations_replies,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.delete": self._files_delete,
            "files.info": self._files_info,
            "reactions.add": self._reactions_add,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.push": self._views_push,
            "views.update": self._views_update,
        }
        self.add_user(bot_user_id, _BOT_NAME, real_name="Helpdesk", is_bot=True)

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

    def response_url(self, user_id: str | None = None) -> str:
        """A fresh ``response_url`` to put in slash-command and interaction payloads; with a
        user, what the app posts there is kept as that user's ephemeral message."""
        token = secrets.token_hex(8)
        if user_id is not None:
            with self._cond:
                _keep_latest(self._responders, token, user_id)
        return f"{self.base_url}/response/{token}"

    def issue_trigger(self, user_id: str) -> str:
        """A trigger id for a click by ``user_id``: modals opened with it are that user's."""
        trigger_id = new_trigger_id()
        with self._cond:
            _keep_latest(self._triggers, trigger_id, user_id)
        return trigger_id

    # -- workspace setup ---------------------------------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_member: bool = True,
        is_private: bool = False,
        members: Iterable[str] = (),
    ) -> None:
        member_ids = [*members, *([self.bot_user_id] if is_member else [])]
        with self._cond:
            self._channels[channel_id] = _Channel(
                channel_id, name, is_private, members=list(dict.fromkeys(member_ids))
            )

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        email: str | None = None,
        is_bot: bool = False,
    ) -> None:
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": self.team_id,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }
        with self._cond:
            self._users[user_id] = user

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> str:
        """Store a message a person typed in Slack (no API call is recorded); returns its ts."""
        fields: dict[str, Any] = {"user": user, "team": self.team_id, "text": text}
        if blocks is not None:
            fields["blocks"] = blocks
        with self._cond:
            return self._store(self._channels[channel], fields, thread_ts)["ts"]

    def direct_message_channel(self, user_id: str) -> str:
        """The id of the app's direct messages with ``user_id`` (its Messages tab), opened
        now if it wasn't: Slack gives every user of the app one."""
        with self._cond:
            before = len(self._channels)
            channel = self._dm_with(user_id)
            if len(self._channels) != before:
                self._changed()
            return channel.id

    def reset(self) -> None:
        """An empty workspace again, with only the bot: no channels, people, messages, views
        or files. The version keeps growing, so that watchers see the change."""
        with self._cond:
            bot = self._users[self.bot_user_id]
            for state in (self._channels, self._users, self._views, self._home_views,
                          self._files, self._modals, self._ephemeral, self._triggers,
                          self._responders):  # fmt: skip
                state.clear()
            self._requests.clear()
            self._users[self.bot_user_id] = bot
            self._changed()

    # -- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    def calls(self, method: str) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self._requests if r.method == method]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Every message in the channel, replies included, oldest first, with metadata."""
        with self._cond:
            found = self._channels[channel]
            return copy.deepcopy([found.render(m, True) for m in found.messages.values()])

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """[root, *replies] of the thread holding ``ts``, with metadata; [] if there is none."""
        with self._cond:
            found = self._channels[channel]
            return copy.deepcopy([found.render(m, True) for m in found.thread(ts)])

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self._views.get(view_id))

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._cond:
            return self.view(self._home_views.get(user_id, ""))

    def file_name(self, file_id: str) -> str | None:
        with self._cond:
            found = self._files.get(file_id)
            return found.name if found else None

    def file_content(self, file_id: str) -> bytes | None:
        with self._cond:
            found = self._files.get(file_id)
            return found.data if found else None

    @property
    def version(self) -> int:
        """Grows with every change to the workspace, a call, a message or a view."""
        with self._cond:
            return self._version

    def open_modal(self, user_id: str) -> dict[str, Any] | None:
        """The modal on top of ``user_id``'s stack, as Slack holds it; None when none is open."""
        with self._cond:
            stack = self._modals.get(user_id) or [""]
            return copy.deepcopy(self._views.get(stack[-1]))

    def close_modal(self, user_id: str, view_id: str) -> None:
        """The user closed the view (its Cancel or ✕): it leaves the stack with any above it."""
        with self._cond:
            stack = self._modals.get(user_id, [])
            if view_id in stack:
                del stack[stack.index(view_id) :]
                self._changed()

    def answer_submission(self, user_id: str, view_id: str, answer: dict[str, Any]) -> None:
        """What Slack does with the app's answer to a ``view_submission`` of ``view_id``."""
        action = answer.get("response_action")
        with self._cond:
            stack = self._modals.setdefault(user_id, [])
            if action == "errors":
                return
            if action == "update":
                self._save_view(_valid_view(answer.get("view")), view_id)
            elif action == "push":
                stack.append(self._save_view(_valid_view(answer.get("view")))["id"])
            elif action == "clear":
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)
            self._changed()

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self._users.get(user_id))

    def channel_name(self, channel_id: str) -> str | None:
        with self._cond:
            found = self._channels.get(channel_id)
            return found.name if found else None

    def ephemeral_messages(self, user_id: str) -> list[dict[str, Any]]:
        """Messages only ``user_id`` sees: ``chat.postEphemeral`` and ``response_url`` posts."""
        with self._cond:
            return copy.deepcopy(self._ephemeral.get(user_id, []))

    def snapshot(self) -> dict[str, Any]:
        """Users and conversations (top-level messages, each with its ``replies``) at one
        version, for a page that shows the workspace."""
        with self._cond:
            conversations = []
            for channel in self._channels.values():
                messages = []
                for message in channel.top_level():
                    replies = [channel.messages[r] for r in channel.threads.get(message["ts"], [])]
                    messages.append({**message, "replies": replies})
                conversations.append(
                    {"id": channel.id, "name": channel.name, "dm_user": channel.dm_user,
                     "messages": messages}
                )  # fmt: skip
            return copy.deepcopy({"users": self._users, "channels": conversations})

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

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` ("*" for any method).

        429 answers carry ``Retry-After`` (default 1) and error "ratelimited"; status 200 answers
        ``ok: false`` with ``error``.
        """
        if status == 200 and not error:
            raise ValueError("an HTTP 200 failure needs an error code")
        with self._cond:
            self._faults.setdefault(method, deque()).append(
                _Fault(status, error, retry_after, count)
            )

    def clear_faults(self) -> None:
        """Forget the failures still queued by fail_next()."""
        with self._cond:
            self._faults.clear()

    def set_outage(self, on: bool, status: int = 503) -> None:
        """While on, every Web API call fails with ``status``."""
        with self._cond:
            self._outage = status if on else None

    def set_rate_limit(
        self, method: str, per_second: float | None, burst: int = 1, per_channel: bool = True
    ) -> None:
        """Token-bucket limit ``method`` (per channel by default, like chat.postMessage's ~1/s).

        Calls over the limit get HTTP 429 with ``Retry-After`` in whole seconds (at least 1).
        ``per_second=None`` removes the limit.
        """
        with self._cond:
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}
            if per_second is None:
                self._rate_rules.pop(method, None)
            else:
                self._rate_rules[method] = _RateRule(per_second, burst, per_channel)

    def hold_responses(self, method: str) -> None:
        """Carry out calls of ``method`` but withhold their answers until release_responses().

        Simulates a client that dies after Slack acted but before it learned the result.
        """
        with self._cond:
            self._held_methods.add(method)

    def release_responses(self) -> None:
        """Send every withheld answer and stop holding."""
        with self._cond:
            self._held_methods.clear()
            released, self._release = self._release, threading.Event()
        released.set()

    # -- HTTP routing ------------------------------------------------------------------------

    def _route(self, verb: str, path: str, query: str, headers: Message, body: bytes) -> _Reply:
        kind, _, rest = path.lstrip("/").partition("/")
        if kind == "api":
            return self._serve_api(rest, headers, body, query)
        if kind == "upload" and verb == "POST":
            return self._receive_upload(rest, headers, body)
        if kind == "files" and verb == "GET":
            return self._serve_file(rest.partition("/")[0], headers)
        if kind == "response" and verb == "POST":
            return self._receive_response(rest, headers, body)
        return _Reply(404, b"not found")

    def _serve_api(self, method: str, headers: Message, body: bytes, query: str) -> _Reply:
        parse_error = None
        try:
            args = _parse_args(headers, body, query)
        except SlackError as exc:
            args, parse_error = {}, exc
        lowered = _lower_keys(headers)
        with self._cond:
            reply = self._answer(method, lowered, args, parse_error)
            self._record(method, args, lowered, reply)
            gate = self._release if method in self._held_methods else None
        if gate is not None:
            gate.wait()
        return reply

    def _answer(
        self, method: str, headers: dict[str, str], args: Args, parse_error: SlackError | None
    ) -> _Reply:
        if self._outage is not None:
            return _failure(self._outage)
        if fault := self._take_fault(method):
            return fault.reply()
        handler = self._methods.get(method)
        if handler is None:
            return _Reply(200, {"ok": False, "error": "unknown_method"})
        if parse_error is not None:
            return _Reply(200, parse_error.payload())
        try:
            if method != "api.test":
                self._authenticate(headers, args, app_level=method == "apps.connections.open")
            if retry_after := self._throttle(method, args):
                return _failure(429, retry_after=retry_after)
            # A snapshot: the body is encoded after the lock is released, and recorded for good.
            return _Reply(200, {"ok": True, **copy.deepcopy(handler(args))})
        except SlackError as exc:
            return _Reply(200, exc.payload())

    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def _record(self, method: str, args: Args, headers: dict[str, str], reply: _Reply) -> None:
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
        self._changed()

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

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

    def _throttle(self, method: str, args: Args) -> int:
        """0 when the call may go ahead, else the whole seconds for ``Retry-After``."""
        rule = self._rate_rules.get(method)
        if rule is None:
            return 0
        channel = (args.get("channel") or args.get("channel_id")) if rule.per_channel else None
        now = time.monotonic()
        bucket = self._buckets.setdefault(
            (method, channel), _TokenBucket(rule.per_second, rule.burst, rule.burst, now)
        )
        wait = bucket.take(now)
        return max(1, math.ceil(wait)) if wait else 0

    def _receive_upload(self, file_id: str, headers: Message, body: bytes) -> _Reply:
        if headers.get_content_type() == "multipart/form-data":
            parts = [v for v in _multipart_fields(headers, body).values() if isinstance(v, bytes)]
            body = parts[0] if parts else b""
        with self._cond:
            pending = self._files.get(file_id)
            if pending is None:
                return _Reply(404, b"unknown upload")
            pending.data = body
            self._changed()
        return _Reply(200, f"OK - {len(body)}".encode(), {"Content-Type": "text/plain"})

    def _serve_file(self, file_id: str, headers: Message) -> _Reply:
        if headers.get("Authorization", "") != f"Bearer {self.bot_token}":
            return _Reply(403, b"url_private needs the bot token")
        with self._cond:
            found = self._files.get(file_id)
            if found is not None and found.redirect_to:
                return _Reply(302, b"", {"Location": found.redirect_to})
        data = self.file_content(file_id)
        return _Reply(404, b"no such file") if data is None else _Reply(200, data)

    def _receive_response(self, token: str, headers: Message, body: bytes) -> _Reply:
        try:
            args = _parse_args(headers, body, "")
        except SlackError as exc:
            return _Reply(400, exc.payload())
        reply = _Reply(200, {"ok": True})
        with self._cond:
            user_id = self._responders.get(token)
            if user_id and args.get("response_type") != "in_channel":
                content = {k: args[k] for k in ("text", "blocks") if k in args}
                self._keep_ephemeral(user_id, {**content, "channel": None, "thread_ts": None})
            self._record(RESPONSE_URL_METHOD, args, _lower_keys(headers), reply)
        return reply

    def _keep_ephemeral(self, user_id: str, message: dict[str, Any]) -> str:
        ts = self._next_ts()
        self._ephemeral.setdefault(user_id, []).append({**message, "ts": ts})
        self._changed()
        return ts

    # -- shared helpers for method handlers (called with the lock held) ----------------------

    def _new_id(self, prefix: str) -> str:
        self._id_counter += 1
        return f"{prefix}0FAKE{self._id_counter:05d}"

    def _next_ts(self) -> str:
        # Slack's ts is epoch seconds with six decimals, unique and increasing per channel.
        micros = max(time.time_ns() // 1000, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel(self, args: Args, *, member: bool = False) -> _Channel:
        found = self._lookup_channel(str(args.get("channel") or ""))
        if found is None or (found.is_private and self.bot_user_id not in found.members):
            raise SlackError("channel_not_found")
        if member and self.bot_user_id not in found.members:
            raise SlackError("not_in_channel")
        return found

    def _lookup_channel(self, ref: str) -> _Channel | None:
        if ref in self._channels:
            return self._channels[ref]
        if ref in self._users:
            return self._dm_with(ref)
        name = ref.removeprefix("#")
        return next((c for c in self._channels.values() if c.name == name and not c.dm_user), None)

    def _dm_with(self, user_id: str) -> _Channel:
        existing = next((c for c in self._channels.values() if c.dm_user == user_id), None)
        if existing is not None:
            return existing
        channel = _Channel(
            self._new_id("D"), "", dm_user=user_id, members=[self.bot_user_id, user_id]
        )
        self._channels[channel.id] = channel
        return channel

    def _message(self, channel: _Channel, ts: object) -> dict[str, Any]:
        found = channel.messages.get(str(ts or ""))
        if found is None:
            raise SlackError("message_not_found")
        return found

    def _bot_fields(self) -> dict[str, Any]:
        profile = {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": _BOT_NAME,
            "deleted": False,
            "team_id": self.team_id,
        }
        return {
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "bot_profile": profile,
        }

    def _store(self, channel: _Channel, fields: Args, thread_ts: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "ts": self._next_ts(), **fields}
        if thread_ts:
            message["thread_ts"] = thread_ts
            root = channel.messages.get(thread_ts)
            # Slack accepts a well-formed thread_ts that names no top-level message; the
            # reply is then shown nowhere (not in history, not in any thread). Mirror that.
            if root is not None and "thread_ts" not in root:
                message["parent_user_id"] = root.get("user", "")
                channel.threads.setdefault(thread_ts, []).append(message["ts"])
        channel.messages[message["ts"]] = message
        self._changed()
        return message

    # -- auth / api --------------------------------------------------------------------------

    def _api_test(self, args: Args) -> dict[str, Any]:
        if "error" in args:
            raise SlackError(str(args["error"]))
        return {"args": args} if args else {}

    def _apps_connections_open(self, args: Args) -> dict[str, Any]:
        return {"url": self.socket_mode.issue_url()}

    def _auth_test(self, args: Args) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": "Fake Workspace",
            "user": _BOT_NAME,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    # -- chat --------------------------------------------------------------------------------

    def _chat_post_message(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        content = _message_content(args)
        _require_text(content)
        thread_ts = _thread_ts(args)
        message = self._store(channel, {"text": "", **self._bot_fields(), **content}, thread_ts)
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def _chat_update(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        message = self._message(channel, args.get("ts"))
        if message.get("bot_id") != self.bot_id:
            raise SlackError("cant_update_message")
        content = _message_content(args)
        _require_text({**message, **content})
        message.update(content, edited={"user": self.bot_user_id, "ts": self._next_ts()})
        self._changed()
        rendered = channel.render(message, include_metadata=True)
        return {
            "channel": channel.id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": rendered,
        }

    def _chat_delete(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        message = self._message(channel, args.get("ts"))
        if message.get("bot_id") != self.bot_id:
            raise SlackError("cant_delete_message")
        del channel.messages[message["ts"]]
        if replies := channel.threads.get(message.get("thread_ts", "")):
            replies.remove(message["ts"])
        self._changed()
        return {"channel": channel.id, "ts": message["ts"]}

    def _chat_post_ephemeral(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        if not args.get("user"):
            raise SlackError("user_not_found")
        content = _message_content(args)
        _require_text(content)
        message = {**content, "channel": channel.id, "thread_ts": _thread_ts(args)}
        return {"message_ts": self._keep_ephemeral(str(args["user"]), message)}

    def _chat_get_permalink(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args)
        message = self._message(channel, args.get("message_ts"))
        link = f"{WORKSPACE_URL}archives/{channel.id}/p{message['ts'].replace('.', '')}"
        if "thread_ts" in message:
            link += f"?thread_ts={message['thread_ts']}&cid={channel.id}"
        return {"channel": channel.id, "permalink": link}

    # -- conversations -----------------------------------------------------------------------

    def _conversations_history(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        newest_first = _in_window(channel.top_level(), args)[::-1]
        return self._message_page(channel, newest_first, args)

    def _conversations_replies(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args, member=True)
        thread = channel.thread(str(args.get("ts") or ""))
        if not thread:
            raise SlackError("thread_not_found")
        return self._message_page(channel, _in_window(thread, args), args)

    def _message_page(
        self, channel: _Channel, messages: list[dict[str, Any]], args: Args
    ) -> dict[str, Any]:
        page, cursor = _page(messages, args, key=lambda m: m["ts"])
        include_metadata = _flag(args.get("include_all_metadata"))
        return {
            "messages": [channel.render(m, include_metadata) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_info(self, args: Args) -> dict[str, Any]:
        return {"channel": self._channel(args).info(self.bot_user_id)}

    def _conversations_members(self, args: Args) -> dict[str, Any]:
        page, cursor = _page(self._channel(args).members, args, key=str)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_join(self, args: Args) -> dict[str, Any]:
        channel = self._channel(args)
        if channel.is_private or channel.dm_user:
            raise SlackError("method_not_supported_for_channel_type")
        if self.bot_user_id in channel.members:
            return {
                "channel": channel.info(self.bot_user_id),
                "warning": "already_in_channel",
                "response_metadata": {"warnings": ["already_in_channel"]},
            }
        channel.members.append(self.bot_user_id)
        return {"channel": channel.info(self.bot_user_id)}

    def _conversations_open(self, args: Args) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            # Group DMs (several users) are not simulated.
            raise SlackError("invalid_arguments")
        if users[0] not in self._users:
            raise SlackError("user_not_found")
        return {"channel": {"id": self._dm_with(users[0]).id}}

    # -- users -------------------------------------------------------------------------------

    def _users_info(self, args: Args) -> dict[str, Any]:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def _users_lookup_by_email(self, args: Args) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self._users.values():
            if user["profile"].get("email", "").lower() == email:
                return {"user": user}
        raise SlackError("users_not_found")

    # -- views -------------------------------------------------------------------------------

    def _views_open(self, args: Args) -> dict[str, Any]:
        _require_trigger(args)
        view = self._save_view(_valid_view(args.get("view")))
        if user_id := self._triggers.get(args["trigger_id"]):
            self._modals[user_id] = [view["id"]]
        return {"view": view}

    def _views_push(self, args: Args) -> dict[str, Any]:
        _require_trigger(args)
        view = self._save_view(_valid_view(args.get("view")))
        if user_id := self._triggers.get(args["trigger_id"]):
            self._modals.setdefault(user_id, []).append(view["id"])
        return {"view": view}

    def _views_update(self, args: Args) -> dict[str, Any]:
        view = _valid_view(args.get("view"))
        return {"view": self._save_view(view, self._existing_view_id(args), args.get("hash"))}

    def _existing_view_id(self, args: Args) -> str:
        if args.get("view_id") in self._views:
            return args["view_id"]
        external_id = args.get("external_id")
        for view in self._views.values():
            if external_id and view["external_id"] == external_id:
                return view["id"]
        raise SlackError("not_found")

    def _views_publish(self, args: Args) -> dict[str, Any]:
        user_id = str(args.get("user_id") or "")
        if not user_id:
            raise SlackError("invalid_arguments")
        view = self._save_view(
            _valid_view(args.get("view")), self._home_views.get(user_id), args.get("hash")
        )
        self._home_views[user_id] = view["id"]
        return {"view": view}

    def _save_view(
        self, raw: dict[str, Any], view_id: str | None = None, expected_hash: object = None
    ) -> dict[str, Any]:
        previous = self._views.get(view_id or "")
        if previous is not None and expected_hash and expected_hash != previous["hash"]:
            raise SlackError("hash_conflict")
        new_id = view_id or self._new_id("V")
        defaults = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
        }
        view = {
            "id": new_id,
            "team_id": self.team_id,
            **defaults,
            **raw,
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": previous["root_view_id"] if previous else new_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        self._views[new_id] = view
        self._changed()
        return view

    # -- reactions ---------------------------------------------------------------------------

    def _reactions_add(self, args: Args) -> dict[str, Any]:
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        if not args.get("timestamp"):
            raise SlackError("no_item_specified")
        message = self._message(self._channel(args, member=True), args["timestamp"])
        reactions = message.setdefault("reactions", [])
        reaction = next((r for r in reactions if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            reactions.append(reaction)
        if self.bot_user_id in reaction["users"]:
            raise SlackError("already_reacted")
        reaction["users"].append(self.bot_user_id)
        reaction["count"] += 1
        self._changed()
        return {}

    # -- files -------------------------------------------------------------------------------

    def add_file(self, name: str, data: bytes, user: str) -> dict[str, Any]:
        """A file a person uploaded (e.g. in a modal's file input), as Slack describes it."""
        with self._cond:
            uploaded = _File(self._new_id("F"), name, data=data)
            self._files[uploaded.id] = uploaded
            return uploaded.describe(self.base_url, user, self.team_id)

    def misdirect_file(
        self, file_id: str, url: str | None = None, redirect_to: str | None = None
    ) -> None:
        """`files.info` names `url` as the file's address, and/or downloading it answers a
        redirect to `redirect_to`: what a compromised or spoofed answer could do."""
        with self._cond:
            found = self._files[file_id]
            found.url, found.redirect_to = url or found.url, redirect_to or found.redirect_to

    def _files_info(self, args: Args) -> dict[str, Any]:
        found = self._files.get(str(args.get("file") or ""))
        if found is None or found.data is None:
            raise SlackError("file_not_found")
        return {"file": found.describe(self.base_url, self.bot_user_id, self.team_id)}

    def _files_delete(self, args: Args) -> dict[str, Any]:
        """As Slack does: the file is gone, and messages that shared it show a tombstone."""
        found = self._files.pop(str(args.get("file") or ""), None)
        if found is None:
            raise SlackError("file_not_found")
        for channel in self._channels.values():
            for message in channel.messages.values():
                if any(f.get("id") == found.id for f in message.get("files", [])):
                    message["files"] = [
                        {"id": f["id"], "mode": "tombstone"} if f.get("id") == found.id else f
                        for f in message["files"]
                    ]
        self._changed()
        return {}

    def _files_get_upload_url_external(self, args: Args) -> dict[str, Any]:
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            raise SlackError("invalid_arguments")
        pending = _File(self._new_id("F"), filename)
        self._files[pending.id] = pending
        return {"upload_url": f"{self.base_url}/upload/{pending.id}", "file_id": pending.id}

    def _files_complete_upload_external(self, args: Args) -> dict[str, Any]:
        entries = args.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        if not all(isinstance(entry, dict) for entry in entries):
            raise SlackError("invalid_arguments")
        files = [self._uploaded_file(entry) for entry in entries]
        channel_ref = args.get("channel_id") or str(args.get("channels") or "").split(",")[0]
        if channel_ref:
            self._share_files(files, channel_ref, args)
        return {"files": [f.describe(self.base_url, self.bot_user_id, self.team_id) for f in files]}

    def _uploaded_file(self, entry: dict[str, Any]) -> _File:
        found = self._files.get(str(entry.get("id")))
        if found is None or found.data is None:
            raise SlackError("file_not_found")
        found.title = str(entry.get("title") or found.name)
        return found

    def _share_files(self, files: list[_File], channel_ref: str, args: Args) -> None:
        channel = self._channel({"channel": channel_ref}, member=True)
        thread_ts = _thread_ts(args)
        visibility = "private" if channel.is_private or channel.dm_user else "public"
        fields = {
            "text": str(args.get("initial_comment") or ""),
            **self._bot_fields(),
            "upload": True,
            "display_as_bot": False,
        }
        message = self._store(channel, fields, thread_ts)
        share = {
            "ts": message["ts"],
            "channel_name": channel.name,
            "team_id": self.team_id,
            "share_user_id": self.bot_user_id,
        }
        if thread_ts:
            share["thread_ts"] = thread_ts
        for f in files:
            f.shares.setdefault(visibility, {}).setdefault(channel.id, []).append(dict(share))
        message["files"] = [
            f.describe(self.base_url, self.bot_user_id, self.team_id) for f in files
        ]


# -- request parsing -------------------------------------------------------------------------


def _parse_args(headers: Message, body: bytes, query: str) -> Args:
    """Query string and body (JSON, form or multipart) merged, JSON-in-form values decoded."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        args.update(_parse_body(headers, body))
    return {key: _decode_json_arg(key, value) for key, value in args.items()}


def _lower_keys(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _parse_body(headers: Message, body: bytes) -> Args:
    content_type = headers.get_content_type()
    if content_type == "application/json":
        return _json_object(body)
    if content_type == "multipart/form-data":
        return _multipart_fields(headers, body)
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _json_object(body: bytes) -> Args:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise SlackError("invalid_json") from None
    if not isinstance(parsed, dict):
        raise SlackError("json_not_object")
    return parsed


def _multipart_fields(headers: Message, body: bytes) -> dict[str, str | bytes]:
    head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[str(name)] = data if part.get_filename() else data.decode("utf-8")
    return fields


def _decode_json_arg(key: str, value: Any) -> Any:
    if key not in _JSON_ARGS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # left as text; the handler answers with the method's own error


def _flag(value: object) -> bool:
    return value in (True, 1, "1", "true")


# -- argument validation ---------------------------------------------------------------------


def _message_content(args: Args) -> dict[str, Any]:
    """The text, blocks, attachments and metadata given in ``args``, validated like Slack."""
    content: dict[str, Any] = {}
    if "text" in args:
        content["text"] = str(args["text"])
        if len(content["text"]) > _MAX_TEXT:
            raise SlackError("msg_too_long")
    if "blocks" in args:
        content["blocks"] = _valid_blocks(args["blocks"])
    if "attachments" in args:
        if not isinstance(args["attachments"], list):
            raise SlackError("invalid_attachments")
        content["attachments"] = args["attachments"]
    if "metadata" in args:
        content["metadata"] = _valid_metadata(args["metadata"])
    return content


def _require_text(content: dict[str, Any]) -> None:
    if not (content.get("text") or content.get("blocks") or content.get("attachments")):
        raise SlackError("no_text")


def _valid_blocks(blocks: object) -> list[dict[str, Any]]:
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if len(blocks) > _MAX_BLOCKS:
        raise SlackError(
            "invalid_blocks", "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
        )
    for index, block in enumerate(blocks):
        if problem := _block_problem(block):
            raise SlackError("invalid_blocks", f"[ERROR] {problem} [json-pointer:/blocks/{index}]")
    return blocks


def _block_problem(block: object) -> str | None:
    if not isinstance(block, dict):
        return "must be an object"
    # slack_sdk's models raise assorted errors on malformed input; Slack refuses all of it.
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return f"unsupported type: {block.get('type')!r}"
        parsed.to_dict()  # runs the validators (lengths, required fields) recursively
    except Exception as exc:
        return str(exc)
    return None


def _valid_metadata(metadata: object) -> dict[str, Any]:
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {
        "event_type": metadata["event_type"],
        "event_payload": metadata.get("event_payload", {}),
    }


def _valid_view(view: object) -> dict[str, Any]:
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", "[ERROR] view must be a JSON object")
    try:
        View(**view).to_dict()  # as in _block_problem, any model error means Slack refuses it
    except Exception as exc:
        raise SlackError("invalid_arguments", f"[ERROR] {exc} [json-pointer:/view]") from None
    return view


def _keep_latest(issued: dict[str, str], key: str, user_id: str) -> None:
    """Remembers who was given a trigger id or response URL; a sandbox left running for
    weeks forgets the oldest, as Slack's expire within minutes anyway."""
    issued[key] = user_id
    while len(issued) > _MAX_ISSUED:
        del issued[next(iter(issued))]


def _require_trigger(args: Args) -> None:
    if not str(args.get("trigger_id") or "").strip():
        raise SlackError("invalid_trigger_id")


def _thread_ts(args: Args) -> str | None:
    value = args.get("thread_ts")
    if value in (None, ""):
        return None
    if _parse_ts(value, "invalid_thread_ts") == 0:
        raise SlackError("invalid_thread_ts")
    return str(value)


def _parse_ts(value: object, error: str) -> Decimal:
    if not _TS_PATTERN.fullmatch(str(value)):
        raise SlackError(error)
    return Decimal(str(value))


# -- paging ----------------------------------------------------------------------------------


def _in_window(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    """Messages between ``oldest`` and ``latest`` (exclusive unless ``inclusive``)."""
    oldest = _parse_ts(args.get("oldest") or "0", "invalid_ts_oldest")
    latest = _parse_ts(args["latest"], "invalid_ts_latest") if args.get("latest") else None
    inclusive = _flag(args.get("inclusive"))

    def inside(message: dict[str, Any]) -> bool:
        ts = Decimal(message["ts"])
        after = ts >= oldest if inclusive else ts > oldest
        before = latest is None or (ts <= latest if inclusive else ts < latest)
        return after and before

    return [m for m in messages if inside(m)]


def _page(items: list[Any], args: Args, key: Callable[[Any], str]) -> tuple[list[Any], str]:
    """One page of ``items`` from ``cursor``, and the cursor of the next page ("" at the end)."""
    try:
        limit = int(args.get("limit") or _PAGE_DEFAULT)
    except ValueError:
        raise SlackError("invalid_limit") from None
    limit = min(limit, _PAGE_MAX) if limit > 0 else _PAGE_DEFAULT
    start = 0
    if cursor := args.get("cursor"):
        keys = [key(item) for item in items]
        try:
            start = keys.index(_decode_cursor(str(cursor)))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    end = start + limit
    next_cursor = _encode_cursor(key(items[end])) if end < len(items) else ""
    return items[start:end], next_cursor


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"next:{key}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if not text.startswith("next:"):
        raise SlackError("invalid_cursor")
    return text.removeprefix("next:")
