"""The desk: one immutable context the core is called with, built once by the composition root.

It holds what the policy and settings decide (SLA rules, surveys, where tickets go, escalation
tiers), who the agents are (the roster), and the rules that act when a ticket opens, changes, a
customer's message arrives or an agent replies. A new rule is a module with a function of
`(session, desk, ticket, facts)` in bot/core/rules/ and one line in its registration,
`bot.core.rules.desk_for`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.config import CsatPolicy, NpsPolicy, Policy
from bot.core.attachments import FileStore
from bot.core.sla import SlaRules
from bot.rule_policy import Rule
from bot.storage.models import Message, Ticket

if TYPE_CHECKING:
    from datetime import datetime

    from bot.core.escalation import Tier
    from bot.core.roster import Roster


@dataclass(frozen=True)
class Change:
    """One field of a ticket changed: `field` is "status" or "priority"; `by`: who changed it."""

    field: str
    old: Any
    new: Any
    at: datetime
    by: str = ""


Opened = Callable[[Session, "Desk", Ticket, None], None]
Arrived = Callable[[Session, "Desk", Ticket, Message], None]
Changed = Callable[[Session, "Desk", Ticket, Change], None]
Replied = Callable[[Session, "Desk", Ticket, Message], None]


@dataclass(frozen=True)
class Rules:
    """Who subscribes to what; each list runs in order, inside the caller's transaction."""

    on_ticket_opened: tuple[Opened, ...] = ()
    on_message_arrived: tuple[Arrived, ...] = ()
    on_ticket_changed: tuple[Changed, ...] = ()
    on_agent_replied: tuple[Replied, ...] = ()


@dataclass(frozen=True)
class Desk:
    support_channel: str
    support_address: str | None
    policy: Policy
    sla: SlaRules
    tiers: tuple[Tier, ...] = ()  # the escalation tiers, in order
    roster: Roster | None = None  # who the agents are (None only where nobody asks: tests)
    rules: Rules = field(default_factory=Rules)
    # The survey policy when surveys can be sent (enabled, and HELPDESK_SECRET_KEY set).
    surveys: CsatPolicy | None = None
    # The NPS policy when NPS surveys can be sent (enabled, and HELPDESK_SECRET_KEY set).
    nps: NpsPolicy | None = None
    files: FileStore | None = None  # where mail attachments are kept
    shopify: bool = False  # Shopify is connected: rules may ask it about the customer
    # The policy's rules, in order: the `vip` section's built-in ones, then `rules:`.
    policy_rules: tuple[Rule, ...] = ()

    def ticket_opened(self, session: Session, ticket: Ticket) -> None:
        for rule in self.rules.on_ticket_opened:
            rule(session, self, ticket, None)

    def message_arrived(self, session: Session, ticket: Ticket, message: Message) -> None:
        for rule in self.rules.on_message_arrived:
            rule(session, self, ticket, message)

    def ticket_changed(self, session: Session, ticket: Ticket, change: Change) -> None:
        for rule in self.rules.on_ticket_changed:
            rule(session, self, ticket, change)

    def agent_replied(self, session: Session, ticket: Ticket, reply: Message) -> None:
        for rule in self.rules.on_agent_replied:
            rule(session, self, ticket, reply)
