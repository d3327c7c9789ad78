"""The Shopify cache: answers reused for `cache_for`, failures never kept, kept as plain JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.integrations.shopify import Customer, Money, Order, ShopifyError, Tracking
from bot.integrations.shopify_cache import CachedShopify, decode, encode
from bot.storage.shared_state import MemoryState
from tests.unit.test_shared_state import Clock


class CountingClient:
    def __init__(self):
        self.asked: list[str] = []
        self.failing = False

    def customer_by_email(self, email: str):
        self.asked.append(email)
        if self.failing:
            raise ShopifyError("unavailable", "Shopify is unreachable.")
        return None if email.startswith("nobody") else {"email": email}

    def order_by_name(self, name: str):
        self.asked.append(name)
        return {"name": name}


def test_answers_are_reused_until_they_are_too_old():
    client, clock = CountingClient(), Clock()
    cache = CachedShopify(client, timedelta(minutes=5), MemoryState(clock))
    assert cache.customer_by_email("Bob@X.example") == {"email": "Bob@X.example"}
    cache.customer_by_email("bob@x.example")
    assert cache.customer_by_email("nobody@x.example") is None
    cache.customer_by_email("nobody@x.example")  # "no such customer" is an answer too
    assert client.asked == ["Bob@X.example", "nobody@x.example"]
    cache.order_by_name("#1001")
    cache.order_by_name("1001")
    assert client.asked[-1] == "#1001" and len(client.asked) == 3
    clock.now = 301
    cache.customer_by_email("bob@x.example")
    assert client.asked[-1] == "bob@x.example"


def test_failures_are_not_kept():
    client = CountingClient()
    cache = CachedShopify(client, timedelta(minutes=5), MemoryState(Clock()))
    client.failing = True
    with pytest.raises(ShopifyError):
        cache.customer_by_email("bob@x.example")
    client.failing = False
    assert cache.customer_by_email("bob@x.example") == {"email": "bob@x.example"}


def test_a_customer_comes_back_from_its_json_as_it_was():
    order = Order(
        id="gid://shopify/Order/450789469",
        number=450789469,
        name="#1001",
        processed_at=datetime(2026, 11, 30, 9, 15, tzinfo=UTC),
        financial_status="PAID",
        fulfillment_status="FULFILLED",
        total=Money(Decimal("10.50"), "EUR"),
        cancelled=False,
        tracking=(Tracking("1Z999", "https://track.example/1Z999", "UPS"),),
        admin_url="https://admin.shopify.com/store/shop/orders/450789469",
        customer_id="gid://shopify/Customer/207119551",
        customer_email="bob@x.example",
    )
    customer = Customer(
        id="gid://shopify/Customer/207119551",
        name="Bob",
        email="bob@x.example",
        orders_count=1,
        total_spent=Money(Decimal("10.5"), "EUR"),
        tags=("vip",),
        recent_orders=(order,),
        admin_url="https://admin.shopify.com/store/shop/customers/207119551",
    )
    assert decode(encode(customer)) == customer
    assert decode(encode(None)) is None


def test_only_the_shops_own_types_are_kept():
    with pytest.raises(TypeError):
        encode({"proof": object()})
    with pytest.raises(KeyError):
        decode('{"__type__": "Settings"}')  # what was stored can only become a shop type


def test_an_answer_kept_by_another_version_is_asked_again():
    client, state = CountingClient(), MemoryState(Clock())
    state.put("shopify:order:1001", '{"__type__": "Order", "gone": 1}', 300)
    cache = CachedShopify(client, timedelta(minutes=5), state)
    assert cache.order_by_name("#1001") == {"name": "#1001"}
    assert client.asked == ["#1001"]
