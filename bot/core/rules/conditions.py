"""Whether a rule's conditions hold for a ticket at one trigger: all of them, each kind a small
check over what the rules look at (`Seen`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

import regex

from bot.core.language import language_of
from bot.patterns import PatternTimeout, matches
from bot.rule_policy import Conditions, ShopifyConditions


@dataclass(frozen=True)
class CustomerFacts:
    """What Shopify says about the ticket's customer (fetched outside any transaction)."""

    orders_count: int
    total_spent: Decimal
    tags: tuple[str, ...]

    def as_payload(self) -> dict[str, Any]:
        return {
            "orders_count": self.orders_count,
            "total_spent": str(self.total_spent),
            "tags": list(self.tags),
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CustomerFacts:
        return cls(payload["orders_count"], Decimal(payload["total_spent"]), tuple(payload["tags"]))


@dataclass(frozen=True)
class Seen:
    """What the rules look at. `shopify`: the customer's facts, None when Shopify is not
    connected, couldn't tell, or doesn't know the customer (a Shopify condition is then false)."""

    source: str
    inbox: str | None
    subject: str
    body: str
    sender: str
    at: datetime
    is_open: Callable[[datetime], bool]  # the policy's business-hours calendar
    is_vip: Callable[[], bool]
    shopify: CustomerFacts | None = None
    problems: list[str] = field(default_factory=list)  # e.g. a pattern that ran out of time

    @cached_property
    def language(self) -> str | None:
        return language_of(f"{self.subject}\n{self.body}")


def holds(when: Conditions, seen: Seen) -> bool:
    """All the conditions given hold; a pattern that runs out of time doesn't (and says so in
    `seen.problems`)."""
    for key, check in CHECKS.items():
        wanted = getattr(when, key)
        if wanted in (None, []):
            continue
        if not check(wanted, seen):
            return False
    return True


def _any_word(words: list[str], text: str) -> bool:
    text = text.casefold()
    return any(word in text for word in words)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern:
    # Checked at start-up (bot.patterns.compile_pattern); here only compiled once.
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def _matching(pattern: str, text: str, seen: Seen) -> bool:
    try:
        return matches(_compiled(pattern), text)
    except PatternTimeout as slow:
        seen.problems.append(str(slow))
        return False


def _from(wanted: list[str], seen: Seen) -> bool:
    sender = seen.sender.lower()
    domain = "@" + sender.rpartition("@")[2]
    return any(sender == w or domain == w or sender.endswith("." + w[1:]) for w in wanted)


def _from_domain(domains: list[str], seen: Seen) -> bool:
    domain = seen.sender.lower().rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in domains)


def _shopify(wanted: ShopifyConditions, seen: Seen) -> bool:
    facts = seen.shopify
    if facts is None:
        return False
    if wanted.orders_count_gte is not None and facts.orders_count < wanted.orders_count_gte:
        return False
    if wanted.total_spent_gte is not None and facts.total_spent < wanted.total_spent_gte:
        return False
    tags = {tag.casefold() for tag in facts.tags}
    return not wanted.tags_any or any(tag in tags for tag in wanted.tags_any)


CHECKS: dict[str, Callable[[Any, Seen], bool]] = {
    "source": lambda sources, seen: seen.source in sources,
    "inbox": lambda inboxes, seen: (seen.inbox or "").lower() in inboxes,
    "from_": _from,
    "from_domain": _from_domain,
    "business_hours": lambda within, seen: seen.is_open(seen.at) == within,
    "subject_contains": lambda words, seen: _any_word(words, seen.subject),
    "body_contains": lambda words, seen: _any_word(words, seen.body),
    "subject_matches": lambda pattern, seen: _matching(pattern, seen.subject, seen),
    "body_matches": lambda pattern, seen: _matching(pattern, seen.body, seen),
    "vip": lambda wanted, seen: seen.is_vip() == wanted,
    "language": lambda languages, seen: seen.language in languages,
    "shopify": _shopify,
}
