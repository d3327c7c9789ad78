"""The sandbox's shop: the sample customers and their orders, in the fake Shopify Admin API,
so that tickets show their order context as they would with a real shop. The orders' postcodes
let someone quoting another customer's order prove it (the Shopify post's Link button)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.devtools.fake_shopify import FakeShopify


def open_demo_shop(host: str) -> FakeShopify:
    shop = FakeShopify(host, shop="sandbox-shop").start()
    now = datetime.now(UTC)
    jane = shop.add_customer(1, "Jane Doe", "jane@customer.example", amount_spent="86.00")
    shop.add_order(
        1001, "#1001", customer=jane, processed_at=now - timedelta(days=7), total="24.00",
        fulfillment_status="FULFILLED",
        tracking=[{"number": "1Z999AA10123456784", "company": "UPS",
                   "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}],
        shipping_zip="94107", billing_zip="94107",
    )  # fmt: skip
    shop.add_order(
        987, "#987", customer=jane, processed_at=now - timedelta(days=60), total="62.00",
        fulfillment_status="FULFILLED",
    )  # fmt: skip
    omar = shop.add_customer(2, "Omar Haddad", "omar@customer.example", amount_spent="55.00")
    shop.add_order(
        1002, "#1002", customer=omar, processed_at=now - timedelta(days=3), total="55.00",
        fulfillment_status="FULFILLED", shipping_zip="10001",
    )  # fmt: skip
    li = shop.add_customer(3, "Li Wei", "li@customer.example", amount_spent="0.00")
    shop.add_order(
        1003, "#1003", customer=li, processed_at=now - timedelta(days=2), total="38.50",
        financial_status="REFUNDED", cancelled_at=now - timedelta(days=1),
    )  # fmt: skip
    return shop
