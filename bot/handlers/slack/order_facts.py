"""Which Shopify orders are a ticket's customer's, and their facts for saved replies."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.core.visitors import reachable
from bot.integrations.shopify import Order, ShopifyError
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.models import Customer, Ticket
from bot.views.customer_context import status_word

log = logging.getLogger(__name__)


def order_placeholders(shopify: CachedShopify | None, session: Session, ticket: Ticket) -> dict:
    """`{{order.name}}`, `{{order.status}}` and `{{order.tracking_url}}`: the customer's latest
    order. Empty when Shopify isn't connected, is unreachable, or knows no such customer."""
    owner = owner_of(session, ticket)
    if shopify is None or not owner[0]:
        return {}
    try:
        customer = shopify.customer_by_email(owner[0])
    except ShopifyError as problem:
        log.info("order placeholders left empty: %s", problem)
        return {}
    if customer is None or not customer.recent_orders:
        return {}
    latest = customer.recent_orders[0]
    tracking = next((t.url for t in latest.tracking if t.url), None)
    return {
        "order.name": latest.name,
        "order.status": (
            f"{status_word(latest.financial_status)} and {status_word(latest.fulfillment_status)}"
        ),
        "order.tracking_url": tracking,
    }


def owner_of(session: Session, ticket: Ticket) -> tuple[str | None, str | None]:
    """The ticket's customer as Shopify may know them: (email, Shopify id)."""
    customer = session.get(Customer, ticket.customer_id)
    return reachable(customer.email), customer.shopify_id


def belongs_to(order: Order, email: str | None, shopify_id: str | None) -> bool:
    """Whether the order is this customer's: their details may go into a reply to them."""
    if shopify_id and order.customer_id == shopify_id:
        return True
    return bool(email and order.customer_email and order.customer_email.lower() == email.lower())
