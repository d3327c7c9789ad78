"""Shopify answers kept for a few minutes (the policy's `shopify.cache_for`), in the state the
processes share (`bot/storage/shared_state.py`), so one process's lookup serves them all.

A busy thread re-renders and agents click around; without this each click would ask the
Admin API again and spend its rate limit. Failures are never kept, so the next look retries.
Answers are kept as JSON naming their few types, never pickled: what is read back from
PostgreSQL or Redis can only ever become one of them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.config import Policy, Settings
from bot.integrations.shopify import (
    Customer,
    Money,
    Order,
    OrderProof,
    ShopifyClient,
    Tracking,
)
from bot.storage.shared_state import SharedState

_TYPES = {cls.__name__: cls for cls in (Customer, Order, Money, Tracking)}
# Every cached answer's key starts so: `forget_everything` drops them all.
KEY_PREFIX = "shopify:"


class CachedShopify:
    def __init__(self, client: ShopifyClient, keep_for: timedelta, state: SharedState):
        self.client = client
        self._keep_for = keep_for.total_seconds()
        self._state = state

    def customer_by_email(self, email: str) -> Customer | None:
        return self._cached(f"customer:{email.lower()}", self.client.customer_by_email, email)

    def customer_by_id(self, gid: str) -> Customer | None:
        return self._cached(f"customer-id:{gid}", self.client.customer_by_id, gid)

    def order_by_name(self, name: str) -> Order | None:
        key = f"order:{name.strip().lstrip('#')}"
        return self._cached(key, self.client.order_by_name, name)

    def order_proof(self, name: str) -> OrderProof | None:
        # Never kept: a claim is checked against what Shopify holds now, and the values in it
        # (addresses, postcodes) should not be stored for anything else to read.
        return self.client.order_proof(name)

    def _cached(self, key: str, fetch: Callable[[str], Any], argument: str) -> Any:
        key = KEY_PREFIX + key
        stored = self._state.get(key)
        if stored is not None:
            try:
                return decode(stored)
            except (KeyError, TypeError, ValueError):
                pass  # kept by another version of the helpdesk, whose types differ: ask again
        value = fetch(argument)  # "no such customer" (None) is an answer, and kept too
        self._state.put(key, encode(value), self._keep_for)
        return value


def encode(value: Any) -> str:
    return json.dumps(value, default=_tagged)


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


def _tagged(value: Any) -> dict:
    if isinstance(value, Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if type(value) in _TYPES.values():
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    raise TypeError(f"can't keep a {type(value).__name__} in the Shopify cache")


def _untagged(value: dict) -> Any:
    if "__decimal__" in value:
        return Decimal(value["__decimal__"])
    if "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    if "__type__" in value:
        cls = _TYPES[value.pop("__type__")]
        # The types' sequences are tuples, which JSON has as lists.
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
    return value


def shopify_client(settings: Settings, policy: Policy) -> ShopifyClient | None:
    """The shop's client when SHOPIFY_SHOP (or SHOPIFY_API_URL) is set, else None."""
    if not settings.shopify_enabled:
        return None
    return ShopifyClient(
        shop=settings.shopify_shop or "",
        token=settings.shopify_access_token or "",
        version=settings.shopify_api_version,
        api_url=settings.shopify_api_url,
        timeout=policy.shopify.timeout.total_seconds(),
        recent_orders=policy.shopify.recent_orders,
    )


def connect(settings: Settings, policy: Policy, state: SharedState) -> CachedShopify | None:
    """The shop's client, its answers kept in the shared state; None without a shop."""
    client = shopify_client(settings, policy)
    return CachedShopify(client, policy.shopify.cache_for, state) if client else None
