"""What Slack listeners reach through `context["helpdesk"]`, built by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.config import Policy, Settings
from bot.core.sla import SlaRules
from bot.handlers.slack.agents import AgentDirectory
from bot.handlers.slack.permalinks import Permalinks


@dataclass(frozen=True)
class Services:
    settings: Settings
    policy: Policy
    engine: Engine
    agents: AgentDirectory
    wake_outbox: Callable[[], None]
    permalinks: Permalinks
    sla: SlaRules
