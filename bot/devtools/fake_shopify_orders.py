"""The fake Shopify's customers and orders, and how it shows them in GraphQL shapes.

An order has line items (with what is refunded and fulfilled of each), shipping, a shipping
address, payment transactions and refunds; its money figures (what was received, what can
still be refunded, its financial status) follow from those as Shopify's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
REFUNDABLE_KINDS = ("SALE", "CAPTURE")


@dataclass
class Customer:
    legacy_id: int
    name: str
    email: str | None
    amount_spent: Decimal
    currency: str
    tags: tuple[str, ...]
    generated: int = 0  # orders made up on demand, beyond the added ones
    generated_from: int = 0  # the number of the oldest of them

    @property
    def gid(self) -> str:
        return f"gid://shopify/Customer/{self.legacy_id}"

    def brief(self) -> dict[str, Any]:
        """The customer as an order shows it."""
        email = {"emailAddress": self.email} if self.email else None
        return {
            "id": self.gid,
            "email": self.email,
            "displayName": self.name,
            "defaultEmailAddress": email,
        }


@dataclass
class LineItem:
    legacy_id: int
    title: str
    sku: str | None
    quantity: int
    unit_price: Decimal
    variant_id: int | None  # None: a custom item, not a product of the shop
    fulfilled: int = 0
    refunded: int = 0
    cancelled: int = 0  # refunded units taken off before fulfilment (restock CANCEL)

    @property
    def gid(self) -> str:
        return f"gid://shopify/LineItem/{self.legacy_id}"

    @property
    def refundable(self) -> int:
        return self.quantity - self.refunded

    @property
    def unfulfilled(self) -> int:
        return max(0, self.quantity - self.fulfilled - self.cancelled)

    def node(self, currency: str) -> dict[str, Any]:
        variant = {"id": f"gid://shopify/ProductVariant/{self.variant_id}"}
        return {
            "id": self.gid,
            "title": self.title,
            "sku": self.sku,
            "quantity": self.quantity,
            "refundableQuantity": self.refundable,
            "unfulfilledQuantity": self.unfulfilled,
            "variant": variant if self.variant_id is not None else None,
            "originalUnitPriceSet": money_bag(self.unit_price, currency),
        }


@dataclass
class Transaction:
    legacy_id: int
    kind: str  # SALE, CAPTURE, AUTHORIZATION, REFUND
    gateway: str
    amount: Decimal
    status: str = "SUCCESS"
    parent: int | None = None  # a refund's SALE or CAPTURE

    @property
    def gid(self) -> str:
        return f"gid://shopify/OrderTransaction/{self.legacy_id}"

    def node(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.gid,
            "kind": self.kind,
            "gateway": self.gateway,
            "status": self.status,
            "amountSet": money_bag(self.amount, currency),
        }


@dataclass
class Refund:
    legacy_id: int
    created_at: datetime
    note: str | None
    amount: Decimal
    shipping: Decimal
    lines: tuple[tuple[int, int, str], ...]  # (line item legacy id, quantity, restock type)

    @property
    def gid(self) -> str:
        return f"gid://shopify/Refund/{self.legacy_id}"

    def node(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.gid,
            "createdAt": timestamp(self.created_at),
            "note": self.note,
            "totalRefundedSet": money_bag(self.amount, currency),
        }


@dataclass
class Order:
    legacy_id: int
    name: str
    processed_at: datetime
    financial_status: str | None  # as added; refunds move PAID on (see display_financial)
    fulfillment_status: str
    total: Decimal
    currency: str
    customer: Customer | None
    cancelled_at: datetime | None = None
    tracking: tuple[dict[str, str | None], ...] = ()
    email: str | None = None  # the order's contact address; its customer's when not given
    shipping_zip: str | None = None
    billing_zip: str | None = None
    line_items: list[LineItem] = field(default_factory=list)
    shipping_price: Decimal = ZERO
    shipping_refunded: Decimal = ZERO
    shipping_address: dict[str, Any] | None = None  # MailingAddress fields
    transactions: list[Transaction] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    @property
    def gid(self) -> str:
        return f"gid://shopify/Order/{self.legacy_id}"

    @property
    def received(self) -> Decimal:
        return sum(
            (t.amount for t in self.transactions if _counts(t, REFUNDABLE_KINDS)), start=ZERO
        )

    @property
    def refunded(self) -> Decimal:
        return sum((t.amount for t in self.transactions if _counts(t, ("REFUND",))), start=ZERO)

    @property
    def net_payment(self) -> Decimal:
        return self.received - self.refunded

    @property
    def fulfilled(self) -> bool:
        """Whether anything of it went out: its address and its existence are settled."""
        return self.fulfillment_status in ("FULFILLED", "PARTIALLY_FULFILLED") or any(
            line.fulfilled for line in self.line_items
        )

    def refundable_by(self, parent: Transaction) -> Decimal:
        """What can still be refunded against one SALE or CAPTURE."""
        spent = sum(
            (t.amount for t in self.transactions if t.parent == parent.legacy_id), start=ZERO
        )
        return parent.amount - spent

    def display_financial(self) -> str | None:
        if self.refunded and self.received:
            return "REFUNDED" if self.net_payment <= 0 else "PARTIALLY_REFUNDED"
        return self.financial_status

    def line(self, gid: Any) -> LineItem | None:
        return next((line for line in self.line_items if line.gid == gid), None)

    def transaction(self, gid: Any) -> Transaction | None:
        return next((t for t in self.transactions if t.gid == gid), None)

    def node(self) -> dict[str, Any]:
        """Every field the fake answers for an order; lists with arguments are resolvers."""
        customer, currency = self.customer, self.currency
        return {
            "__typename": "Order",
            "id": self.gid,
            "legacyResourceId": str(self.legacy_id),  # UnsignedInt64: a string in JSON
            "name": self.name,
            "processedAt": timestamp(self.processed_at),
            "currencyCode": currency,
            "displayFinancialStatus": self.display_financial(),
            "displayFulfillmentStatus": self.fulfillment_status,
            "cancelledAt": timestamp(self.cancelled_at) if self.cancelled_at else None,
            "totalPriceSet": money_bag(self.total, currency),
            "totalShippingPriceSet": money_bag(self.shipping_price, currency),
            "totalRefundedShippingSet": money_bag(self.shipping_refunded, currency),
            "totalReceivedSet": money_bag(self.received, currency),
            "totalRefundedSet": money_bag(self.refunded, currency),
            "netPaymentSet": money_bag(self.net_payment, currency),
            "fulfillments": lambda _: (
                [{"trackingInfo": lambda _: [dict(t) for t in self.tracking]}]
                if self.tracking
                else []
            ),
            "customer": customer.brief() if customer else None,
            "email": self.email or (customer.email if customer else None),
            "shippingAddress": address_node(self.shipping_address, self.shipping_zip),
            "billingAddress": {"zip": self.billing_zip} if self.billing_zip else None,
            "lineItems": lambda _: {"nodes": [line.node(currency) for line in self.line_items]},
            "transactions": lambda _: [t.node(currency) for t in self.transactions],
            "refunds": lambda _: [refund.node(currency) for refund in self.refunds],
            "suggestedRefund": self.suggested_refund,
            "refundable": self.net_payment > 0,
        }

    def suggested_refund(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Shopify's calculation for the lines asked (no taxes in this shop), spread over the
        payments in order as Shopify suggests: never more than what is left to refund."""
        subtotal = ZERO
        for wanted in arguments.get("refundLineItems") or ():
            line = self.line(wanted.get("lineItemId"))
            if line is not None:
                quantity = min(max(int(wanted.get("quantity") or 0), 0), line.refundable)
                subtotal += line.unit_price * quantity
        shipping = ZERO
        if arguments.get("refundShipping"):
            shipping = self.shipping_price - self.shipping_refunded
        elif arguments.get("shippingAmount") is not None:
            shipping = Decimal(str(arguments["shippingAmount"]))
        amount = min(subtotal + shipping, max(self.net_payment, ZERO))
        currency, left, suggested = self.currency, amount, []
        for parent in self.transactions:
            if left <= 0 or not _counts(parent, REFUNDABLE_KINDS):
                continue
            share = min(left, self.refundable_by(parent))
            if share > 0:
                left -= share
                suggested.append(
                    {
                        "gateway": parent.gateway,
                        "kind": "SUGGESTED_REFUND",
                        "amountSet": money_bag(share, currency),
                        "parentTransaction": parent.node(currency),
                    }
                )
        return {
            "amountSet": money_bag(amount, currency),
            "subtotalSet": money_bag(subtotal, currency),
            "totalTaxSet": money_bag(ZERO, currency),
            "shipping": {
                "amountSet": money_bag(shipping, currency),
                "maximumRefundableSet": money_bag(
                    self.shipping_price - self.shipping_refunded, currency
                ),
            },
            "suggestedTransactions": suggested,
        }


def address_node(address: dict[str, Any] | None, zip_only: str | None = None) -> Any:
    if address is None:
        return {"zip": zip_only} if zip_only else None
    names = (address.get("firstName"), address.get("lastName"))
    return {
        "name": " ".join(n for n in names if n) or None,
        "countryCodeV2": address.get("countryCode"),
        **{key: address.get(key) for key in ADDRESS_FIELDS},
    }


ADDRESS_FIELDS = (
    "firstName",
    "lastName",
    "address1",
    "address2",
    "city",
    "provinceCode",
    "zip",
    "countryCode",
    "phone",
)


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": str(amount), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def timestamp(moment: datetime) -> str:
    """Shopify's DateTime: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _counts(transaction: Transaction, kinds: tuple[str, ...]) -> bool:
    return transaction.status == "SUCCESS" and transaction.kind in kinds
