"""The outbox row that posts a new ticket's Shopify context in its thread.

Looked up when delivered, not when the mail arrived: Shopify being slow or down never
delays or fails a ticket. A passing failure is retried a couple of times; after that, or at
once for a problem only a person can fix (a bad token, a missing scope), the thread gets a
short note saying what is wrong instead.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.core.customer_links import ShopifyOwner, owner_of
from bot.deliverers.slack_posts import SlackDeliverer, SlackDelivery, posted_ticket, thread_of
from bot.delivery.contract import Deliverer, RetryLater
from bot.integrations.customer_orders import belongs_to, own_customers
from bot.integrations.shopify import ShopifyError, order_numbers_in
from bot.integrations.shopify_actions import ShopifyActions
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.models import Customer as CustomerRow
from bot.storage.models import Direction, Message, OutboxItem, Ticket
from bot.views.customer_context import (
    ContextPost,
    customer_context_blocks,
    customer_context_text,
    shopify_problem_blocks,
)

log = logging.getLogger(__name__)

PASSING_PROBLEMS = {"unavailable", "timeout", "throttled"}
ATTEMPTS_BEFORE_THE_NOTE = 3
RETRY_SECONDS = 20


def shopify_deliverers(client: WebClient, shopify: CachedShopify) -> dict[str, Deliverer]:
    return {kinds.SHOPIFY_CONTEXT: OrderContextPost(SlackDelivery(client, []), shopify)}


def gather(shopify: CachedShopify, ticket_id: int, owner: ShopifyOwner, text: str) -> ContextPost:
    """The ticket's customer in Shopify (by address, and the one linked on proof), and the
    orders quoted in `text`. A quoted order of anyone else is kept apart, to be shown masked:
    order numbers are guessable, so quoting one proves nothing."""
    found = ContextPost(
        ticket_id,
        owner.email,
        own_customers(shopify, owner),
        owner.linked_id,
        claimed=owner.claimed,
        claimed_in_chat=owner.claimed_in_chat,
    )
    mine = {customer.id for customer in found.customers}
    shown = {order.name for customer in found.customers for order in customer.recent_orders}
    for name in order_numbers_in(text):
        if name in shown:
            continue
        order = shopify.order_by_name(name)
        if order is None:
            found.not_found.append(name)
        elif order.customer_id in mine or belongs_to(order, owner):
            found.quoted.append(order)
        else:
            found.foreign.append(order)
    return found


class OrderContextPost(SlackDeliverer):
    def __init__(self, slack: SlackDelivery, shopify: CachedShopify):
        super().__init__(slack)
        self.shopify = shopify

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        owner = owner_of(session, ticket)
        try:
            found = gather(self.shopify, ticket.id, owner, _first_words(session, ticket))
            found.actions = self._available_actions()
        except ShopifyError as problem:
            if problem.kind in PASSING_PROBLEMS and item.attempts < ATTEMPTS_BEFORE_THE_NOTE:
                raise RetryLater(f"Shopify: {problem}", delay=RETRY_SECONDS) from None
            log.warning("ticket #%s: no Shopify context: %s", ticket.number, problem)
            note, kind = str(problem), problem.kind
            posted = self.slack.post_once(
                item,
                ticket,
                thread_of(ticket),
                in_doubt,
                lambda: (f"Shopify: {note}", shopify_problem_blocks(note)),
            )
            return {**posted, "problem": kind}
        posted = self.slack.post_once(
            item,
            ticket,
            thread_of(ticket),
            in_doubt,
            lambda: (customer_context_text(found), customer_context_blocks(found)),
        )
        # Remembered only for the customer found by their own address, never a linked one.
        own = next((c for c in found.customers if c.id != owner.linked_id), None)
        return {
            **posted,
            "shopify_id": own.id if own else None,
            "shop_orders": own.orders_count if own else None,
            "shop_spent": str(own.total_spent) if own else None,
        }

    def _available_actions(self) -> dict[str, str | None] | None:
        """The actions the token allows, offered on the customer's orders; none when Shopify
        can't say (the post matters more than its menus)."""
        try:
            return ShopifyActions(self.shopify.client).available_actions()
        except ShopifyError as problem:
            log.info("Shopify actions not offered: %s", problem)
            return None

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        if result.get("shopify_id"):
            ticket = session.get(Ticket, item.ticket_id)
            customer = session.get(CustomerRow, ticket.customer_id)
            customer.shopify_id = result["shopify_id"]
            # Kept for the root's history line, which is built from storage alone.
            customer.shop_orders_count = result.get("shop_orders")
            customer.shop_total_spent = (result.get("shop_spent") or "")[:64] or None
            kinds.refresh_root(session, ticket.id)


def _first_words(session: Session, ticket: Ticket) -> str:
    first = session.exec(
        select(Message.body)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id)
    ).first()
    return f"{ticket.subject}\n{first or ''}"
