"""The Shopify cache: answers reused for `cache_for`, failures never kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.integrations.shopify import ShopifyError
from bot.integrations.shopify_cache import CachedShopify


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


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_answers_are_reused_until_they_are_too_old():
    client, clock = CountingClient(), Clock()
    cache = CachedShopify(client, timedelta(minutes=5), clock=clock)
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
    cache = CachedShopify(client, timedelta(minutes=5), clock=Clock())
    client.failing = True
    with pytest.raises(ShopifyError):
        cache.customer_by_email("bob@x.example")
    client.failing = False
    assert cache.customer_by_email("bob@x.example") == {"email": "bob@x.example"}


def test_the_cache_is_bounded():
    client = CountingClient()
    cache = CachedShopify(client, timedelta(minutes=5), clock=Clock(), max_entries=2)
    for name in ("1", "2", "3", "1"):
        cache.order_by_name(name)
    assert client.asked == ["1", "2", "3", "1"]  # "1" was forgotten to make room for "3"
