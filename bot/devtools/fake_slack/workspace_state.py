"""The fake workspace's state: channels and direct messages, people, messages and threads,
views and modal stacks, files, and ephemeral messages; with the calls that set it up for a test
and read it back, and the helpers the Web API methods share.

One lock (``_cond``) guards it all; waiters in ``wait_for()`` are woken on every change.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.devtools.fake_slack.method_args import valid_view
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_records import Channel, StoredFile
from bot.devtools.slack_signing import new_trigger_id

BOT_NAME = "helpdesk"
_MAX_ISSUED = 1000


class WorkspaceState:
    """One workspace with one bot. Thread-safe. FakeSlack serves it over HTTP, which gives it
    its ``base_url``."""

    def __init__(self, *, team_id: str, bot_user_id: str, bot_id: str, app_id: str) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        # One lock for all state; waiters in wait_for() are woken on every change.
        self._cond = threading.Condition(threading.RLock())
        self._version = 0  # counts state changes, for watchers such as the sandbox page
        self._responders: dict[str, str] = {}  # response_url token -> user id
        self._ephemeral: dict[str, list[dict[str, Any]]] = {}  # user id -> messages
        # Read and changed by the Web API methods, with the lock held; tests use the calls below.
        self.triggers: dict[str, str] = {}  # trigger_id -> the user who caused it
        self.modals: dict[str, list[str]] = {}  # user id -> open modal view ids, top last
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, str] = {}  # user id -> view id
        self.files: dict[str, StoredFile] = {}
        self.usergroups: dict[str, list[str]] = {}  # user group id -> its members' ids
        self.presence: dict[str, str] = {}  # user id -> "away"; anyone else is "active"
        self.missing_scopes: set[str] = set()  # the app wasn't granted these
        self._last_ts_micros = 0
        self._id_counter = 0
        self.add_user(bot_user_id, BOT_NAME, real_name="Helpdesk", is_bot=True)

    @property
    def base_url(self) -> str:
        """Where the workspace's files are served from: the HTTP server's origin."""
        raise NotImplementedError

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
            _keep_latest(self.triggers, trigger_id, user_id)
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
            self.channels[channel_id] = Channel(
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
        tz: str = "UTC",
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
            "tz": tz,
            "tz_label": "Coordinated Universal Time" if tz == "UTC" else tz,
            "tz_offset": int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds()),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }
        with self._cond:
            self.users[user_id] = user

    def add_usergroup(self, usergroup_id: str, members: Iterable[str]) -> None:
        """A user group (``S…``) and its members, as ``usergroups.users.list`` lists them."""
        with self._cond:
            self.usergroups[usergroup_id] = list(members)
            self.changed()

    def set_presence(self, user_id: str, presence: str) -> None:
        """``away`` or ``active``, as ``users.getPresence`` answers for the user."""
        if presence not in ("away", "active"):
            raise ValueError(f"presence is away or active, not {presence!r}")
        with self._cond:
            self.presence[user_id] = presence
            self.changed()

    def revoke_scope(self, scope: str) -> None:
        """Methods needing ``scope`` answer ``missing_scope``, as for an app installed
        without it."""
        with self._cond:
            self.missing_scopes.add(scope)
            self.changed()

    def require_scope(self, scope: str) -> None:
        """For the Web API methods: refuse as Slack does when the token lacks ``scope``."""
        if scope in self.missing_scopes:
            raise SlackError("missing_scope", needed=scope, provided="")

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
            return self.store(self.channels[channel], fields, thread_ts)["ts"]

    def direct_message_channel(self, user_id: str) -> str:
        """The id of the app's direct messages with ``user_id`` (its Messages tab), opened
        now if it wasn't: Slack gives every user of the app one."""
        with self._cond:
            before = len(self.channels)
            channel = self.dm_with(user_id)
            if len(self.channels) != before:
                self.changed()
            return channel.id

    def reset(self) -> None:
        """An empty workspace again, with only the bot: no channels, people, messages, views
        or files. The version keeps growing, so that watchers see the change."""
        with self._cond:
            bot = self.users[self.bot_user_id]
            for state in (self.channels, self.users, self.views, self.home_views,
                          self.files, self.modals, self._ephemeral, self.triggers,
                          self._responders, self.usergroups, self.presence,
                          self.missing_scopes):  # fmt: skip
                state.clear()
            self.users[self.bot_user_id] = bot
            self.changed()

    def add_file(self, name: str, data: bytes, user: str) -> dict[str, Any]:
        """A file a person uploaded (e.g. in a modal's file input), as Slack describes it."""
        with self._cond:
            uploaded = StoredFile(self.new_id("F"), name, data=data)
            self.files[uploaded.id] = uploaded
            return uploaded.describe(self.base_url, user, self.team_id)

    def misdirect_file(
        self, file_id: str, url: str | None = None, redirect_to: str | None = None
    ) -> None:
        """`files.info` names `url` as the file's address, and/or downloading it answers a
        redirect to `redirect_to`: what a compromised or spoofed answer could do."""
        with self._cond:
            found = self.files[file_id]
            found.url, found.redirect_to = url or found.url, redirect_to or found.redirect_to

    # -- inspection --------------------------------------------------------------------------

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Every message in the channel, replies included, oldest first, with metadata."""
        with self._cond:
            found = self.channels[channel]
            return copy.deepcopy([found.render(m, True) for m in found.messages.values()])

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """[root, *replies] of the thread holding ``ts``, with metadata; [] if there is none."""
        with self._cond:
            found = self.channels[channel]
            return copy.deepcopy([found.render(m, True) for m in found.thread(ts)])

    def view(self, view_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self.views.get(view_id))

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._cond:
            return self.view(self.home_views.get(user_id, ""))

    def file_name(self, file_id: str) -> str | None:
        with self._cond:
            found = self.files.get(file_id)
            return found.name if found else None

    def file_content(self, file_id: str) -> bytes | None:
        with self._cond:
            found = self.files.get(file_id)
            return found.data if found else None

    @property
    def version(self) -> int:
        """Grows with every change to the workspace, a call, a message or a view."""
        with self._cond:
            return self._version

    def open_modal(self, user_id: str) -> dict[str, Any] | None:
        """The modal on top of ``user_id``'s stack, as Slack holds it; None when none is open."""
        with self._cond:
            stack = self.modals.get(user_id) or [""]
            return copy.deepcopy(self.views.get(stack[-1]))

    def close_modal(self, user_id: str, view_id: str) -> None:
        """The user closed the view (its Cancel or ✕): it leaves the stack with any above it."""
        with self._cond:
            stack = self.modals.get(user_id, [])
            if view_id in stack:
                del stack[stack.index(view_id) :]
                self.changed()

    def answer_submission(self, user_id: str, view_id: str, answer: dict[str, Any]) -> None:
        """What Slack does with the app's answer to a ``view_submission`` of ``view_id``."""
        action = answer.get("response_action")
        with self._cond:
            stack = self.modals.setdefault(user_id, [])
            if action == "errors":
                return
            if action == "update":
                self.save_view(valid_view(answer.get("view")), view_id)
            elif action == "push":
                stack.append(self.save_view(valid_view(answer.get("view")))["id"])
            elif action == "clear":
                stack.clear()
            elif view_id in stack:
                stack.remove(view_id)
            self.changed()

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._cond:
            return copy.deepcopy(self.users.get(user_id))

    def channel_name(self, channel_id: str) -> str | None:
        with self._cond:
            found = self.channels.get(channel_id)
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
            for channel in self.channels.values():
                messages = []
                for message in channel.top_level():
                    replies = [channel.messages[r] for r in channel.threads.get(message["ts"], [])]
                    messages.append({**message, "replies": replies})
                conversations.append(
                    {"id": channel.id, "name": channel.name, "dm_user": channel.dm_user,
                     "messages": messages}
                )  # fmt: skip
            return copy.deepcopy({"users": self.users, "channels": conversations})

    # -- shared by the Web API methods (called with the lock held) ---------------------------

    def changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def new_id(self, prefix: str) -> str:
        self._id_counter += 1
        return f"{prefix}0FAKE{self._id_counter:05d}"

    def next_ts(self) -> str:
        # Slack's ts is epoch seconds with six decimals, unique and increasing per channel.
        micros = max(time.time_ns() // 1000, self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def find_channel(self, args: Args, *, member: bool = False) -> Channel:
        found = self._lookup_channel(str(args.get("channel") or ""))
        if found is None or (found.is_private and self.bot_user_id not in found.members):
            raise SlackError("channel_not_found")
        if member and self.bot_user_id not in found.members:
            raise SlackError("not_in_channel")
        return found

    def _lookup_channel(self, ref: str) -> Channel | None:
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.dm_with(ref)
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name and not c.dm_user), None)

    def dm_with(self, user_id: str) -> Channel:
        existing = next((c for c in self.channels.values() if c.dm_user == user_id), None)
        if existing is not None:
            return existing
        channel = Channel(
            self.new_id("D"), "", dm_user=user_id, members=[self.bot_user_id, user_id]
        )
        self.channels[channel.id] = channel
        return channel

    def find_message(self, channel: Channel, ts: object) -> dict[str, Any]:
        found = channel.messages.get(str(ts or ""))
        if found is None:
            raise SlackError("message_not_found")
        return found

    def bot_fields(self) -> dict[str, Any]:
        profile = {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": BOT_NAME,
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

    def store(self, channel: Channel, fields: Args, thread_ts: str | None) -> dict[str, Any]:
        message: dict[str, Any] = {"type": "message", "ts": self.next_ts(), **fields}
        if thread_ts:
            message["thread_ts"] = thread_ts
            root = channel.messages.get(thread_ts)
            # Slack accepts a well-formed thread_ts that names no top-level message; the
            # reply is then shown nowhere (not in history, not in any thread). Mirror that.
            if root is not None and "thread_ts" not in root:
                message["parent_user_id"] = root.get("user", "")
                channel.threads.setdefault(thread_ts, []).append(message["ts"])
        channel.messages[message["ts"]] = message
        self.changed()
        return message

    def keep_ephemeral(self, user_id: str, message: dict[str, Any]) -> str:
        ts = self.next_ts()
        self._ephemeral.setdefault(user_id, []).append({**message, "ts": ts})
        self.changed()
        return ts

    def save_view(
        self, raw: dict[str, Any], view_id: str | None = None, expected_hash: object = None
    ) -> dict[str, Any]:
        previous = self.views.get(view_id or "")
        if previous is not None and expected_hash and expected_hash != previous["hash"]:
            raise SlackError("hash_conflict")
        new_id = view_id or self.new_id("V")
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
        self.views[new_id] = view
        self.changed()
        return view


def _keep_latest(issued: dict[str, str], key: str, user_id: str) -> None:
    """Remembers who was given a trigger id or response URL; a sandbox left running for
    weeks forgets the oldest, as Slack's expire within minutes anyway."""
    issued[key] = user_id
    while len(issued) > _MAX_ISSUED:
        del issued[next(iter(issued))]
