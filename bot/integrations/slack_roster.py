"""The roster from Slack: the policy's `agents`, else the support channel's members (kept a
few minutes); tier channels' members, for who may act on escalations posted there; pools'
user groups' members and agents' presence, for assignment."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Pool
from bot.core import text
from bot.core.roster import MembersUnknown

log = logging.getLogger(__name__)

MEMBERS_TTL_SECONDS = 300
# Presence changes by the minute; a burst of tickets asks once per agent, not once per ticket.
PRESENCE_TTL_SECONDS = 30

Value = TypeVar("Value")


class SlackRoster:
    def __init__(self, client: WebClient, agents: list[str] | None, support_channel: str):
        self._client = client
        self._agents = set(agents) if agents is not None else None
        self._support_channel = support_channel
        self._cache: dict[str, tuple[float, object]] = {}
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

    def pool_members(self, pool: Pool) -> tuple[str, ...]:
        if pool.agents is not None:
            return tuple(pool.agents)
        group = pool.usergroup
        return self._cached(f"group:{group}", MEMBERS_TTL_SECONDS, lambda: self._group(group))

    def available(self, users: Iterable[str]) -> frozenset[str]:
        return frozenset(
            user
            for user in users
            if self._cached(f"presence:{user}", PRESENCE_TTL_SECONDS, lambda u=user: self._here(u))
        )

    def name_of(self, user_id: str) -> str:
        """Kept a few minutes: a reply asks it inside Slack's 3-second wait for the answer."""
        return self._cached(
            f"name:{user_id}", MEMBERS_TTL_SECONDS, lambda: display_name(self._client, user_id)
        )

    def _members_of(self, channel: str) -> set[str]:
        return self._cached(f"channel:{channel}", MEMBERS_TTL_SECONDS, lambda: self._fetch(channel))

    def _cached(self, key: str, ttl: float, fetch: Callable[[], Value]) -> Value:
        with self._lock:
            fetched_at, value = self._cache.get(key, (float("-inf"), None))
            if time.monotonic() - fetched_at > ttl:
                value = fetch()
                self._cache[key] = (time.monotonic(), value)
            return value

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

    def _group(self, usergroup: str) -> tuple[str, ...]:
        """Sorted, so that the pool's turn goes round in the same order in every process."""
        try:
            users = self._client.usergroups_users_list(usergroup=usergroup)["users"]
        except SlackApiError as exc:
            if exc.response.status_code == 200:  # Slack answered ok: false; waiting won't help
                raise MembersUnknown(str(exc.response.get("error"))) from None
            raise
        return tuple(sorted(users))

    def _here(self, user: str) -> bool:
        """False only for someone Slack says is away: presence that can't be read (a missing
        users:read scope) passes nobody over."""
        try:
            return self._client.users_getPresence(user=user).get("presence") != "away"
        except SlackApiError as exc:
            if exc.response.status_code != 200:
                raise
            log.warning("presence of %s can't be read (%s)", user, exc.response.get("error"))
            return True


def display_name(client: WebClient, user_id: str) -> str:
    """The user's name as Slack shows it, or "" when Slack won't say."""
    try:
        user = client.users_info(user=user_id)["user"]
    except Exception:
        return ""
    profile = user.get("profile") or {}
    # A display name anyone in the workspace can set; it is shown to chat visitors.
    name = profile.get("real_name") or user.get("real_name") or user.get("name") or ""
    return text.name(str(name))
