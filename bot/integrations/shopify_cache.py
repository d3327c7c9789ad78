"""Shopify answers kept for a few minutes (the policy's `shopify.cache_for`), in memory.

A busy thread re-renders and agents click around; without this each click would ask the
Admin API again and spend its rate limit. Failures are never kept, so the next look retries.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.config import Policy, Settings
from bot.integrations.shopify import Customer, Order, OrderProof, ShopifyClient

MAX_ENTRIES = 2_000
_MISSING = object()


class CachedShopify:
    def __init__(
        self,
        client: ShopifyClient,
        keep_for: timedelta,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
    ):
        self.client = client
        self._keep_for = keep_for.total_seconds()
        self._clock = clock
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def customer_by_email(self, email: str) -> Customer | None:
        return self._cached(("customer", email.lower()), self.client.customer_by_email, email)

    def customer_by_id(self, gid: str) -> Customer | None:
        return self._cached(("customer-id", gid), self.client.customer_by_id, gid)

    def order_by_name(self, name: str) -> Order | None:
        key = ("order", name.strip().lstrip("#"))
        return self._cached(key, self.client.order_by_name, name)

    def order_proof(self, name: str) -> OrderProof | None:
        # Never kept: a claim is checked against what Shopify holds now, and the values in it
        # (addresses, postcodes) should not sit in memory for anything else to read.
        return self.client.order_proof(name)

    def _cached(self, key: tuple, fetch: Callable[[str], Any], argument: str) -> Any:
        now = self._clock()
        with self._lock:
            stored_at, value = self._entries.get(key, (None, _MISSING))
            if value is not _MISSING and now - stored_at < self._keep_for:
                self._entries.move_to_end(key)
                return value
        value = fetch(argument)  # outside the lock: other lookups don't wait on this one
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value


def connect(settings: Settings, policy: Policy) -> CachedShopify | None:
    """The shop's client when SHOPIFY_SHOP (or SHOPIFY_API_URL) is set, else None."""
    if not settings.shopify_enabled:
        return None
    client = ShopifyClient(
        shop=settings.shopify_shop or "",
        token=settings.shopify_access_token or "",
        version=settings.shopify_api_version,
        api_url=settings.shopify_api_url,
        timeout=policy.shopify.timeout.total_seconds(),
        recent_orders=policy.shopify.recent_orders,
    )
    return CachedShopify(client, policy.shopify.cache_for)
