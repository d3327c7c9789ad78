"""The fake Shopify's own rules, over raw HTTP: documents it reads, validation of each mutation
as Shopify does it, idempotency keys, jobs, scopes and the faults it can be told to make."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import pytest

from bot.devtools.fake_shopify import BOB_ID, BOB_ORDER_ID, FakeShopify
from tests.integrations.test_shopify_client import post_raw

TOKEN = "shpat_fake"
ORDER = "gid://shopify/Order/7001"
SHIPPED = "gid://shopify/Order/7002"
LINE = "gid://shopify/LineItem/81"
ADDRESS = {
    "firstName": "Bob", "lastName": "Norman", "address1": "1 Main St", "city": "Louisville",
    "provinceCode": "KY", "zip": "40202", "countryCode": "US",
}  # fmt: skip

REFUND = """
mutation R($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id note totalRefundedSet { shopMoney { amount } } }
    userErrors { field message }
  }
}
"""
REFUND_WITHOUT_KEY = """
mutation R($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } userErrors { field message } }
}
"""
CANCEL = """
mutation C($id: ID!) {
  orderCancel(orderId: $id, reason: CUSTOMER, restock: true, refund: true) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""
JOB = "query J($id: ID!) { job(id: $id) { done } }"
UPDATE = """
mutation U($input: OrderInput!) {
  orderUpdate(input: $input) { order { shippingAddress { zip } } userErrors { field message } }
}
"""
ORDER_QUERY = """
query O($id: ID!) {
  order(id: $id) {
    cancelledAt
    netPaymentSet { shopMoney { amount } }
    lineItems(first: 5) { nodes { refundableQuantity } }
  }
}
"""
DRAFT = """
mutation D($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) { draftOrder { id tags } userErrors { field message } }
}
"""
DISCOUNT = """
mutation X($d: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $d) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify.with_bob(token=TOKEN) as fake:
        fake.add_order(
            7001, "#7001", customer=BOB_ID, total="50.00",
            line_items=[{"id": 81, "title": "Mug", "price": "25.00", "quantity": 2,
                         "variant_id": 9}],
            shipping_address=ADDRESS,
        )  # fmt: skip
        fake.add_order(7002, "#7002", customer=BOB_ID, total="9.00", fulfillment_status="FULFILLED")
        yield fake


def post(shop: FakeShopify, query: str, variables: dict[str, Any] | None = None, version=None):
    return post_raw(shop, query, variables or {}, version)


def sale(shop: FakeShopify) -> str:
    return shop.order(ORDER).transactions[0].gid


def refund_input(shop: FakeShopify, quantity: int = 1, amount: str = "25.00") -> dict[str, Any]:
    return {
        "orderId": ORDER,
        "note": "hd-1",
        "refundLineItems": [{"lineItemId": LINE, "quantity": quantity, "restockType": "CANCEL"}],
        "transactions": [
            {"orderId": ORDER, "parentId": sale(shop), "gateway": "shopify_payments",
             "kind": "REFUND", "amount": amount}
        ],
    }  # fmt: skip


def user_errors(answer: dict[str, Any], root: str, key: str = "userErrors") -> list[Any]:
    return [(tuple(e["field"]), e.get("code")) for e in answer["data"][root][key]]


# -- documents -------------------------------------------------------------------------------


def test_it_answers_exactly_the_fields_selected_under_their_aliases(shop: FakeShopify) -> None:
    query = "query Q($id: ID!) { theOrder: order(id: $id) { name total: totalPriceSet { shopMoney { amount } } } }"  # noqa: E501
    status, answer = post(shop, query, {"id": ORDER})
    assert status == 200
    assert answer["data"] == {
        "theOrder": {"name": "#7001", "total": {"shopMoney": {"amount": "50.00"}}}
    }


@pytest.mark.parametrize(
    "query",
    [
        'query { orders(first: 1, query: "name:#7001") { nodes { id } } }',
        "query Q($id: ID!) { order(id: $id) { nosuchfield } }",
        "query { shop { name } }",
        "query { order(id: ",
    ],
)
def test_it_refuses_what_it_cannot_or_will_not_answer(shop: FakeShopify, query: str) -> None:
    status, answer = post(shop, query, {"id": ORDER})
    assert status == 400 and answer["errors"][0]["message"]


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_reduces_what_is_left_and_cannot_be_repeated_past_it(shop: FakeShopify) -> None:
    status, answer = post(shop, REFUND, {"input": refund_input(shop, 2, "50.00"), "key": "k1"})
    assert status == 200 and answer["data"]["refundCreate"]["userErrors"] == []
    _, order = post(shop, ORDER_QUERY, {"id": ORDER})
    assert order["data"]["order"]["netPaymentSet"]["shopMoney"]["amount"] == "0.00"
    assert order["data"]["order"]["lineItems"]["nodes"] == [{"refundableQuantity": 0}]
    _, again = post(shop, REFUND, {"input": refund_input(shop, 1, "1.00"), "key": "k2"})
    assert user_errors(again, "refundCreate") == [
        (("refundLineItems", "0", "quantity"), None),
        (("transactions", "0", "amount"), None),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"refundLineItems": [{"lineItemId": LINE, "quantity": 0}]},
         ("refundLineItems", "0", "quantity")),
        ({"refundLineItems": [{"lineItemId": "gid://shopify/LineItem/1", "quantity": 1}]},
         ("refundLineItems", "0", "lineItemId")),
        ({"refundLineItems": [{"lineItemId": LINE, "quantity": 1, "restockType": "RETURN"}]},
         ("refundLineItems", "0", "restockType")),  # nothing of it was fulfilled
        ({"shipping": {"amount": "1.00"}}, ("shipping", "amount")),  # no shipping was charged
        ({"currency": "EUR"}, ("currency",)),
        ({"orderId": "gid://shopify/Order/1"}, ("orderId",)),
    ],
)  # fmt: skip
def test_a_refund_shopify_would_refuse_names_the_field(shop: FakeShopify, change, field) -> None:
    _, answer = post(shop, REFUND, {"input": {**refund_input(shop), **change}, "key": "k"})
    assert field in [problem for problem, _ in user_errors(answer, "refundCreate")]
    assert shop.order(ORDER).refunds == []


def test_a_refund_against_another_transaction_kind_or_amount_names_it(shop: FakeShopify) -> None:
    given = refund_input(shop, 1, "30.00")
    given["transactions"].append({**given["transactions"][0], "kind": "SALE"})
    _, answer = post(shop, REFUND, {"input": given, "key": "k"})
    assert [problem for problem, _ in user_errors(answer, "refundCreate")] == [
        ("transactions", "1", "kind")
    ]  # 30.00 of 50.00 is fine on its own
    _, answer = post(shop, REFUND, {"input": refund_input(shop, 1, "-1"), "key": "k2"})
    assert user_errors(answer, "refundCreate") == [(("transactions", "0", "amount"), None)]


def test_an_idempotency_key_answers_the_first_refund_again(shop: FakeShopify) -> None:
    first = post(shop, REFUND, {"input": refund_input(shop), "key": "same"})
    second = post(shop, REFUND, {"input": refund_input(shop), "key": "same"})
    assert first == second and len(shop.order(ORDER).refunds) == 1
    other = dict(refund_input(shop), note="something else")
    status, answer = post(shop, REFUND, {"input": other, "key": "same"})
    assert status == 400 and "idempotency key" in answer["errors"][0]["message"]
    assert len(shop.order(ORDER).refunds) == 1


@pytest.mark.parametrize(("version", "required"), [("2026-01", False), ("2026-04", True)])
def test_the_idempotent_directive_is_mandatory_for_refunds_from_2026_04(
    shop: FakeShopify, version: str, required: bool
) -> None:
    status, answer = post(shop, REFUND_WITHOUT_KEY, {"input": refund_input(shop)}, version)
    assert status == 200
    assert bool(answer.get("errors")) is required
    assert len(shop.order(ORDER).refunds) == (0 if required else 1)


def test_the_idempotent_directive_is_refused_where_shopify_does_not_take_it(
    shop: FakeShopify,
) -> None:
    query = UPDATE.replace(
        "orderUpdate(input: $input)", "orderUpdate(input: $input) @idempotent(key: $k)"
    ).replace("($input: OrderInput!)", "($input: OrderInput!, $k: String!)")
    _, answer = post(shop, query, {"input": {"id": ORDER}, "k": "x"})
    assert "does not support @idempotent" in answer["errors"][0]["message"]
    _, answer = post(shop, REFUND, {"input": refund_input(shop), "key": "  "})
    assert "cannot be empty" in answer["errors"][0]["message"]


# -- cancel and address ----------------------------------------------------------------------


def test_a_cancellation_job_is_done_at_the_next_request_and_refunds(shop: FakeShopify) -> None:
    _, answer = post(shop, CANCEL, {"id": ORDER})
    job = answer["data"]["orderCancel"]["job"]
    assert job["done"] is False and shop.order(ORDER).cancelled_at is None
    _, done = post(shop, JOB, {"id": job["id"]})
    assert done["data"]["job"] == {"done": True}
    order = shop.order(ORDER)
    assert order.cancelled_at is not None and order.net_payment == 0
    _, again = post(shop, CANCEL, {"id": ORDER})
    assert user_errors(again, "orderCancel", "orderCancelUserErrors") == [(("orderId",), "INVALID")]
    _, refund = post(shop, REFUND, {"input": refund_input(shop), "key": "after-cancel"})
    assert ("transactions", "0", "amount") in [p for p, _ in user_errors(refund, "refundCreate")]


def test_a_fulfilled_order_can_be_neither_cancelled_nor_readdressed(shop: FakeShopify) -> None:
    _, cancel = post(shop, CANCEL, {"id": SHIPPED})
    assert user_errors(cancel, "orderCancel", "orderCancelUserErrors") == [
        (("orderId",), "INVALID")
    ]
    _, update = post(shop, UPDATE, {"input": {"id": SHIPPED, "shippingAddress": ADDRESS}})
    assert user_errors(update, "orderUpdate") == [(("shippingAddress",), None)]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"zip": "4020"}, "zip"), ({"provinceCode": "ZZ"}, "provinceCode"),
     ({"countryCode": "XX"}, "countryCode"), ({"city": " "}, "city"),
     ({"lastName": None}, "lastName")],
)  # fmt: skip
def test_an_invalid_address_names_its_field(shop: FakeShopify, change, field) -> None:
    address = {**ADDRESS, **change}
    _, answer = post(shop, UPDATE, {"input": {"id": ORDER, "shippingAddress": address}})
    assert user_errors(answer, "orderUpdate") == [(("shippingAddress", field), None)]
    assert shop.order(ORDER).shipping_address["zip"] == "40202"


# -- drafts and discounts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "field"),
    [({"lineItems": []}, ("lineItems",)),
     ({"lineItems": [{"variantId": "gid://shopify/ProductVariant/404", "quantity": 1}]},
      ("lineItems", "0", "variantId")),
     ({"lineItems": [{"title": "Gift", "quantity": 1}]}, ("lineItems", "0", "originalUnitPrice")),
     ({"lineItems": [{"variantId": "gid://shopify/ProductVariant/9", "quantity": 1}],
       "tags": ["t" * 41]}, ("tags",)),
     ({"lineItems": [{"variantId": "gid://shopify/ProductVariant/9", "quantity": 1}],
       "customerId": "gid://shopify/Customer/404"}, ("customerId",))],
)  # fmt: skip
def test_a_draft_shopify_would_refuse_names_the_field(shop: FakeShopify, given, field) -> None:
    _, answer = post(shop, DRAFT, {"input": given})
    assert [problem for problem, _ in user_errors(answer, "draftOrderCreate")] == [field]
    assert shop.actions.drafts == {}


def test_a_discount_code_is_unique_and_its_value_bounded(shop: FakeShopify) -> None:
    discount = {
        "title": "Sorry", "code": "SORRY", "customerGets": {"value": {"percentage": 0.1},
        "items": {"all": True}}, "context": {"customers": {"add": [BOB_ID]}},
    }  # fmt: skip
    _, made = post(shop, DISCOUNT, {"d": discount})
    assert made["data"]["discountCodeBasicCreate"]["userErrors"] == []
    _, taken = post(shop, DISCOUNT, {"d": {**discount, "code": "sorry"}})
    assert user_errors(taken, "discountCodeBasicCreate") == [
        (("basicCodeDiscount", "code"), "TAKEN")
    ]
    too_much = {**discount, "code": "MORE", "customerGets": {"value": {"percentage": 1.5},
                "items": {"all": True}}}  # fmt: skip
    _, refused = post(shop, DISCOUNT, {"d": too_much})
    assert user_errors(refused, "discountCodeBasicCreate") == [
        (("basicCodeDiscount", "customerGets", "value", "percentage"), "VALUE_OUTSIDE_RANGE")
    ]
    stranger = {
        **discount,
        "code": "OTHER",
        "context": {"customers": {"add": ["gid://shopify/Customer/9"]}},
    }
    _, refused = post(shop, DISCOUNT, {"d": stranger})
    assert user_errors(refused, "discountCodeBasicCreate") == [
        (("basicCodeDiscount", "context", "customers", "add"), "INVALID")
    ]


# -- scopes and faults -----------------------------------------------------------------------


def test_a_mutation_without_its_write_scope_is_denied_and_not_applied(shop: FakeShopify) -> None:
    shop.scopes = {"read_orders", "read_customers"}
    _, answer = post(
        shop, UPDATE, {"input": {"id": ORDER, "shippingAddress": {**ADDRESS, "zip": "40203"}}}
    )
    assert answer["errors"][0]["extensions"]["code"] == "ACCESS_DENIED"
    assert "write_orders" in answer["errors"][0]["message"]
    shop.scopes = {"write_orders"}  # a write scope brings its read scope
    status, answer = post(shop, ORDER_QUERY, {"id": ORDER})
    assert status == 200 and "errors" not in answer


def test_cut_after_apply_applies_and_closes_without_an_answer(shop: FakeShopify) -> None:
    shop.cut_after_apply("orderUpdate")
    moved = {"input": {"id": ORDER, "shippingAddress": {**ADDRESS, "zip": "40299"}}}
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post(shop, UPDATE, moved)
    assert shop.order(ORDER).shipping_address["zip"] == "40299"
    assert post(shop, UPDATE, moved)[0] == 200  # only the next one
    with pytest.raises(ValueError):
        shop.cut_after_apply("customers")


def test_delay_next_answers_late_but_applies(shop: FakeShopify) -> None:
    shop.delay_next(0.2)
    status, answer = post(shop, REFUND, {"input": refund_input(shop), "key": "late"})
    assert status == 200 and answer["data"]["refundCreate"]["refund"]["note"] == "hd-1"


def test_bob_s_order_has_line_items_and_only_an_authorization(shop: FakeShopify) -> None:
    order = shop.order(BOB_ORDER_ID)
    assert [line.sku for line in order.line_items] == ["IPOD2008GREEN", "IPOD2008RED"]
    assert [t.kind for t in order.transactions] == ["AUTHORIZATION"] and order.net_payment == 0
