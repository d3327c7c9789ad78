"""ShopifyActions against FakeShopify over real HTTP: each action, Shopify's refusals as field
problems, and a mutation never sent twice unless Shopify's answer proves it was not applied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.devtools.fake_shopify import BOB_ID, BOB_LINE_IDS, BOB_ORDER_ID, FakeShopify
from bot.integrations.shopify import Money, ShopifyClient, ShopifyError
from bot.integrations.shopify_actions import (
    Address,
    FieldProblem,
    ShopifyActions,
    ShopifyInDoubt,
    ShopifyUserErrors,
    shop_tag,
)
from tests.conftest import free_port

TOKEN = "shpat_test_token"
MUG_ORDER = "gid://shopify/Order/5001"
SHIPPED_ORDER = "gid://shopify/Order/5002"
HOME = Address("Bob Norman", "1 Main St", None, "Louisville", "KY", "40202", "US", None)
NEW_HOME = Address("Bob Q Norman", "9 Elm Rd", "Apt 2", "Austin", "TX", "73301", "US", "555")


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify.with_bob(token=TOKEN) as fake:
        fake.add_order(
            5001, "#5001", customer=BOB_ID, total="60.00", shipping="10.00",
            line_items=[{"id": 71, "title": "Mug", "price": "25.00", "quantity": 2,
                         "sku": "MUG-1", "variant_id": 77}],
            shipping_address={"firstName": "Bob", "lastName": "Norman", "address1": "1 Main St",
                              "city": "Louisville", "provinceCode": "KY", "zip": "40202",
                              "countryCode": "US"},
        )  # fmt: skip
        fake.add_order(
            5002, "#5002", customer=BOB_ID, total="30.00", fulfillment_status="FULFILLED",
            line_items=[{"id": 72, "title": "Teapot", "price": "30.00", "variant_id": 78}],
        )  # fmt: skip
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def actions(shop: FakeShopify, sleeps: list[float]) -> ShopifyActions:
    return ShopifyActions(ShopifyClient("", TOKEN, api_url=shop.url, sleep=sleeps.append))


MUG_LINE = "gid://shopify/LineItem/71"
TEAPOT_LINE = "gid://shopify/LineItem/72"


def refund_one_mug(actions: ShopifyActions, key: str = "hd-refund-1", quantity: int = 1):
    plan = actions.suggest_refund(MUG_ORDER, [(MUG_LINE, quantity)], False, True)
    return actions.refund(
        MUG_ORDER, [(MUG_LINE, quantity)], Decimal(0), True, plan.transactions, f"{key} x", key
    )


# -- reading ---------------------------------------------------------------------------------


def test_an_order_with_what_the_actions_need(actions: ShopifyActions) -> None:
    order = actions.order(MUG_ORDER)
    assert order is not None
    assert (order.name, order.currency, order.customer_id) == ("#5001", "USD", BOB_ID)
    assert order.customer_email == "bob.norman@hostmail.com"
    [mug] = order.line_items
    assert (mug.id, mug.title, mug.sku, mug.quantity, mug.refundable_quantity) == (
        MUG_LINE, "Mug", "MUG-1", 2, 2,
    )  # fmt: skip
    assert mug.unit_price == Money(Decimal("25.00"), "USD")
    assert order.shipping_address == HOME
    assert order.refundable == Money(Decimal("60.00"), "USD")
    assert order.shipping_refundable == Money(Decimal("10.00"), "USD")
    assert [t.kind for t in order.transactions] == ["SALE"]
    assert (order.financial_status, order.fulfillment_status) == ("PAID", "UNFULFILLED")
    assert order.cancelled_at is None and order.refunds == ()


def test_bob_s_authorized_order_has_nothing_captured_to_refund(actions: ShopifyActions) -> None:
    order = actions.order(BOB_ORDER_ID)
    assert order is not None and [line.id for line in order.line_items] == list(BOB_LINE_IDS)
    assert order.transactions == () and order.refundable.amount == 0
    plan = actions.suggest_refund(BOB_ORDER_ID, [(BOB_LINE_IDS[0], 1)], False, False)
    assert plan.amount.amount == 0 and plan.transactions == []


def test_no_such_order_is_none_and_a_malformed_id_is_no_request(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    assert actions.order("gid://shopify/Order/404") is None
    before = len(shop.calls)
    with pytest.raises(ValueError):
        actions.order("gid://shopify/Customer/1")
    with pytest.raises(ValueError):
        actions.suggest_refund(MUG_ORDER, [(MUG_LINE, 0)], False, False)
    assert len(shop.calls) == before


# -- refunds ---------------------------------------------------------------------------------


def test_a_refund_as_shopify_suggests_it_reduces_what_is_left(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    plan = actions.suggest_refund(MUG_ORDER, [(MUG_LINE, 1)], True, True)
    assert (plan.subtotal.amount, plan.shipping.amount, plan.amount.amount) == (25, 10, 35)
    refund = actions.refund(
        MUG_ORDER, [(MUG_LINE, 1)], plan.shipping.amount, True, plan.transactions,
        "Helpdesk refund hd-1", "hd-1",
    )  # fmt: skip
    assert refund.amount == Money(Decimal("35.00"), "USD") and "hd-1" in (refund.note or "")
    order = actions.order(MUG_ORDER)
    assert order is not None
    assert order.refundable.amount == 25 and order.shipping_refundable.amount == 0
    assert order.line_items[0].refundable_quantity == 1
    assert order.financial_status == "PARTIALLY_REFUNDED" and order.refunds == (refund,)
    [call] = shop.calls_to("refundCreate")
    assert "@idempotent(key: $key)" in call.query and call.variables["key"] == "hd-1"
    [sent] = call.variables["input"]["transactions"]
    assert sent["kind"] == "REFUND" and sent["parentId"] == plan.transactions[0].id
    assert call.variables["input"]["refundLineItems"][0]["restockType"] == "CANCEL"  # unfulfilled


def test_the_same_key_answers_the_first_refund_and_refunds_nothing_more(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    first = refund_one_mug(actions)
    again = refund_one_mug(actions)
    assert again == first
    assert len(shop.order(MUG_ORDER).refunds) == 1
    assert shop.order(MUG_ORDER).net_payment == Decimal("35.00")


def test_more_than_is_left_is_refused_field_by_field_and_nothing_changes(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    plan = actions.suggest_refund(MUG_ORDER, [(MUG_LINE, 2)], True, False)
    refund_one_mug(actions, "hd-first")
    with pytest.raises(ShopifyUserErrors) as refused:
        actions.refund(
            MUG_ORDER, [(MUG_LINE, 2)], Decimal("10"), False, plan.transactions, "hd-2", "hd-2"
        )
    fields = [problem.field for problem in refused.value.problems]
    assert fields == [("refundLineItems", "0", "quantity"), ("transactions", "0", "amount")]
    assert len(shop.order(MUG_ORDER).refunds) == 1


def test_refunding_an_authorized_order_is_refused_as_uncaptured(actions: ShopifyActions) -> None:
    order = actions.order(MUG_ORDER)
    assert order is not None
    with pytest.raises(ShopifyUserErrors) as refused:
        actions.refund(
            BOB_ORDER_ID, [(BOB_LINE_IDS[0], 1)], Decimal(0), False, order.transactions,
            "hd-3", "hd-3",
        )  # fmt: skip
    assert refused.value.problems[0].field[0] == "transactions"
    assert "captured" in refused.value.problems[0].message


def test_a_refund_applied_whose_answer_is_cut_is_in_doubt_and_sent_once(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    shop.cut_after_apply("refundCreate")
    with pytest.raises(ShopifyInDoubt) as doubt:
        refund_one_mug(actions, "hd-cut")
    assert doubt.value.kind == "in_doubt"
    assert len(shop.calls_to("refundCreate")) == 1  # not retried by the client
    # Reconciling: the refund is there, its note carries the key.
    order = actions.order(MUG_ORDER)
    assert order is not None and ["hd-cut" in (r.note or "") for r in order.refunds] == [True]
    # Sending it again with the same key is safe: Shopify answers the first refund.
    assert refund_one_mug(actions, "hd-cut") == order.refunds[0]
    assert len(shop.order(MUG_ORDER).refunds) == 1


def test_a_mutation_that_outlasts_the_timeout_is_in_doubt(shop: FakeShopify) -> None:
    actions = ShopifyActions(ShopifyClient("", TOKEN, api_url=shop.url, timeout=1))
    shop.delay_next(4)
    with pytest.raises(ShopifyInDoubt) as doubt:
        actions.change_address(MUG_ORDER, NEW_HOME)
    assert "no answer within 1 s" in str(doubt.value)
    assert len(shop.calls_to("orderUpdate")) == 1
    assert shop.order(MUG_ORDER).shipping_address["city"] == "Austin"  # applied all the same


def test_a_5xx_after_sending_is_in_doubt_and_not_retried(
    shop: FakeShopify, actions: ShopifyActions, sleeps: list[float]
) -> None:
    shop.fail_next(1, status=503)
    with pytest.raises(ShopifyInDoubt):
        actions.change_address(MUG_ORDER, NEW_HOME)
    assert len(shop.calls) == 1 and sleeps == []


def test_throttling_proves_nothing_was_applied_so_the_mutation_is_retried_once_applied(
    shop: FakeShopify, actions: ShopifyActions, sleeps: list[float]
) -> None:
    plan = actions.suggest_refund(MUG_ORDER, [(MUG_LINE, 1)], False, False)
    shop.throttle_next(1)
    shop.fail_next(1, status=429, retry_after=0.5)
    refund = actions.refund(
        MUG_ORDER, [(MUG_LINE, 1)], Decimal(0), False, plan.transactions, "hd-t x", "hd-t"
    )
    calls = shop.calls_to("refundCreate")
    assert [call.status for call in calls] == [429, 200, 200] and len(sleeps) == 2
    assert calls[1].response["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert [r.note for r in shop.order(MUG_ORDER).refunds] == ["hd-t x"] == [refund.note]


def test_a_shop_that_cannot_be_reached_is_no_doubt(shop: FakeShopify) -> None:
    client = ShopifyClient("", TOKEN, api_url=f"http://127.0.0.1:{free_port()}/admin/api/2026-10")
    with pytest.raises(ShopifyError) as failed:
        ShopifyActions(client).change_address(MUG_ORDER, NEW_HOME)
    assert failed.value.kind == "unavailable" and not isinstance(failed.value, ShopifyInDoubt)


def test_a_missing_scope_is_refused_before_anything_is_applied(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    shop.scopes = {"read_orders", "read_customers"}
    with pytest.raises(ShopifyError) as denied:
        actions.change_address(MUG_ORDER, NEW_HOME)
    assert denied.value.kind == "missing_scope" and "write_orders" in str(denied.value)
    assert shop.order(MUG_ORDER).shipping_address["city"] == "Louisville"


# -- cancel, address -------------------------------------------------------------------------


def test_a_cancellation_is_a_job_that_completes_later(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    job = actions.cancel(MUG_ORDER, "CUSTOMER", True, True, False, "asked by mail")
    [call] = shop.calls_to("orderCancel")
    assert call.response["data"]["orderCancel"]["job"]["done"] is False
    assert call.variables["refund"] is True and call.variables["notify"] is False
    assert actions.job_done(job)
    order = actions.order(MUG_ORDER)
    assert order is not None and order.cancelled_at is not None
    assert order.refundable.amount == 0 and order.financial_status == "REFUNDED"
    with pytest.raises(ShopifyUserErrors) as again:
        actions.cancel(MUG_ORDER, "CUSTOMER", True, True, False, "")
    assert again.value.problems == [
        FieldProblem(("orderId",), "Order has already been cancelled", "INVALID")
    ]


def test_a_fulfilled_order_can_be_neither_cancelled_nor_readdressed(
    actions: ShopifyActions,
) -> None:
    with pytest.raises(ShopifyUserErrors) as cancel:
        actions.cancel(SHIPPED_ORDER, "CUSTOMER", False, False, False, "")
    assert cancel.value.problems[0].code == "INVALID"
    with pytest.raises(ShopifyUserErrors) as move:
        actions.change_address(SHIPPED_ORDER, NEW_HOME)
    assert move.value.problems[0].field == ("shippingAddress",)
    with pytest.raises(ValueError):
        actions.cancel(SHIPPED_ORDER, "BORED", False, False, False, "")


def test_a_new_address_comes_back_as_stored_and_a_bad_one_names_its_field(
    actions: ShopifyActions,
) -> None:
    assert actions.change_address(MUG_ORDER, NEW_HOME) == NEW_HOME
    with pytest.raises(ShopifyUserErrors) as refused:
        actions.change_address(MUG_ORDER, Address("Bob", "", None, "X", "TX", "7", "US", None))
    assert [p.field for p in refused.value.problems] == [
        ("shippingAddress", "address1"),
        ("shippingAddress", "zip"),
    ]
    order = actions.order(MUG_ORDER)
    assert order is not None and order.shipping_address == NEW_HOME


# -- reship ----------------------------------------------------------------------------------


def test_a_reship_is_a_free_tagged_draft_completed_into_an_order(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    draft, order_id, name = actions.reship(MUG_ORDER, [(MUG_LINE, 1)], NEW_HOME, "hd-reship-7")
    assert order_id is not None and name == "#5003"
    replacement = actions.order(order_id)
    assert replacement is not None and replacement.shipping_address == NEW_HOME
    assert [(line.title, line.quantity) for line in replacement.line_items] == [("Mug", 1)]
    assert shop.order(order_id).total == 0 and replacement.customer_id == BOB_ID
    assert actions.draft_orders_tagged("hd-reship-7") == [(draft, order_id, name)]
    assert actions.draft_orders_tagged("hd-reship-8") == []


def test_a_reship_cut_at_completion_is_found_by_its_tag_and_finished(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    shop.cut_after_apply("draftOrderComplete")
    with pytest.raises(ShopifyInDoubt):
        actions.reship(MUG_ORDER, [(MUG_LINE, 2)], HOME, "hd-reship-9")
    [(draft, order_id, _)] = actions.draft_orders_tagged("hd-reship-9")
    assert order_id is not None  # the completion was applied before the cut
    with pytest.raises(ShopifyUserErrors):
        actions.complete_draft(draft)  # already completed: nothing doubled


def test_a_reship_of_a_line_not_on_the_order_or_without_a_tag_is_no_request(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    with pytest.raises(ValueError):
        actions.reship(MUG_ORDER, [(TEAPOT_LINE, 1)], HOME, "hd-reship-1")
    with pytest.raises(ValueError):
        actions.reship(MUG_ORDER, [(MUG_LINE, 1)], HOME, " ")
    assert shop.calls_to("draftOrderCreate") == []


def test_a_tag_longer_than_shopify_takes_is_shortened_alike_both_ways(
    shop: FakeShopify, actions: ShopifyActions
) -> None:
    key = "hd-reship-" + "0123456789abcdef" * 2  # 42 characters
    made = actions.reship(MUG_ORDER, [(MUG_LINE, 1)], HOME, key)
    assert actions.draft_orders_tagged(key) == [made]
    [draft] = shop.actions.drafts.values()
    assert draft.tags == (shop_tag(key),) and len(shop_tag(key)) == 40
    assert shop_tag(key).startswith("hd-reship-0123456789abc-")
    assert shop_tag(key + "0") != shop_tag(key) and shop_tag("short") == "short"


# -- discounts -------------------------------------------------------------------------------


def test_a_discount_code_for_one_customer_once(shop: FakeShopify, actions: ShopifyActions) -> None:
    ends = datetime.now(UTC) + timedelta(days=30)
    node = actions.create_discount("SORRY-BOB-1", Decimal("15"), None, BOB_ID, ends, "Sorry Bob")
    assert actions.discount_by_code("sorry-bob-1") == node
    assert actions.discount_by_code("NOPE") is None
    stored = shop.actions.discount("SORRY-BOB-1")
    assert stored is not None and stored.percentage == Decimal("0.15")
    assert (stored.customers, stored.usage_limit, stored.once_per_customer) == ((BOB_ID,), 1, True)
    with pytest.raises(ShopifyUserErrors) as taken:
        actions.create_discount("SORRY-BOB-1", None, Decimal("5"), BOB_ID, ends, "Again")
    assert taken.value.problems[0] == FieldProblem(
        ("basicCodeDiscount", "code"), "Code must be unique. Please try a different code.", "TAKEN"
    )
    amount = actions.create_discount("SORRY-BOB-2", None, Decimal("5"), BOB_ID, ends, "Five")
    stored = shop.actions.discount("SORRY-BOB-2")
    assert amount != node and stored is not None and stored.amount == Decimal("5")


@pytest.mark.parametrize(
    ("percentage", "amount"),
    [(None, None), (Decimal(10), Decimal(5)), (Decimal(0), None), (Decimal(101), None),
     (None, Decimal("-1"))],
)  # fmt: skip
def test_a_discount_is_a_percentage_or_an_amount_within_bounds(
    actions: ShopifyActions, percentage: Decimal | None, amount: Decimal | None
) -> None:
    with pytest.raises(ValueError):
        actions.create_discount(
            "X1", percentage, amount, BOB_ID, datetime.now(UTC) + timedelta(days=1), "X"
        )


# -- scopes ----------------------------------------------------------------------------------


def test_the_actions_the_scopes_allow(shop: FakeShopify, actions: ShopifyActions) -> None:
    assert set(actions.available_actions().values()) == {None}
    shop.scopes = {"read_customers", "read_orders", "write_discounts"}
    assert actions.available_actions() == {
        "refund": "write_orders",
        "cancel": "write_orders",
        "address": "write_orders",
        "reship": "write_draft_orders",
        "discount": None,
    }
