"""The facts of a ticket's customer's latest Shopify order, for saved replies' placeholders."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.core.customer_links import owner_of
from bot.integrations.customer_orders import own_orders
from bot.integrations.shopify import ShopifyError
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.models import Ticket
from bot.views.customer_context import order_placeholders_of

log = logging.getLogger(__name__)


def order_placeholders(shopify: CachedShopify | None, session: Session, ticket: Ticket) -> dict:
    """`{{order.name}}`, `{{order.status}}` and `{{order.tracking_url}}`: the customer's latest
    order. Empty when Shopify isn't connected, is unreachable, or knows no such customer."""
    if shopify is None:
        return {}
    try:
        orders = own_orders(shopify, owner_of(session, ticket))
    except ShopifyError as problem:
        log.info("order placeholders left empty: %s", problem)
        return {}
    if not orders:
        return {}
    return order_placeholders_of(orders[0])
