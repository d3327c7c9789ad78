"""Who the agents are: the port rules and the admission gate ask, whatever answers it.

The composition root gives the desk one (`bot.integrations.slack_roster`: the policy's
`agents`, else the support channel's members), so a rule that picks among agents (round-robin
assignment, say) asks the desk's roster and knows nothing of Slack.
"""

from __future__ import annotations

from typing import Protocol


class Roster(Protocol):
    def agents(self) -> frozenset[str]:
        """The Slack user IDs of everyone who works tickets."""

    def is_agent(self, user_id: str) -> bool: ...

    def is_member(self, channel: str, user_id: str) -> bool:
        """Whether the user is in the channel (a tier's members may act on its escalations)."""
