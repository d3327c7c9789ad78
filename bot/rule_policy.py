"""The policy's `rules:` section: each rule's trigger, conditions and actions, checked at start-up.

A mistake is refused with one line naming the rule and the key (`bot.config.load_policy` words
it); what only shows at run time (a channel the bot can't post in, a pattern slow on one huge
mail) is told in the ticket's thread by the engine, `bot.core.rules.automation`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.patterns import compile_pattern

OPENED = "opened"
CUSTOMER_MESSAGE = "customer_message"
Trigger = Literal["opened", "customer_message"]


def one_or_many(value: Any) -> Any:
    """`inbox: returns@x` and `inbox: [returns@x]` mean the same."""
    return [value] if isinstance(value, str | bool | int) else value


def address_or_domain(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[^@\s<>]*@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError(f"{value!r}: expected an address (jane@x.com) or a domain (@x.com)")
    return value


def _domain(value: str) -> str:
    value = value.strip().lower().removeprefix("@")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value):
        raise ValueError(f"{value!r}: expected a domain such as wholesale.example")
    return value


def _address(value: str) -> str:
    value = value.strip().lower()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError(f"{value!r}: expected an address such as returns@shop.example")
    return value


def _word(value: str) -> str:
    if not value.strip():
        raise ValueError("an empty word would match everything")
    return value.strip().casefold()


def _language(value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}", value.strip().lower()):
        raise ValueError(f"{value!r}: expected a two-letter ISO 639-1 code such as de")
    return value.strip().lower()


def _pattern(value: str) -> str:
    compile_pattern(value)  # refused here, at start-up, rather than on the first mail
    return value


def _channel(value: str) -> str:
    if not re.fullmatch(r"[CG][A-Z0-9]{2,}", value):
        raise ValueError(f"{value!r}: expected a Slack channel ID such as C0123ABCD (not a #name)")
    return value


def Listed(item: Any) -> Any:
    return Annotated[list[item], BeforeValidator(one_or_many)]


class _RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ShopifyConditions(_RuleModel):
    """Facts about the customer in Shopify; fetched outside the transaction (see docs/policy.md)."""

    orders_count_gte: int | None = Field(default=None, ge=0)
    total_spent_gte: Decimal | None = Field(default=None, ge=0)
    tags_any: Listed(Annotated[str, AfterValidator(_word)]) = []


class Conditions(_RuleModel):
    """All must hold; none given: always."""

    source: Listed(Literal["email", "chat"]) = []
    inbox: Listed(Annotated[str, AfterValidator(_address)]) = []
    subject_contains: Listed(Annotated[str, AfterValidator(_word)]) = []
    body_contains: Listed(Annotated[str, AfterValidator(_word)]) = []
    subject_matches: Annotated[str, AfterValidator(_pattern)] | None = None
    body_matches: Annotated[str, AfterValidator(_pattern)] | None = None
    from_: Listed(Annotated[str, AfterValidator(address_or_domain)]) = Field([], alias="from")
    from_domain: Listed(Annotated[str, AfterValidator(_domain)]) = []
    language: Listed(Annotated[str, AfterValidator(_language)]) = []
    business_hours: bool | None = None
    vip: bool | None = None  # the ticket is a VIP's (the `vip` section, or a rule's `vip` action)
    shopify: ShopifyConditions | None = None


class Actions(_RuleModel):
    """What a rule does, in the order of bot.core.rules.actions.ACTIONS."""

    tags: Listed(str) = []
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    channel: Annotated[str, AfterValidator(_channel)] | None = None
    # A Slack user ID, or pool:<name> (checked against assignment.pools by the Policy).
    assign: str | None = Field(default=None, min_length=1, max_length=100)
    status: Literal["open", "pending", "solved", "closed"] | None = None
    vip: bool = False  # treat as a VIP's: the `vip` section's SLA targets and the root's badge
    stop: bool = False

    def named(self) -> dict[str, Any]:
        """The actions given, stop aside, in the order they are applied."""
        return {
            key: value
            for key, value in self.model_dump(exclude={"stop"}).items()
            if value is not None and value != [] and value is not False
        }


class Rule(_RuleModel):
    name: str = Field(min_length=1, max_length=100)
    on: Listed(Trigger) = [OPENED]
    when: Conditions = Conditions()
    then: Actions

    @model_validator(mode="before")
    @classmethod
    def _on_as_written(cls, data: Any) -> Any:
        """YAML 1.1 reads an unquoted `on:` key as the boolean true."""
        if isinstance(data, dict) and True in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    @property
    def needs_shopify(self) -> bool:
        return self.when.shopify is not None


def rule_problems(rules: list[Rule], known_tags: list[str]) -> str | None:
    """What is wrong across rules (the models check each alone): a duplicate name, a tag the
    policy doesn't list, a rule that does nothing. None when all is well."""
    seen: set[str] = set()
    listed = {tag.strip().lower() for tag in known_tags}
    for rule in rules:
        if rule.name in seen:
            return f"rule {rule.name!r}: name is used by an earlier rule; names must be unique"
        seen.add(rule.name)
        if not rule.on:
            return f"rule {rule.name!r}: on is empty; use opened, customer_message or both"
        if not rule.then.named() and not rule.then.stop:
            return (
                f"rule {rule.name!r}: then has no action "
                "(tags, priority, channel, assign, status, vip)"
            )
        unknown = [t for t in rule.then.tags if listed and t.strip().lower() not in listed]
        if unknown:
            return (
                f"rule {rule.name!r}: then.tags names {unknown[0]!r}, which is not in the "
                f"policy's tags ({', '.join(sorted(listed))})"
            )
    return None
