"""The roster from Slack: the policy's `agents`, else the support channel's members (kept a
few minutes); tier channels' members, for who may act on escalations posted there."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient

MEMBERS_TTL_SECONDS = 300


class SlackRoster:
    def __init__(self, client: WebClient, agents: list[str] | None, support_channel: str):
        self._client = client
        self._agents = set(agents) if agents is not None else None
        self._support_channel = support_channel
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()
        self._bot_user_id: str | None = None

    def agents(self) -> frozenset[str]:
        if self._agents is not None:
            return frozenset(self._agents)
        # The app's own bot user is a member of the channel it posts in, and no agent.
        return frozenset(self._members_of(self._support_channel) - {self._bot_user()})

    def is_agent(self, user_id: str) -> bool:
        if self._agents is not None:
            return user_id in self._agents
        return self.is_member(self._support_channel, user_id)

    def is_member(self, channel: str, user_id: str) -> bool:
        return user_id in self._members_of(channel)

    def _members_of(self, channel: str) -> set[str]:
        with self._lock:
            fetched_at, members = self._members.get(channel, (float("-inf"), set()))
            if time.monotonic() - fetched_at > MEMBERS_TTL_SECONDS:
                members = self._fetch(channel)
                self._members[channel] = (time.monotonic(), members)
            return members

    def _bot_user(self) -> str | None:
        if self._bot_user_id is None:
            self._bot_user_id = self._client.auth_test().get("user_id")
        return self._bot_user_id

    def _fetch(self, channel: str) -> set[str]:
        members: set[str] = set()
        cursor = None
        while True:
            page = self._client.conversations_members(channel=channel, cursor=cursor, limit=1000)
            members.update(page.get("members", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members
