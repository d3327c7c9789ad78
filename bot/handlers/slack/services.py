"""What Slack listeners reach through `context["helpdesk"]`, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot.config import Settings
from bot.core.context import Desk
from bot.core.kb import KnowledgeBase
from bot.handlers.slack.permalinks import Permalinks
from bot.integrations.ai import AiClient
from bot.integrations.shopify_cache import CachedShopify
from bot.read_models.reply_draft import ReplyFeatures
from bot.storage.db import reader
from bot.storage.shared_state import SharedState


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    permalinks: Permalinks
    desk: Desk  # what the core is called with: the policy and its rules, tiers, the roster
    # The shop's Admin API (cached), when SHOPIFY_SHOP is set.
    shopify: CachedShopify | None = None
    # The knowledge base (`kb.path`), when the policy has one.
    kb: KnowledgeBase | None = None
    # The policy's AI server (`ai`), when AI_API_KEY is set too: drafts and summaries.
    ai: AiClient | None = None
    # What the processes share (bot/storage/shared_state.py): a Reply modal's answer kept
    # while a Discount form is open over it.
    shared: SharedState | None = None

    @property
    def reader(self) -> Engine:
        """For lookups that write nothing: on SQLite they don't queue behind writers."""
        return reader(self.engine)

    @property
    def reply_features(self) -> ReplyFeatures:
        return ReplyFeatures(
            order_picker=self.shopify is not None,
            articles=self.kb is not None,
            assistant=self.ai is not None,
        )
