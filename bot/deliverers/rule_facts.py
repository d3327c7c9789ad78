"""The policy's rules that need Shopify facts about the customer (orders count, total spent,
tags): fetched here, outside any transaction, then the rules resume from the first such rule
in the short transaction that records this row (bot/core/rules/automation.py).

Shopify slow or down is retried a couple of times; after that, or at once for what only a
person can fix, the rules run without the facts (their Shopify conditions are not met) and
the thread says so.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core.context import Desk
from bot.core.customer_links import owner_of
from bot.core.notices import Notice
from bot.core.rules.automation import resume_with_shopify
from bot.core.rules.conditions import CustomerFacts
from bot.deliverers.shopify_context import ATTEMPTS_BEFORE_THE_NOTE, PASSING_PROBLEMS
from bot.delivery.contract import Deliverer, RetryLater
from bot.integrations.customer_orders import own_customers
from bot.integrations.shopify import ShopifyError
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.models import Message, OutboxItem, Ticket

log = logging.getLogger(__name__)

SHOPIFY_API = "Shopify Admin API"
RETRY_SECONDS = 10


def rule_facts_deliverers(shopify: CachedShopify, desk: Desk) -> dict[str, Deliverer]:
    return {kinds.SHOPIFY_RULE_FACTS: RulesWithShopifyFacts(shopify, desk)}


class RulesWithShopifyFacts:
    service = SHOPIFY_API
    posts_to_channel = False

    def __init__(self, shopify: CachedShopify, desk: Desk):
        self.shopify = shopify
        self.desk = desk

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = session.get(Ticket, item.ticket_id)
        try:
            customers = own_customers(self.shopify, owner_of(session, ticket))
        except ShopifyError as problem:
            if problem.kind in PASSING_PROBLEMS and item.attempts < ATTEMPTS_BEFORE_THE_NOTE:
                raise RetryLater(f"Shopify: {problem}", delay=RETRY_SECONDS) from None
            log.warning("ticket #%s: rules without Shopify facts: %s", ticket.number, problem)
            return {"facts": None, "problem": str(problem)}
        if not customers:
            return {"facts": None}
        found = customers[0]
        facts = CustomerFacts(found.orders_count, found.total_spent.amount, found.tags)
        return {"facts": facts.as_payload()}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        ticket = session.get(Ticket, item.ticket_id)
        rule = item.payload["from_rule"]
        if problem := result.get("problem"):
            said = f"Shopify could not tell about the customer ({problem})"
            kinds.notice(session, ticket.id, Notice.RULE_PROBLEM, rule=rule, problem=said)
        facts = result.get("facts")
        resume_with_shopify(
            session,
            self.desk,
            ticket,
            item.payload["trigger"],
            from_rule=rule,
            message=session.get(Message, item.message_id) if item.message_id else None,
            facts=CustomerFacts.from_payload(facts) if facts else None,
        )
