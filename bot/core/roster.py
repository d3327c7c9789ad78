"""Who the agents are: the port rules and the admission gate ask, whatever answers it.

The composition root gives the desk one (`bot.integrations.slack_roster`: the policy's
`agents`, else the support channel's members), so a rule that picks among agents (round-robin
assignment, say) asks the desk's roster and knows nothing of Slack.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.config import Pool


class MembersUnknown(Exception):
    """A pool's members can't be read, and waiting won't change that (a missing scope, a user
    group that doesn't exist): its message is Slack's reason, shown in the thread."""


class Roster(Protocol):
    def agents(self) -> frozenset[str]:
        """The Slack user IDs of everyone who works tickets."""

    def is_agent(self, user_id: str) -> bool: ...

    def is_member(self, channel: str, user_id: str) -> bool:
        """Whether the user is in the channel (a tier's members may act on its escalations)."""

    def pool_members(self, pool: Pool) -> tuple[str, ...]:
        """The pool's agents in a stable order (its turn goes round in it): the policy's list,
        or its user group's members. Raises `MembersUnknown`; may call Slack, so never inside
        a transaction."""

    def available(self, users: Iterable[str]) -> frozenset[str]:
        """Those of `users` who aren't away (Slack presence); may call Slack."""

    def name_of(self, user_id: str) -> str:
        """The person's name as the chat widget shows it to visitors; "" when unknown."""
