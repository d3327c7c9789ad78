"""Actions in the shop from a ticket: refund, cancel, change the address, reship, discount.

:class:`ShopifyActions` wraps a :class:`~bot.integrations.shopify.ShopifyClient` and reuses its
session, POST, throttling and error mapping. Every document is a fixed GraphQL string with
variables; nothing a customer or agent wrote is spliced into GraphQL.

Mutations are never retried blindly. The client retries a mutation only after an answer that
proves Shopify did not apply it (HTTP 429, a GraphQL ``THROTTLED`` error). Anything else after
the request may have reached Shopify (a timeout, a cut connection, a 5xx) raises
:class:`ShopifyInDoubt`: the caller reconciles by reading the shop before trying again.
Shopify's refusals (``userErrors``) raise :class:`ShopifyUserErrors`: nothing was applied.

Reconciliation markers (what the outbox deliverer looks for when an action is in doubt):

- a refund's ``note`` contains the action's key (and ``refundCreate`` carries
  ``@idempotent(key: $key)``, so Shopify itself answers a repeated key with the first refund);
- a reship's draft order carries the action's ``tag`` (:meth:`ShopifyActions.draft_orders_tagged`);
- a discount is found by its code (:meth:`ShopifyActions.discount_by_code`).

    actions = ShopifyActions(client)
    order = actions.order("gid://shopify/Order/450789469")
    plan = actions.suggest_refund(order.id, [(line.id, 1)], refund_shipping=False, restock=True)
    refund = actions.refund(order.id, [(line.id, 1)], Decimal(0), True, plan.transactions,
                            note="Helpdesk refund hd-7f3a", key="hd-7f3a")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.integrations.shopify import Money, ShopifyClient, ShopifyError

ACTIONS = ("refund", "cancel", "address", "reship", "discount")
# The scope each action needs (issue 22); read scopes are REQUIRED_SCOPES already.
ACTION_SCOPES = {
    "refund": "write_orders",
    "cancel": "write_orders",
    "address": "write_orders",
    "reship": "write_draft_orders",
    "discount": "write_discounts",
}


@dataclass(frozen=True)
class LineItem:
    id: str  # GID, e.g. gid://shopify/LineItem/466157049
    title: str
    sku: str | None
    quantity: int  # as ordered
    refundable_quantity: int  # not yet refunded
    unit_price: Money  # originalUnitPriceSet.shopMoney


@dataclass(frozen=True)
class Address:
    name: str | None
    address1: str | None
    address2: str | None
    city: str | None
    province_code: str | None
    zip: str | None
    country_code: str | None  # ISO 3166-1 alpha-2, e.g. "US"
    phone: str | None


@dataclass(frozen=True)
class ShopTransaction:
    id: str  # GID of the parent transaction a refund goes against
    gateway: str
    kind: str  # SALE, CAPTURE, ... (SuggestedRefund's suggestedTransactions: SUGGESTED_REFUND)
    amount: Money


@dataclass(frozen=True)
class RefundRecord:
    id: str  # GID of the Refund
    created_at: datetime  # aware
    amount: Money  # totalRefundedSet.shopMoney
    note: str | None


@dataclass(frozen=True)
class ActionableOrder:
    id: str  # GID
    name: str  # "#1001"
    currency: str  # the shop's currency (currencyCode)
    customer_id: str | None
    customer_email: str | None
    line_items: tuple[LineItem, ...]
    shipping_address: Address | None
    shipping_refundable: Money  # shipping not yet refunded
    refundable: Money  # totalReceived minus totalRefunded: what can still be refunded
    financial_status: str | None  # displayFinancialStatus
    fulfillment_status: str  # displayFulfillmentStatus
    cancelled_at: datetime | None
    transactions: tuple[ShopTransaction, ...]  # successful SALE/CAPTURE ones
    refunds: tuple[RefundRecord, ...]


@dataclass(frozen=True)
class SuggestedRefund:
    amount: Money
    shipping: Money
    subtotal: Money
    tax: Money
    transactions: list[ShopTransaction]  # what refund() must be given


@dataclass(frozen=True)
class FieldProblem:
    field: tuple[str, ...]  # Shopify's path, e.g. ("refund", "refundLineItems", "0", "quantity")
    message: str
    code: str | None


class ShopifyUserErrors(ShopifyError):
    """Shopify refused the mutation (``userErrors``): nothing was applied."""

    def __init__(self, operation: str, problems: list[FieldProblem]) -> None:
        said = "; ".join(problem.message for problem in problems) or "no reason given"
        super().__init__("user_errors", f"Shopify refused the {operation}: {said}")
        self.problems = problems


class ShopifyInDoubt(ShopifyError):
    """The mutation may have reached Shopify, but no answer came: reconcile before retrying."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(
            "in_doubt",
            f"Shopify did not answer the {operation} ({reason}); it may have been applied: "
            "check the shop before trying again.",
        )


class ShopifyActions:
    """The shop's write side, for the helpdesk's actions. Thread-safe like its client."""

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    def order(self, order_gid: str) -> ActionableOrder | None:
        """The order with what the actions need (lines, address, money, refunds); or None."""
        raise NotImplementedError

    def suggest_refund(
        self,
        order_gid: str,
        lines: Sequence[tuple[str, int]],
        refund_shipping: bool,
        restock: bool,
    ) -> SuggestedRefund:
        """Shopify's own calculation (``Order.suggestedRefund``) for these (line id, quantity)."""
        raise NotImplementedError

    def refund(
        self,
        order_gid: str,
        lines: Sequence[tuple[str, int]],
        shipping_amount: Decimal,
        restock: bool,
        transactions: Sequence[ShopTransaction],
        note: str,
        key: str,
    ) -> RefundRecord:
        """``refundCreate`` with ``@idempotent(key: $key)``; ``note`` should contain ``key``."""
        raise NotImplementedError

    def cancel(
        self,
        order_gid: str,
        reason: str,
        refund: bool,
        restock: bool,
        notify_customer: bool,
        staff_note: str,
    ) -> str:
        """``orderCancel``; returns the Job's GID (the cancellation completes asynchronously).

        ``reason``: OrderCancelReason (CUSTOMER, DECLINED, FRAUD, INVENTORY, OTHER, STAFF).
        """
        raise NotImplementedError

    def job_done(self, job_id: str) -> bool:
        """Whether the Job has completed."""
        raise NotImplementedError

    def change_address(self, order_gid: str, address: Address) -> Address:
        """``orderUpdate`` of the shipping address; returns it as Shopify stored it."""
        raise NotImplementedError

    def reship(
        self,
        order_gid: str,
        lines: Sequence[tuple[str, int]],
        address: Address,
        tag: str,
    ) -> tuple[str, str | None, str | None]:
        """A free replacement: draft order of these lines at 100% off, tagged, then completed.

        Returns (draft order GID, order GID, order name); the last two are None when the
        draft was created but its completion did not answer (complete it again later).
        """
        raise NotImplementedError

    def draft_orders_tagged(self, tag: str) -> list[tuple[str, str | None, str | None]]:
        """(draft GID, order GID or None, order name or None) of each draft with ``tag``."""
        raise NotImplementedError

    def create_discount(
        self,
        code: str,
        percentage: Decimal | None,
        amount: Decimal | None,
        customer_id: str,
        ends_at: datetime,
        title: str,
    ) -> str:
        """A single-use code for one customer (``discountCodeBasicCreate``); its node's GID.

        Exactly one of ``percentage`` (0 < p <= 100) and ``amount`` (> 0, shop currency).
        """
        raise NotImplementedError

    def discount_by_code(self, code: str) -> str | None:
        """The discount node GID of ``code`` (``codeDiscountNodeByCode``); or None."""
        raise NotImplementedError

    def available_actions(self) -> dict[str, str | None]:
        """Each of :data:`ACTIONS` → None when the token may do it, else the missing scope."""
        raise NotImplementedError
