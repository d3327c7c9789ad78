"""Which Shopify customers and orders are a ticket's customer's.

Only the customer with the ticket's address and the one an agent linked the ticket to on
proof (`bot.core.customer_links`) count: an order number someone quoted is never enough.
"""

from __future__ import annotations

from bot.core.customer_links import ShopifyOwner
from bot.integrations.shopify import Customer, Order, order_numbers_in
from bot.integrations.shopify_cache import CachedShopify


def own_customers(shopify: CachedShopify, owner: ShopifyOwner) -> list[Customer]:
    """The Shopify customer with the ticket's address, and the one it is linked to."""
    found = [shopify.customer_by_email(owner.email) if owner.email else None]
    if owner.linked_id and all(c is None or c.id != owner.linked_id for c in found):
        found.append(shopify.customer_by_id(owner.linked_id))
    return [customer for customer in found if customer is not None]


def own_orders(shopify: CachedShopify, owner: ShopifyOwner) -> list[Order]:
    """Those customers' recent orders, newest first. ShopifyError when Shopify fails."""
    orders = [order for c in own_customers(shopify, owner) for order in c.recent_orders]
    return sorted(orders, key=lambda order: order.processed_at, reverse=True)


def belongs_to(order: Order, owner: ShopifyOwner) -> bool:
    """Whether the order is this customer's: their details may go into a reply to them."""
    return owner.owns(order.customer_id, order.customer_email)


def own_order_quoted(shopify: CachedShopify, owner: ShopifyOwner, text: str) -> Order | None:
    """The first order quoted in `text` ("#1001") that is this customer's; never anyone
    else's. ShopifyError when Shopify fails."""
    mine: set[str] | None = None
    for name in order_numbers_in(text):
        order = shopify.order_by_name(name)
        if order is None:
            continue
        if belongs_to(order, owner):
            return order
        if mine is None:  # asked only when the order's own details don't tell
            mine = {customer.id for customer in own_customers(shopify, owner)}
        if order.customer_id in mine:
            return order
    return None
