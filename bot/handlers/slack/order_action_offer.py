"""Which Shopify actions an agent is offered on the ticket's customer's orders: those the
token's scopes allow (`ShopifyActions.available_actions`), marked "needs approval" where the
policy doesn't list them for the agent (`shopify.limits.*.actions`, by their own entry, a user
group's, or `default`): taking one asks an approver."""

from __future__ import annotations

import logging

from bot.core.shop_actions import limits_for
from bot.handlers.slack.services import Services
from bot.handlers.slack.shop_actions import limit_groups, shop_of
from bot.integrations.shopify import ShopifyError
from bot.integrations.shopify_actions import ACTIONS
from bot.views.order_lookup import ActionOffer

log = logging.getLogger(__name__)


def allowed_kinds(helpdesk: Services, agent: str) -> frozenset[str]:
    """The actions the policy lets the agent take without an approver: all of them unless
    their limits list some."""
    limits = limits_for(helpdesk.desk.policy.shopify, agent, limit_groups(helpdesk, agent))
    if limits is None or limits.actions is None:
        return frozenset(ACTIONS)
    return frozenset(limits.actions)


def action_offer(helpdesk: Services, ticket_id: int, agent: str) -> ActionOffer | None:
    """What the agent may do to the ticket's customer's orders, for their ⋯ menus; None when
    Shopify can't say which scopes the token has (then no menus: the lookup matters more).
    Asks Shopify: only after Slack has its answer."""
    try:
        available = shop_of(helpdesk).available_actions()
    except ShopifyError as problem:
        log.info("Shopify actions not offered: %s", problem)
        return None
    return ActionOffer(ticket_id, available, allowed_kinds(helpdesk, agent))
