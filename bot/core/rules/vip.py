"""The policy's `vip` section as built-in rules, run before the policy's own: one rule per
criterion (they are alternatives), each marking the ticket a VIP's and giving it the section's
priority. The Shopify ones wait for the customer's facts like any rule that needs them."""

from __future__ import annotations

from bot.config import VipPolicy
from bot.rule_policy import OPENED, Rule


def vip_rules(vip: VipPolicy | None) -> tuple[Rule, ...]:
    if vip is None:
        return ()
    then = {"vip": True, **({"priority": vip.priority} if vip.priority else {})}
    criteria = {
        "vip.from": {"from": vip.from_} if vip.from_ else None,
        "vip.total_spent_gte": _shopify(total_spent_gte=vip.total_spent_gte),
        "vip.orders_count_gte": _shopify(orders_count_gte=vip.orders_count_gte),
        "vip.tags_any": _shopify(tags_any=vip.tags_any or None),
    }
    return tuple(
        Rule.model_validate({"name": name, "on": [OPENED], "when": when, "then": then})
        for name, when in criteria.items()
        if when is not None
    )


def _shopify(**fact) -> dict | None:
    return None if None in fact.values() else {"shopify": fact}
