"""The fake Shopify's write side: refunds, cancellations, address changes, draft orders,
discount codes, and the jobs and idempotency keys around them.

Each mutation validates as Shopify does and answers a payload: either the result, or
``userErrors`` (with ``field`` paths into the arguments, as Shopify gives them) and nothing
changed. The wording of messages is the fake's own, close to Shopify's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.devtools.fake_shopify_orders import (
    ADDRESS_FIELDS,
    REFUNDABLE_KINDS,
    ZERO,
    Customer,
    LineItem,
    Order,
    Refund,
    Transaction,
    timestamp,
)

CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})
RESTOCK_TYPES = frozenset({"CANCEL", "LEGACY_RESTOCK", "NO_RESTOCK", "RETURN"})
MAX_TAG = 40  # Shopify's limit on an order tag's length
# Countries the fake ships to, and the United States' states for provinceCode.
COUNTRIES = frozenset((
    "US", "CA", "MX", "GB", "IE", "FR", "DE", "NL", "BE", "LU", "AT", "CH", "IT", "ES", "PT",
    "DK", "SE", "NO", "FI", "PL", "CZ", "AU", "NZ", "JP", "SG",
))  # fmt: skip
US_STATES = frozenset((
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
    "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VT", "VA", "WA", "WV", "WI", "WY", "PR",
))  # fmt: skip
_ZIP = {
    "US": re.compile(r"[0-9]{5}(?:-[0-9]{4})?"),
    "CA": re.compile(r"[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]"),
}


def problem(path: list[str], message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": path, "message": message}
    if code is not None:
        error["code"] = code
    return error


@dataclass
class Draft:
    legacy_id: int
    lines: list[LineItem]
    discount_percent: Decimal  # of the whole draft
    shipping_address: dict[str, Any] | None
    customer: Customer | None
    email: str | None
    tags: tuple[str, ...]
    note: str | None
    order: Order | None = None

    @property
    def gid(self) -> str:
        return f"gid://shopify/DraftOrder/{self.legacy_id}"

    def node(self) -> dict[str, Any]:
        return {
            "__typename": "DraftOrder",
            "id": self.gid,
            "name": f"#D{self.legacy_id}",
            "tags": list(self.tags),
            "status": "COMPLETED" if self.order else "OPEN",
            "order": self.order.node() if self.order else None,
        }


@dataclass
class Discount:
    legacy_id: int
    code: str
    title: str
    percentage: Decimal | None  # 0 < p <= 1, as Shopify takes it
    amount: Decimal | None
    customers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None
    usage_limit: int | None
    once_per_customer: bool

    @property
    def gid(self) -> str:
        return f"gid://shopify/DiscountCodeNode/{self.legacy_id}"

    def node(self) -> dict[str, Any]:
        return {
            "__typename": "DiscountCodeNode",
            "id": self.gid,
            "codeDiscount": {
                "__typename": "DiscountCodeBasic",
                "title": self.title,
                "codes": lambda _: {"nodes": [{"code": self.code}]},
                "startsAt": timestamp(self.starts_at),
                "endsAt": timestamp(self.ends_at) if self.ends_at else None,
                "usageLimit": self.usage_limit,
                "appliesOncePerCustomer": self.once_per_customer,
            },
        }


@dataclass
class Job:
    gid: str
    order: Order
    refund: bool
    restock: bool
    done: bool = False


@dataclass
class ShopActions:
    """The mutations over the fake's orders and customers. Not thread-safe: the caller locks."""

    orders: dict[int, Order]
    customers: dict[int, Customer]
    ids: Iterator[int]
    now: Callable[[], datetime]
    drafts: dict[int, Draft] = field(default_factory=dict)
    discounts: dict[str, Discount] = field(default_factory=dict)  # by code, case-folded
    jobs: dict[str, Job] = field(default_factory=dict)

    # -- reading -----------------------------------------------------------------------------

    def order(self, gid: Any) -> Order | None:
        found = re.fullmatch(r"gid://shopify/Order/([0-9]+)", str(gid))
        return self.orders.get(int(found[1])) if found else None

    def job(self, gid: Any) -> dict[str, Any] | None:
        job = self.jobs.get(str(gid))
        return {"id": job.gid, "done": job.done, "__typename": "Job"} if job else None

    def drafts_matching(self, wanted: Callable[[dict[str, str | None]], bool]) -> list[Draft]:
        return [
            draft
            for draft in self.drafts.values()
            if any(wanted({"tag": tag}) for tag in draft.tags)
        ]

    def discount(self, code: Any) -> Discount | None:
        return self.discounts.get(str(code).strip().casefold())

    def settle(self) -> None:
        """Finish the cancellations asked before this request: Shopify's jobs run meanwhile."""
        for job in self.jobs.values():
            if not job.done:
                self._finish_cancel(job)
                job.done = True

    # -- mutations ---------------------------------------------------------------------------

    def refund_create(self, arguments: dict[str, Any]) -> dict[str, Any]:
        given = arguments.get("input") or {}
        order = self.order(given.get("orderId"))
        if order is None:
            return _refused("refund", [problem(["orderId"], "Order does not exist")])
        errors = []
        if given.get("currency") not in (None, order.currency):
            errors.append(problem(["currency"], f"Currency must be {order.currency}"))
        lines, line_errors = _refund_lines(order, given.get("refundLineItems") or [])
        shipping, shipping_errors = _shipping(order, given.get("shipping"))
        parents, money_errors = _refund_transactions(order, given.get("transactions") or [])
        errors += line_errors + shipping_errors + money_errors
        if not (lines or shipping or parents or errors):
            errors.append(problem(["refundLineItems"], "Refund must include items or money"))
        if errors:
            return _refused("refund", errors)
        refund = Refund(
            next(self.ids),
            self.now(),
            given.get("note"),
            sum((amount for _, amount in parents), start=ZERO),
            shipping,
            tuple((line.legacy_id, quantity, restock) for line, quantity, restock in lines),
        )
        self._apply_refund(order, refund, lines, parents)
        return {"refund": refund.node(order.currency), "order": order.node(), "userErrors": []}

    def order_cancel(self, arguments: dict[str, Any]) -> dict[str, Any]:
        order = self.order(arguments.get("orderId"))
        errors = []
        if order is None:
            errors.append(problem(["orderId"], "Order does not exist", "NOT_FOUND"))
        elif order.cancelled_at or any(j.order is order for j in self.jobs.values()):
            errors.append(problem(["orderId"], "Order has already been cancelled", "INVALID"))
        elif order.fulfilled:
            errors.append(
                problem(["orderId"], "Cannot cancel an order that has been fulfilled", "INVALID")
            )
        if arguments.get("reason") not in CANCEL_REASONS:
            errors.append(problem(["reason"], "Reason is not a cancel reason", "INVALID"))
        if errors or order is None:
            return {"job": None, "orderCancelUserErrors": errors, "userErrors": errors}
        method = arguments.get("refundMethod") or {}
        job = Job(
            f"gid://shopify/Job/{next(self.ids)}",
            order,
            refund=bool(method.get("originalPaymentMethodsRefund") or arguments.get("refund")),
            restock=bool(arguments.get("restock")),
        )
        self.jobs[job.gid] = job
        job_node = {"id": job.gid, "done": False}
        return {"job": job_node, "orderCancelUserErrors": [], "userErrors": []}

    def order_update(self, arguments: dict[str, Any]) -> dict[str, Any]:
        given = arguments.get("input") or {}
        order = self.order(given.get("id"))
        if order is None:
            return _refused("order", [problem(["id"], "Order does not exist")])
        if "shippingAddress" in given:
            address = given.get("shippingAddress") or {}
            if order.fulfilled:
                message = "Shipping address cannot be changed once the order is fulfilled"
                return _refused("order", [problem(["shippingAddress"], message)])
            if order.cancelled_at:
                message = "Shipping address cannot be changed on a cancelled order"
                return _refused("order", [problem(["shippingAddress"], message)])
            if errors := address_problems(address, ["shippingAddress"]):
                return _refused("order", errors)
            order.shipping_address = {key: address.get(key) for key in ADDRESS_FIELDS}
            order.shipping_zip = address.get("zip")
        return {"order": order.node(), "userErrors": []}

    def draft_order_create(self, arguments: dict[str, Any]) -> dict[str, Any]:
        given = arguments.get("input") or {}
        lines, errors = self._draft_lines(given.get("lineItems") or [])
        percent, discount_errors = _draft_discount(given.get("appliedDiscount"))
        errors += discount_errors
        customer = None
        if given.get("customerId") is not None:
            customer = self._customer(given["customerId"])
            if customer is None:
                errors.append(problem(["customerId"], "Customer does not exist"))
        address = given.get("shippingAddress")
        if address is not None:
            errors += address_problems(address, ["shippingAddress"])
        tags = tuple(given.get("tags") or ())
        if any(len(tag) > MAX_TAG for tag in tags):
            errors.append(problem(["tags"], f"Tags are too long (maximum is {MAX_TAG})"))
        if errors:
            return _refused("draftOrder", errors)
        draft = Draft(
            next(self.ids),
            lines,
            percent,
            {key: address.get(key) for key in ADDRESS_FIELDS} if address else None,
            customer,
            given.get("email"),
            tags,
            given.get("note"),
        )
        self.drafts[draft.legacy_id] = draft
        return {"draftOrder": draft.node(), "userErrors": []}

    def draft_order_complete(self, arguments: dict[str, Any]) -> dict[str, Any]:
        found = re.fullmatch(r"gid://shopify/DraftOrder/([0-9]+)", str(arguments.get("id")))
        draft = self.drafts.get(int(found[1])) if found else None
        if draft is None:
            return _refused("draftOrder", [problem(["id"], "Draft order does not exist")])
        if draft.order is not None:
            message = "This draft order has already been completed"
            return _refused("draftOrder", [problem(["id"], message)])
        draft.order = self._order_from(draft)
        return {"draftOrder": draft.node(), "userErrors": []}

    def discount_code_basic_create(self, arguments: dict[str, Any]) -> dict[str, Any]:
        given = arguments.get("basicCodeDiscount") or {}
        at = ["basicCodeDiscount"]
        errors = []
        code = str(given.get("code") or "").strip()
        if not code:
            errors.append(problem([*at, "code"], "Code can't be blank", "BLANK"))
        elif self.discount(code) is not None:
            message = "Code must be unique. Please try a different code."
            errors.append(problem([*at, "code"], message, "TAKEN"))
        if not str(given.get("title") or "").strip():
            errors.append(problem([*at, "title"], "Title can't be blank", "BLANK"))
        starts_at = _moment(given.get("startsAt")) or self.now()
        ends_at = _moment(given.get("endsAt"))
        if ends_at is not None and ends_at <= starts_at:
            message = "End date must be after the start date"
            errors.append(problem([*at, "endsAt"], message, "END_DATE_BEFORE_START_DATE"))
        percentage, amount, value_errors = _discount_value(given.get("customerGets") or {}, at)
        errors += value_errors
        context = given.get("context") or given.get("customerSelection") or {}
        customers = tuple((context.get("customers") or {}).get("add") or ())
        where = "context" if "context" in given else "customerSelection"
        if any(self._customer(gid) is None for gid in customers):
            message = "Customer does not exist"
            errors.append(problem([*at, where, "customers", "add"], message, "INVALID"))
        usage_limit = given.get("usageLimit")
        if usage_limit is not None and (not isinstance(usage_limit, int) or usage_limit < 1):
            message = "Usage limit must be greater than 0"
            errors.append(problem([*at, "usageLimit"], message, "GREATER_THAN"))
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        discount = Discount(
            next(self.ids),
            code,
            str(given["title"]),
            percentage,
            amount,
            customers,
            starts_at,
            ends_at,
            usage_limit,
            bool(given.get("appliesOncePerCustomer")),
        )
        self.discounts[code.casefold()] = discount
        return {"codeDiscountNode": discount.node(), "userErrors": []}

    # -- applying ----------------------------------------------------------------------------

    def _apply_refund(
        self,
        order: Order,
        refund: Refund,
        lines: list[tuple[LineItem, int, str]],
        parents: list[tuple[Transaction, Decimal]],
    ) -> None:
        for line, quantity, restock in lines:
            line.refunded += quantity
            if restock == "CANCEL":
                line.cancelled += quantity
        order.shipping_refunded += refund.shipping
        for parent, amount in parents:
            order.transactions.append(
                Transaction(
                    next(self.ids), "REFUND", parent.gateway, amount, parent=parent.legacy_id
                )
            )
        order.refunds.append(refund)

    def _finish_cancel(self, job: Job) -> None:
        order = job.order
        order.cancelled_at = self.now()
        if not job.refund:
            return
        lines = [
            (line, line.refundable, "CANCEL" if job.restock else "NO_RESTOCK")
            for line in order.line_items
            if line.refundable
        ]
        parents = [
            (parent, order.refundable_by(parent))
            for parent in order.transactions
            if parent.status == "SUCCESS"
            and parent.kind in REFUNDABLE_KINDS
            and order.refundable_by(parent) > 0
        ]
        shipping = order.shipping_price - order.shipping_refunded
        refund = Refund(
            next(self.ids),
            self.now(),
            "Order cancelled",
            sum((amount for _, amount in parents), start=ZERO),
            shipping,
            tuple((line.legacy_id, quantity, restock) for line, quantity, restock in lines),
        )
        self._apply_refund(order, refund, lines, parents)

    def _order_from(self, draft: Draft) -> Order:
        """The order a completed draft becomes: its lines, discounted, paid if anything is due."""
        number = 1 + max(
            (int(o.name[1:]) for o in self.orders.values() if re.fullmatch(r"#[0-9]{1,6}", o.name)),
            default=1000,
        )
        subtotal = sum((line.unit_price * line.quantity for line in draft.lines), start=ZERO)
        total = (subtotal * (100 - draft.discount_percent) / 100).quantize(Decimal("0.01"))
        currency = draft.customer.currency if draft.customer else "USD"
        order = Order(
            next(self.ids),
            f"#{number}",
            self.now(),
            "PAID",
            "UNFULFILLED",
            total,
            currency,
            draft.customer,
            email=draft.email,
            line_items=[
                LineItem(
                    next(self.ids),
                    line.title,
                    line.sku,
                    line.quantity,
                    line.unit_price,
                    line.variant_id,
                )
                for line in draft.lines
            ],
            shipping_address=draft.shipping_address,
            shipping_zip=(draft.shipping_address or {}).get("zip"),
        )
        if total > 0:
            order.transactions.append(Transaction(next(self.ids), "SALE", "manual", total))
        self.orders[order.legacy_id] = order
        return order

    def _draft_lines(self, given: list[dict[str, Any]]) -> tuple[list[LineItem], list[Any]]:
        if not given:
            return [], [problem(["lineItems"], "Add at least 1 product")]
        lines, errors = [], []
        variants = {
            line.variant_id: line
            for order in self.orders.values()
            for line in order.line_items
            if line.variant_id is not None
        }
        for index, item in enumerate(given):
            at = ["lineItems", str(index)]
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or quantity < 1:
                errors.append(problem([*at, "quantity"], "Quantity must be at least 1"))
                continue
            if item.get("variantId") is not None:
                found = re.fullmatch(r"gid://shopify/ProductVariant/([0-9]+)", item["variantId"])
                product = variants.get(int(found[1])) if found else None
                if product is None:
                    errors.append(problem([*at, "variantId"], "Product variant does not exist"))
                    continue
                title, sku, price = product.title, product.sku, product.unit_price
                variant = product.variant_id
            else:
                title, sku, variant = item.get("title"), item.get("sku"), None
                price = _amount(item.get("originalUnitPrice"))
                if not title:
                    errors.append(problem([*at, "title"], "Title can't be blank"))
                if price is None or price < 0:
                    errors.append(problem([*at, "originalUnitPrice"], "Price is invalid"))
                if not title or price is None or price < 0:
                    continue
            lines.append(LineItem(next(self.ids), title, sku, quantity, price, variant))
        return lines, errors

    def _customer(self, gid: Any) -> Customer | None:
        found = re.fullmatch(r"gid://shopify/Customer/([0-9]+)", str(gid))
        return self.customers.get(int(found[1])) if found else None


def address_problems(address: dict[str, Any], at: list[str]) -> list[dict[str, Any]]:
    """What Shopify would refuse in a MailingAddressInput."""
    errors = []
    for key, label in (("lastName", "Last name"), ("address1", "Address1"), ("city", "City")):
        if not str(address.get(key) or "").strip():
            errors.append(problem([*at, key], f"{label} can't be blank"))
    country = address.get("countryCode")
    if country not in COUNTRIES:
        errors.append(problem([*at, "countryCode"], f"Country {country!r} is not supported"))
        return errors
    if country == "US" and address.get("provinceCode") not in US_STATES:
        errors.append(problem([*at, "provinceCode"], "State is not a state of United States"))
    zip_code = str(address.get("zip") or "").strip()
    pattern = _ZIP.get(country)
    if (pattern and not pattern.fullmatch(zip_code)) or (not pattern and not zip_code):
        errors.append(problem([*at, "zip"], f"Zip is invalid for {country}"))
    return errors


def _refused(result: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {result: None, "userErrors": errors}


def _refund_lines(
    order: Order, given: list[dict[str, Any]]
) -> tuple[list[tuple[LineItem, int, str]], list[Any]]:
    lines, errors, seen = [], [], set()
    for index, item in enumerate(given):
        at = ["refundLineItems", str(index)]
        line = order.line(item.get("lineItemId"))
        if line is None or line.legacy_id in seen:
            errors.append(problem([*at, "lineItemId"], "Line item is not on the order or twice"))
            continue
        seen.add(line.legacy_id)
        quantity = item.get("quantity")
        restock = item.get("restockType") or "NO_RESTOCK"
        if not isinstance(quantity, int) or quantity < 1:
            errors.append(problem([*at, "quantity"], "Quantity must be greater than 0"))
        elif quantity > line.refundable:
            message = f"Quantity cannot refund more items than were purchased ({line.refundable})"
            errors.append(problem([*at, "quantity"], message))
        elif restock not in RESTOCK_TYPES:
            errors.append(problem([*at, "restockType"], "Restock type is invalid"))
        elif restock == "CANCEL" and quantity > line.unfulfilled:
            message = "Cannot cancel more items than are unfulfilled"
            errors.append(problem([*at, "restockType"], message))
        elif restock == "RETURN" and quantity > line.fulfilled:
            message = "Cannot return items that have not been fulfilled"
            errors.append(problem([*at, "restockType"], message))
        else:
            lines.append((line, quantity, restock))
    return lines, errors


def _shipping(order: Order, given: dict[str, Any] | None) -> tuple[Decimal, list[Any]]:
    if not given:
        return ZERO, []
    left = order.shipping_price - order.shipping_refunded
    if given.get("fullRefund"):
        return left, []
    amount = _amount(given.get("amount"))
    if amount is None or amount < 0:
        return ZERO, [problem(["shipping", "amount"], "Amount must be 0 or more")]
    if amount > left:
        message = f"Shipping refund amount is more than the {left} left to refund"
        return ZERO, [problem(["shipping", "amount"], message)]
    return amount, []


def _refund_transactions(
    order: Order, given: list[dict[str, Any]]
) -> tuple[list[tuple[Transaction, Decimal]], list[Any]]:
    parents, errors = [], []
    spent: dict[int, Decimal] = {}
    for index, item in enumerate(given):
        at = ["transactions", str(index)]
        parent = order.transaction(item.get("parentId"))
        amount = _amount(item.get("amount"))
        if item.get("orderId") not in (None, order.gid):
            errors.append(problem([*at, "orderId"], "Transaction is of another order"))
        elif item.get("kind") != "REFUND":
            errors.append(problem([*at, "kind"], "Kind must be REFUND"))
        elif parent is None or parent.status != "SUCCESS" or parent.kind not in REFUNDABLE_KINDS:
            message = "Refund exceeds the captured amount: no captured payment to refund"
            errors.append(problem([*at, "parentId"], message))
        elif item.get("gateway") != parent.gateway:
            errors.append(problem([*at, "gateway"], f"Gateway must be {parent.gateway}"))
        elif amount is None or amount <= 0:
            errors.append(problem([*at, "amount"], "Amount must be greater than 0"))
        else:
            left = order.refundable_by(parent) - spent.get(parent.legacy_id, ZERO)
            if amount > left:
                message = f"Refund amount {amount} is more than the {left} left to refund"
                errors.append(problem([*at, "amount"], message))
            else:
                spent[parent.legacy_id] = spent.get(parent.legacy_id, ZERO) + amount
                parents.append((parent, amount))
    return parents, errors


def _draft_discount(given: dict[str, Any] | None) -> tuple[Decimal, list[Any]]:
    if not given:
        return ZERO, []
    value = _amount(given.get("value"))
    if given.get("valueType") != "PERCENTAGE":
        message = "The fake takes percentage discounts on drafts only"
        return ZERO, [problem(["appliedDiscount", "valueType"], message)]
    if value is None or not 0 <= value <= 100:
        return ZERO, [problem(["appliedDiscount", "value"], "Value must be from 0 to 100")]
    return value, []


def _discount_value(
    gets: dict[str, Any], at: list[str]
) -> tuple[Decimal | None, Decimal | None, list[Any]]:
    value = gets.get("value") or {}
    where = [*at, "customerGets", "value"]
    if not gets.get("items"):
        message = "Items must be given"
        return None, None, [problem([*at, "customerGets", "items"], message, "BLANK")]
    if "percentage" in value and value["percentage"] is not None:
        percentage = _amount(value["percentage"])
        if percentage is None or not 0 < percentage <= 1:
            message = "Value must be between 0.0 and 1.0"
            return None, None, [problem([*where, "percentage"], message, "VALUE_OUTSIDE_RANGE")]
        return percentage, None, []
    amount = _amount((value.get("discountAmount") or {}).get("amount"))
    if amount is None:
        return None, None, [problem(where, "Value must be given", "BLANK")]
    if amount <= 0:
        message = "Value must be greater than 0"
        return None, None, [problem([*where, "discountAmount", "amount"], message, "GREATER_THAN")]
    return None, amount, []


def _amount(value: Any) -> Decimal | None:
    """A Money, Decimal or Float input as a Decimal; None when it is no number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
