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

Changes to the first committed interface (for shop-core and shop-ui): :meth:`~ShopifyActions.reship`
raises (ShopifyInDoubt, ShopifyUserErrors) rather than returning None ids when the completion
fails; a draft found by its tag without an order is finished with the new
:meth:`~ShopifyActions.complete_draft`. ``create_discount``'s percentage is in percent (10 =
10 %). A reship's tag longer than :data:`MAX_TAG` (40, Shopify's limit for an order tag) is
stored shortened (its start and a hash, see :func:`shop_tag`); :meth:`draft_orders_tagged`
shortens the same way, so the same tag always finds the draft.
``refund`` accepts no transactions (a refund of items only) and checks that ``note`` contains
``key``. ``ShopifyInDoubt`` is defined in :mod:`bot.integrations.shopify` (the client raises
it) and re-exported here; it has ``.operation`` (the GraphQL operation name, e.g.
``HelpdeskRefund``) and ``.reason``. Restocked units go back as ``CANCEL`` when still
unfulfilled, else ``RETURN`` (one extra query before the refund).

    actions = ShopifyActions(client)
    order = actions.order("gid://shopify/Order/450789469")
    plan = actions.suggest_refund(order.id, [(line.id, 1)], refund_shipping=False, restock=True)
    refund = actions.refund(order.id, [(line.id, 1)], Decimal(0), True, plan.transactions,
                            note="Helpdesk refund hd-7f3a", key="hd-7f3a")
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.integrations import shopify_action_documents as docs
from bot.integrations.shopify import (
    Money,
    ShopifyClient,
    ShopifyError,
    ShopifyInDoubt,
    read_money,
    search_value,
)

__all__ = [
    "ACTIONS",
    "ACTION_SCOPES",
    "CANCEL_REASONS",
    "MAX_TAG",
    "ActionableOrder",
    "Address",
    "FieldProblem",
    "LineItem",
    "RefundRecord",
    "ShopTransaction",
    "ShopifyActions",
    "ShopifyError",
    "ShopifyInDoubt",  # defined with the client, which raises it
    "ShopifyUserErrors",
    "SuggestedRefund",
    "shop_tag",
]

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
    kind: str  # of the payment (SALE, CAPTURE); a suggested refund gives its parent's
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


class ShopifyActions:
    """The shop's write side, for the helpdesk's actions. Thread-safe like its client."""

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    # -- reading -----------------------------------------------------------------------------

    def order(self, order_gid: str) -> ActionableOrder | None:
        """The order with what the actions need (lines, address, money, refunds); or None."""
        return self.client.run_query(
            "HelpdeskActionableOrder",
            docs.ORDER,
            {"id": _gid(order_gid, "Order")},
            lambda data: _actionable(data["order"]) if data["order"] else None,
        )

    def suggest_refund(
        self,
        order_gid: str,
        lines: Sequence[tuple[str, int]],
        refund_shipping: bool,
        restock: bool,
    ) -> SuggestedRefund:
        """Shopify's own calculation (``Order.suggestedRefund``) for these (line id, quantity)."""
        order_gid = _gid(order_gid, "Order")
        refund_lines = self._refund_lines(order_gid, lines, restock)
        variables = {"id": order_gid, "lines": refund_lines, "shipping": refund_shipping}
        return self.client.run_query(
            "HelpdeskSuggestedRefund", docs.SUGGESTED_REFUND, variables, _suggested_refund
        )

    def job_done(self, job_id: str) -> bool:
        """Whether the Job has completed."""

        def read(data: dict[str, Any]) -> bool:
            if data["job"] is None:
                raise ShopifyError("bad_response", f"Shopify knows no job {job_id}.")
            return bool(data["job"]["done"])

        return self.client.run_query("HelpdeskJob", docs.JOB, {"id": _gid(job_id, "Job")}, read)

    def draft_orders_tagged(self, tag: str) -> list[tuple[str, str | None, str | None]]:
        """(draft GID, order GID or None, order name or None) of each draft with ``tag``."""
        tag = shop_tag(tag)
        return self.client.run_query(
            "HelpdeskDraftsTagged",
            docs.DRAFTS_TAGGED,
            {"query": f"tag:{search_value(tag)}"},
            # Shopify's search may match more loosely than the tag: keep exact ones only.
            lambda data: [
                _draft(node) for node in data["draftOrders"]["nodes"] if tag in node["tags"]
            ],
        )

    def discount_by_code(self, code: str) -> str | None:
        """The discount node GID of ``code`` (``codeDiscountNodeByCode``); or None."""
        return self.client.run_query(
            "HelpdeskDiscountByCode",
            docs.DISCOUNT_BY_CODE,
            {"code": _code(code)},
            lambda data: (data["codeDiscountNodeByCode"] or {}).get("id"),
        )

    def available_actions(self) -> dict[str, str | None]:
        """Each of :data:`ACTIONS` → None when the token may do it, else the missing scope."""
        granted = self.client.access_scopes()
        return {
            action: None if scope in granted else scope for action, scope in ACTION_SCOPES.items()
        }

    # -- changing ----------------------------------------------------------------------------

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
        """``refundCreate`` with ``@idempotent(key: $key)``; ``note`` must contain ``key``.

        ``transactions`` are the parents to refund against, as :meth:`suggest_refund` gives
        them (with the amounts to refund from each).
        """
        if not key.strip() or key not in note:
            raise ValueError("a refund needs a key, and its note must contain it")
        if shipping_amount < 0:
            raise ValueError("a refund's shipping amount is 0 or more")
        order_gid = _gid(order_gid, "Order")
        refund: dict[str, Any] = {
            "orderId": order_gid,
            "note": note,
            "refundLineItems": self._refund_lines(order_gid, lines, restock),
            "transactions": [
                {
                    "orderId": order_gid,
                    "parentId": transaction.id,
                    "gateway": transaction.gateway,
                    "kind": "REFUND",
                    "amount": _decimal_text(transaction.amount.amount),
                }
                for transaction in transactions
            ],
        }
        if shipping_amount:
            refund["shipping"] = {"amount": _decimal_text(shipping_amount)}
        return self.client.run_mutation(
            "HelpdeskRefund",
            docs.REFUND,
            {"input": refund, "key": key},
            lambda data: _refund(_payload(data, "refundCreate", "refund")),
        )

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

        ``reason``: one of :data:`CANCEL_REASONS`. ``refund`` refunds to the original payment
        methods (``refundMethod``; the older ``refund`` argument is deprecated).
        """
        if reason not in CANCEL_REASONS:
            raise ValueError(f"not a cancel reason: {reason!r}")
        variables = {
            "orderId": _gid(order_gid, "Order"),
            "reason": reason,
            "refund": refund,
            "restock": restock,
            "notify": notify_customer,
            "note": staff_note or None,
        }
        return self.client.run_mutation(
            "HelpdeskCancel",
            docs.CANCEL,
            variables,
            lambda data: _payload(data, "orderCancel", "job", "orderCancelUserErrors")["id"],
        )

    def change_address(self, order_gid: str, address: Address) -> Address:
        """``orderUpdate`` of the shipping address; returns it as Shopify stored it."""
        update = {"id": _gid(order_gid, "Order"), "shippingAddress": _address_input(address)}
        return self.client.run_mutation(
            "HelpdeskChangeAddress",
            docs.CHANGE_ADDRESS,
            {"input": update},
            lambda data: _address(_payload(data, "orderUpdate", "order")["shippingAddress"]),
        )

    def reship(
        self,
        order_gid: str,
        lines: Sequence[tuple[str, int]],
        address: Address,
        tag: str,
    ) -> tuple[str, str | None, str | None]:
        """A free replacement: draft order of these lines at 100% off, tagged, then completed.

        ``tag`` (as :func:`shop_tag` fits it to Shopify's length) marks the draft for
        reconciliation. Returns (draft order GID, order GID, order name). Two mutations: when
        the first is in doubt, :meth:`draft_orders_tagged` finds the draft; when the second
        fails or is in doubt the draft exists uncompleted, and :meth:`complete_draft`
        finishes it.
        """
        tag = shop_tag(tag)
        wanted = _quantities(lines)
        source = self.client.run_query(
            "HelpdeskReshipSource",
            docs.RESHIP_SOURCE,
            {"id": _gid(order_gid, "Order")},
            lambda data: data["order"],
        )
        if source is None:
            raise ShopifyError("bad_response", f"Shopify knows no order {order_gid}.")
        items = {node["id"]: node for node in source["lineItems"]["nodes"]}
        if unknown := set(wanted) - set(items):
            raise ValueError(f"not line items of {source['name']}: {sorted(unknown)}")
        draft = {
            "lineItems": [_draft_line(items[line], quantity) for line, quantity in wanted.items()],
            "appliedDiscount": {
                "valueType": "PERCENTAGE",
                "value": 100.0,
                "title": "Replacement",
                "description": f"Replacement for {source['name']}",
            },
            "shippingAddress": _address_input(address),
            "tags": [tag],
            "note": f"Replacement for {source['name']}",
            "customerId": (source.get("customer") or {}).get("id"),
            "email": source.get("email"),
        }
        draft_id = self.client.run_mutation(
            "HelpdeskReshipDraft",
            docs.RESHIP_DRAFT,
            {"input": draft},
            lambda data: _payload(data, "draftOrderCreate", "draftOrder")["id"],
        )
        return self.complete_draft(draft_id)

    def complete_draft(self, draft_id: str) -> tuple[str, str | None, str | None]:
        """``draftOrderComplete`` of a (replacement) draft; (draft GID, order GID, order name)."""
        return self.client.run_mutation(
            "HelpdeskCompleteDraft",
            docs.COMPLETE_DRAFT,
            {"id": _gid(draft_id, "DraftOrder")},
            lambda data: _draft(_payload(data, "draftOrderComplete", "draftOrder")),
        )

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

        Exactly one of ``percentage`` (in percent: 0 < p <= 100) and ``amount`` (> 0, in the
        shop's currency). ``ends_at`` must be aware.
        """
        if (percentage is None) == (amount is None):
            raise ValueError("a discount is a percentage or an amount, not both or neither")
        if percentage is not None and not 0 < percentage <= 100:
            raise ValueError("a percentage is more than 0 and at most 100")
        if amount is not None and not amount > 0:
            raise ValueError("an amount is more than 0")
        if ends_at.tzinfo is None:
            raise ValueError("ends_at needs a time zone")
        value: dict[str, Any] = (
            {"percentage": float(percentage / 100)}
            if percentage is not None
            else {"discountAmount": {"amount": _decimal_text(amount), "appliesOnEachItem": False}}
        )
        discount = {
            "title": title,
            "code": _code(code),
            "startsAt": _iso(datetime.now(UTC)),
            "endsAt": _iso(ends_at),
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
            "context": {"customers": {"add": [_gid(customer_id, "Customer")]}},
            "customerGets": {"value": value, "items": {"all": True}},
        }
        return self.client.run_mutation(
            "HelpdeskDiscount",
            docs.DISCOUNT,
            {"discount": discount},
            lambda data: _payload(data, "discountCodeBasicCreate", "codeDiscountNode")["id"],
        )

    # -- helpers -----------------------------------------------------------------------------

    def _refund_lines(
        self, order_gid: str, lines: Sequence[tuple[str, int]], restock: bool
    ) -> list[dict[str, Any]]:
        """RefundLineItemInput for each line: restocked units of a line not yet fulfilled are
        cancelled (CANCEL), of a fulfilled one returned (RETURN), as Shopify asks."""
        wanted = _quantities(lines, allow_empty=True)
        unfulfilled: dict[str, int] = {}
        if restock and wanted:
            unfulfilled = self.client.run_query(
                "HelpdeskLineFulfilment",
                docs.LINE_FULFILMENT,
                {"id": order_gid},
                lambda data: {
                    node["id"]: int(node["unfulfilledQuantity"])
                    for node in (data["order"] or {"lineItems": {"nodes": []}})["lineItems"][
                        "nodes"
                    ]
                },
            )
        return [
            {
                "lineItemId": line,
                "quantity": quantity,
                "restockType": (
                    "NO_RESTOCK"
                    if not restock
                    else "CANCEL"
                    if unfulfilled.get(line, 0) >= quantity
                    else "RETURN"
                ),
            }
            for line, quantity in wanted.items()
        ]


MAX_TAG = 40  # Shopify's limit on an order's (and a draft order's) tag
_TAG_HASH = 16  # hex digits of the hash that ends a shortened tag


def shop_tag(tag: str) -> str:
    """``tag`` as stored in Shopify: itself when it fits :data:`MAX_TAG`, else its start, a
    dash and a hash of the whole, 40 characters that stay the same for the same tag."""
    tag = tag.strip()
    if not tag or "," in tag:
        raise ValueError(f"not a tag: {tag!r} (Shopify reads a comma as two tags)")
    if len(tag) <= MAX_TAG:
        return tag
    digest = hashlib.sha256(tag.encode()).hexdigest()[:_TAG_HASH]
    return f"{tag[: MAX_TAG - _TAG_HASH - 1]}-{digest}"


CANCEL_REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})

_GID = re.compile(r"gid://shopify/([A-Za-z]+)/[0-9]+")
_MAX_CODE = 255  # Shopify's limit on a discount code's length


def _gid(value: str, kind: str) -> str:
    found = _GID.fullmatch(value or "")
    if found is None or found[1] != kind:
        raise ValueError(f"not a Shopify {kind} id: {value!r}")
    return value


def _code(code: str) -> str:
    code = code.strip()
    if not code or len(code) > _MAX_CODE:
        raise ValueError(f"a discount code has 1 to {_MAX_CODE} characters")
    return code


def _quantities(lines: Sequence[tuple[str, int]], allow_empty: bool = False) -> dict[str, int]:
    """{line GID: quantity}; ValueError for a repeated line or a quantity below 1."""
    wanted: dict[str, int] = {}
    for line, quantity in lines:
        _gid(line, "LineItem")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"a quantity is a whole number above 0, not {quantity!r}")
        if line in wanted:
            raise ValueError(f"line {line} is given twice")
        wanted[line] = quantity
    if not wanted and not allow_empty:
        raise ValueError("at least one line item is needed")
    return wanted


def _payload(
    data: dict[str, Any], field: str, result: str, errors: str = "userErrors"
) -> dict[str, Any]:
    """The mutation's ``result`` object; ShopifyUserErrors if Shopify refused it."""
    payload = data[field]
    if problems := payload.get(errors):
        raise ShopifyUserErrors(field, [_problem(problem) for problem in problems])
    if not isinstance(payload.get(result), dict):
        # No refusal and no result: the answer does not say what happened (run_mutation
        # turns this into ShopifyInDoubt).
        raise KeyError(f"{field}.{result}")
    return payload[result]


def _problem(node: dict[str, Any]) -> FieldProblem:
    return FieldProblem(tuple(node.get("field") or ()), str(node["message"]), node.get("code"))


def _shop_money(node: dict[str, Any]) -> Money:
    return read_money(node["shopMoney"])


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _decimal_text(amount: Decimal | None) -> str:
    if amount is None or not amount.is_finite():
        raise ValueError(f"not an amount: {amount!r}")
    return f"{amount:f}"


def _address(node: dict[str, Any] | None) -> Address | None:
    if node is None:
        return None
    names = (node.get("firstName"), node.get("lastName"))
    return Address(
        name=node.get("name") or " ".join(filter(None, names)) or None,
        address1=node.get("address1"),
        address2=node.get("address2"),
        city=node.get("city"),
        province_code=node.get("provinceCode"),
        zip=node.get("zip"),
        country_code=node.get("countryCodeV2"),
        phone=node.get("phone"),
    )


def _address_input(address: Address) -> dict[str, Any]:
    """MailingAddressInput: Shopify takes a first and a last name, not a whole one."""
    first, _, last = (address.name or "").strip().rpartition(" ")
    return {
        "firstName": first or None,
        "lastName": last or None,
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "provinceCode": address.province_code,
        "zip": address.zip,
        "countryCode": address.country_code,
        "phone": address.phone,
    }


def _refund(node: dict[str, Any]) -> RefundRecord:
    return RefundRecord(
        id=node["id"],
        created_at=_when(node["createdAt"]),
        amount=_shop_money(node["totalRefundedSet"]),
        note=node.get("note"),
    )


def _draft(node: dict[str, Any]) -> tuple[str, str | None, str | None]:
    order = node.get("order") or {}
    return node["id"], order.get("id"), order.get("name")


def _draft_line(item: dict[str, Any], quantity: int) -> dict[str, Any]:
    """The same product again, or (for a custom item without variant) its title and price."""
    variant = item.get("variant")
    if variant:
        return {"variantId": variant["id"], "quantity": quantity}
    return {
        "title": item["title"],
        "sku": item.get("sku"),
        "originalUnitPrice": item["originalUnitPriceSet"]["shopMoney"]["amount"],
        "quantity": quantity,
    }


def _actionable(node: dict[str, Any]) -> ActionableOrder:
    customer = node.get("customer") or {}
    shipping = _shop_money(node["totalShippingPriceSet"])
    refunded_shipping = _shop_money(node["totalRefundedShippingSet"])
    cancelled_at = node.get("cancelledAt")
    return ActionableOrder(
        id=node["id"],
        name=node["name"],
        currency=node["currencyCode"],
        customer_id=customer.get("id"),
        customer_email=(customer.get("defaultEmailAddress") or {}).get("emailAddress"),
        line_items=tuple(
            LineItem(
                id=item["id"],
                title=item["title"],
                sku=item.get("sku"),
                quantity=int(item["quantity"]),
                refundable_quantity=int(item["refundableQuantity"]),
                unit_price=_shop_money(item["originalUnitPriceSet"]),
            )
            for item in node["lineItems"]["nodes"]
        ),
        shipping_address=_address(node.get("shippingAddress")),
        shipping_refundable=Money(
            max(Decimal(0), shipping.amount - refunded_shipping.amount), shipping.currency
        ),
        refundable=_shop_money(node["netPaymentSet"]),
        financial_status=node.get("displayFinancialStatus"),
        fulfillment_status=node["displayFulfillmentStatus"],
        cancelled_at=_when(cancelled_at) if cancelled_at else None,
        transactions=tuple(
            ShopTransaction(t["id"], t.get("gateway") or "", t["kind"], _shop_money(t["amountSet"]))
            for t in node["transactions"]
            if t["status"] == "SUCCESS" and t["kind"] in ("SALE", "CAPTURE")
        ),
        refunds=tuple(_refund(refund) for refund in node["refunds"]),
    )


def _suggested_refund(data: dict[str, Any]) -> SuggestedRefund:
    if data["order"] is None:
        raise ShopifyError("bad_response", "Shopify knows no such order.")
    node = data["order"]["suggestedRefund"]
    return SuggestedRefund(
        amount=_shop_money(node["amountSet"]),
        shipping=_shop_money(node["shipping"]["amountSet"]),
        subtotal=_shop_money(node["subtotalSet"]),
        tax=_shop_money(node["totalTaxSet"]),
        transactions=[
            ShopTransaction(
                id=suggested["parentTransaction"]["id"],
                gateway=suggested.get("gateway") or suggested["parentTransaction"]["gateway"],
                kind=suggested["parentTransaction"]["kind"],
                amount=_shop_money(suggested["amountSet"]),
            )
            for suggested in node["suggestedTransactions"]
            if suggested.get("parentTransaction")
        ],
    )
