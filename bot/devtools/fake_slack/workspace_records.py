"""What the fake workspace holds per conversation and per file, and how Slack shows them."""

from __future__ import annotations

import copy
import mimetypes
import time
from dataclasses import dataclass, field
from typing import Any

WORKSPACE_URL = "https://fake.slack.test/"


@dataclass
class Channel:
    """A channel, or the app's direct messages with one person, and what was said in it."""

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
class StoredFile:
    """A file in the workspace; ``data`` is None while its upload is still pending."""

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
