"""Who is a VIP: the policy's addresses and domains, and Shopify's figures (pure logic)."""

from __future__ import annotations

from decimal import Decimal

from bot.config import VipPolicy
from bot.core.vip import ShopFigures, by_address, by_shopify

LISTED = VipPolicy(addresses=["ceo@bigbuyer.example", "@wholesale.example"])
THRESHOLDS = VipPolicy.model_validate(
    {"total_spent_gte": 500, "orders_count_gte": 10, "tags_any": ["VIP"]}
)


def figures(spent: str = "0", orders: int = 0, tags: tuple[str, ...] = ()) -> ShopFigures:
    return ShopFigures(Decimal(spent), orders, tags)


def test_an_address_or_its_domain_is_listed_whatever_its_case():
    assert by_address(LISTED, "CEO@BigBuyer.example") == "listed as ceo@bigbuyer.example"
    assert by_address(LISTED, "anyone@Wholesale.example") == "listed as @wholesale.example"


def test_a_subdomain_or_a_lookalike_is_not_listed():
    assert by_address(LISTED, "cfo@bigbuyer.example") is None
    assert by_address(LISTED, "x@eu.wholesale.example") is None
    assert by_address(LISTED, "x@wholesale.example.evil") is None


def test_any_one_threshold_one_customer_reaches_is_enough():
    assert by_shopify(THRESHOLDS, [figures("500.00")]) == "spent 500.00 in the shop"
    assert by_shopify(THRESHOLDS, [figures(orders=12)]) == "12 orders in the shop"
    assert by_shopify(THRESHOLDS, [figures(tags=("net30", "vip"))]) == "tagged vip in the shop"
    # The ticket's linked Shopify customer counts as much as the one found by address.
    assert by_shopify(THRESHOLDS, [figures(), figures(orders=10)]) == "10 orders in the shop"


def test_below_every_threshold_or_without_thresholds_nobody_is_vip():
    assert by_shopify(THRESHOLDS, [figures("499.99", 9, ("wholesale",))]) is None
    assert by_shopify(THRESHOLDS, []) is None
    assert by_shopify(LISTED, [figures("1000000", 1000, ("vip",))]) is None
