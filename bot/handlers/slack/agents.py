"""Who may act on tickets: the policy's `agents`, else the support channel's members."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient

MEMBERS_TTL_SECONDS = 300


class AgentDirectory:
    def __init__(self, client: WebClient, agents: list[str] | None, support_channel: str):
        self._client = client
        self._agents = set(agents) if agents is not None else None
        self._channel = support_channel
        self._members: set[str] = set()
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def is_agent(self, user_id: str) -> bool:
        if self._agents is not None:
            return user_id in self._agents
        return user_id in self._channel_members()

    def _channel_members(self) -> set[str]:
        with self._lock:
            if time.monotonic() - self._fetched_at > MEMBERS_TTL_SECONDS:
                members: set[str] = set()
                cursor = None
                while True:
                    page = self._client.conversations_members(
                        channel=self._channel, cursor=cursor, limit=1000
                    )
                    members.update(page.get("members", []))
                    cursor = (page.get("response_metadata") or {}).get("next_cursor")
                    if not cursor:
                        break
                self._members = members
                self._fetched_at = time.monotonic()
            return self._members


NOT_AN_AGENT = (
    "Only the support team can do that. Ask an admin to add you to the support channel "
    "(or to the policy's `agents` list)."
)
