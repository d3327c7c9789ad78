"""Who may act: the policy's `agents`, else the support channel's members; tier channels'
members may also act on escalations posted there."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient

MEMBERS_TTL_SECONDS = 300

NOT_AN_AGENT = (
    "Only the support team can do that. Ask an admin to add you to the support channel "
    "(or to the policy's `agents` list)."
)


class AgentDirectory:
    def __init__(self, client: WebClient, agents: list[str] | None, support_channel: str):
        self._client = client
        self._agents = set(agents) if agents is not None else None
        self._support_channel = support_channel
        self._members: dict[str, tuple[float, set[str]]] = {}
        self._lock = threading.Lock()

    def is_agent(self, user_id: str) -> bool:
        if self._agents is not None:
            return user_id in self._agents
        return self.is_member(self._support_channel, user_id)

    def is_member(self, channel: str, user_id: str) -> bool:
        with self._lock:
            fetched_at, members = self._members.get(channel, (float("-inf"), set()))
            if time.monotonic() - fetched_at > MEMBERS_TTL_SECONDS:
                members = self._fetch(channel)
                self._members[channel] = (time.monotonic(), members)
            return user_id in members

    def _fetch(self, channel: str) -> set[str]:
        members: set[str] = set()
        cursor = None
        while True:
            page = self._client.conversations_members(channel=channel, cursor=cursor, limit=1000)
            members.update(page.get("members", []))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members
