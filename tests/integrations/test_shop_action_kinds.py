"""Each kind of shop action as the outbox sends it and, after an answer lost, finds it
again in the shop (bot/deliverers/shop_actions.py's table), against the fake Shopify over
HTTP: what the forms record as `params` is what these take."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.core.shop_actions import ActionKind
from bot.deliverers.shop_actions import KINDS, Pending
from bot.devtools.fake_shopify import FakeShopify
from bot.integrations.shopify import ShopifyClient, ShopifyInDoubt
from bot.integrations.shopify_actions import ShopifyActions

TOKEN = "shpat_kinds"
ORDER = "gid://shopify/Order/8880001"
MUG = "gid://shopify/LineItem/9990001"
NEW_ADDRESS = {
    "name": "Bob Norman", "address1": "2 New Street", "address2": None, "city": "Ottawa",
    "province_code": "ON", "zip": "K1P 1J1", "country_code": "CA", "phone": None,
}  # fmt: skip


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        bob = fake.seed_bob()
        fake.add_order(
            8880001, "#3001", customer=bob, total="60.00", shipping="10.00",
            line_items=[{"id": 9990001, "title": "Mug", "price": "25.00", "quantity": 2}],
            shipping_address={"firstName": "Bob", "lastName": "Norman", "address1": "1 Old Road",
                              "city": "Ottawa", "zip": "K1A 0A1", "countryCode": "CA"},
        )  # fmt: skip
        yield fake


@pytest.fixture
def actions(shop) -> ShopifyActions:
    return ShopifyActions(ShopifyClient("acme", TOKEN, api_url=shop.url, timeout=5))


def pending(kind: ActionKind, params: dict, amount: str | None = None) -> Pending:
    key = f"hd-{kind.value}-0123456789abcdef"
    return Pending(1, kind, ORDER, params, key, Decimal(amount) if amount else None)


def test_a_refund_is_found_by_its_key_only_once_made(actions, shop):
    refund = pending(ActionKind.REFUND, {"lines": [[MUG, 1]], "shipping": True}, "35.00")
    assert KINDS[ActionKind.REFUND].find(actions, refund) is None
    made = KINDS[ActionKind.REFUND].send(actions, refund)
    assert made["amount"] == "35.00" and made["currency"] == "USD"
    assert KINDS[ActionKind.REFUND].find(actions, refund) == made
    [stored] = shop.order(ORDER).refunds
    assert refund.key in stored.note


def test_a_refund_shopify_now_calculates_higher_is_not_sent(actions, shop):
    refund = pending(ActionKind.REFUND, {"lines": [[MUG, 2]], "shipping": True}, "20.00")
    with pytest.raises(ValueError, match="calculate the refund again"):
        KINDS[ActionKind.REFUND].send(actions, refund)
    assert shop.calls_to("refundCreate") == []


def test_a_cancellation_is_found_by_the_orders_cancelled_at(actions):
    cancel = pending(
        ActionKind.CANCEL,
        {"reason": "CUSTOMER", "refund": True, "restock": True, "notify_customer": False,
         "staff_note": "asked by mail"},
    )  # fmt: skip
    assert KINDS[ActionKind.CANCEL].find(actions, cancel) is None
    assert KINDS[ActionKind.CANCEL].send(actions, cancel)["job_id"]
    assert KINDS[ActionKind.CANCEL].find(actions, cancel)["cancelled_at"]


def test_a_new_address_is_found_on_the_order(actions):
    change = pending(ActionKind.ADDRESS, {"address": NEW_ADDRESS})
    assert KINDS[ActionKind.ADDRESS].find(actions, change) is None
    assert KINDS[ActionKind.ADDRESS].send(actions, change)["address"]["address1"] == "2 New Street"
    assert KINDS[ActionKind.ADDRESS].find(actions, change)["address"]["zip"] == "K1P 1J1"


def test_a_reship_whose_draft_was_made_but_not_answered_is_completed_once(actions, shop):
    reship = pending(ActionKind.RESHIP, {"lines": [[MUG, 1]], "address": NEW_ADDRESS})
    shop.cut_after_apply("draftOrderCreate")
    with pytest.raises(ShopifyInDoubt):
        KINDS[ActionKind.RESHIP].send(actions, reship)
    found = KINDS[ActionKind.RESHIP].find(actions, reship)
    assert found["order_id"] and found["draft_order_id"]
    assert KINDS[ActionKind.RESHIP].find(actions, reship) == found
    assert len(shop.calls_to("draftOrderCreate")) == 1


def test_a_discount_is_found_by_its_code(actions):
    discount = pending(
        ActionKind.DISCOUNT,
        {"code": "SORRY-7KQ2M", "percentage": "10", "amount": None, "currency": "USD",
         "customer_id": "gid://shopify/Customer/207119551",
         "ends_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(), "title": "Sorry"},
    )  # fmt: skip
    assert KINDS[ActionKind.DISCOUNT].find(actions, discount) is None
    made = KINDS[ActionKind.DISCOUNT].send(actions, discount)
    assert KINDS[ActionKind.DISCOUNT].find(actions, discount) == made
