"""The outbox row that posts a new ticket's Shopify context in its thread.

Looked up when delivered, not when the mail arrived: Shopify being slow or down never
delays or fails a ticket. A passing failure is retried a couple of times; after that, or at
once for a problem only a person can fix (a bad token, a missing scope), the thread gets a
short note saying what is wrong instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.core.tickets import customer_email
from bot.integrations.shopify import Customer, Order, ShopifyError, order_numbers_in
from bot.integrations.shopify_cache import CachedShopify
from bot.jobs.delivery import Deliverer, RetryLater
from bot.jobs.slack_delivery import SlackDeliverer, SlackDelivery, posted_ticket, thread_of
from bot.storage.models import Customer as CustomerRow
from bot.storage.models import Direction, Message, OutboxItem, Ticket
from bot.views.customer_context import (
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


@dataclass
class OrderContext:
    email: str | None
    customer: Customer | None = None
    quoted: list[Order] = field(default_factory=list)  # named in the message, not among recent
    not_found: list[str] = field(default_factory=list)


def gather(shopify: CachedShopify, email: str | None, text: str) -> OrderContext:
    """The customer by email, and the orders quoted in `text`; a stranger who quotes an order
    number is matched through that order's customer."""
    found = OrderContext(email=email)
    found.customer = shopify.customer_by_email(email) if email else None
    shown = {order.name for order in found.customer.recent_orders} if found.customer else set()
    for name in order_numbers_in(text):
        if name in shown:
            continue
        order = shopify.order_by_name(name)
        if order is None:
            found.not_found.append(name)
        else:
            found.quoted.append(order)
    if found.customer is None:
        owner = next((order.customer_id for order in found.quoted if order.customer_id), None)
        found.customer = shopify.customer_by_id(owner) if owner else None
    return found


class OrderContextPost(SlackDeliverer):
    def __init__(self, slack: SlackDelivery, shopify: CachedShopify):
        super().__init__(slack)
        self.shopify = shopify

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        email = customer_email(session, ticket)
        try:
            found = gather(self.shopify, email, _first_words(session, ticket))
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
            lambda: (
                customer_context_text(found.customer, found.quoted),
                customer_context_blocks(found.customer, email, found.quoted, found.not_found),
            ),
        )
        return {**posted, "shopify_id": found.customer.id if found.customer else None}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        if result.get("shopify_id"):
            ticket = session.get(Ticket, item.ticket_id)
            session.get(CustomerRow, ticket.customer_id).shopify_id = result["shopify_id"]


def _first_words(session: Session, ticket: Ticket) -> str:
    first = session.exec(
        select(Message.body)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id)
    ).first()
    return f"{ticket.subject}\n{first or ''}"
