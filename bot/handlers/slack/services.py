"""What Slack listeners reach through `context["helpdesk"]`, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.config import CsatPolicy, Policy, Settings
from bot.core.sla import SlaRules
from bot.handlers.slack.agents import AgentDirectory
from bot.handlers.slack.permalinks import Permalinks
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.db import reader


@dataclass(frozen=True)
class Services:
    settings: Settings
    policy: Policy
    engine: Engine
    agents: AgentDirectory
    permalinks: Permalinks
    sla: SlaRules
    # The survey policy when surveys can be sent (enabled, and HELPDESK_SECRET_KEY set).
    surveys: CsatPolicy | None = None
    # The shop's Admin API (cached), when SHOPIFY_SHOP is set.
    shopify: CachedShopify | None = None

    @property
    def reader(self) -> Engine:
        """For lookups that write nothing: on SQLite they don't queue behind writers."""
        return reader(self.engine)
