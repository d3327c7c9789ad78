"""The sandbox's shop: the sample customers and their orders, in the fake Shopify Admin API,
so that tickets show their order context as they would with a real shop. The orders' postcodes
let someone quoting another customer's order prove it (the Shopify post's Link button); their
line items, payments and addresses let agents try the actions (refund, reship, and on Jane's
unshipped #1004 cancel and address change)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.devtools.fake_shopify import FakeShopify


def open_demo_shop(host: str) -> FakeShopify:
    shop = FakeShopify(host, shop="sandbox-shop").start()
    now = datetime.now(UTC)
    jane = shop.add_customer(1, "Jane Doe", "jane@customer.example", amount_spent="102.00")
    shop.add_order(
        1001, "#1001", customer=jane, processed_at=now - timedelta(days=7), total="24.00",
        fulfillment_status="FULFILLED",
        tracking=[{"number": "1Z999AA10123456784", "company": "UPS",
                   "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"}],
        line_items=[{"title": "Blue ceramic mug", "sku": "MUG-BLUE", "price": "12.00",
                     "quantity": 2, "variant_id": 4101}],
        shipping_address=JANE_HOME, billing_zip="94107",
    )  # fmt: skip
    shop.add_order(
        987, "#987", customer=jane, processed_at=now - timedelta(days=60), total="62.00",
        fulfillment_status="FULFILLED",
        line_items=[{"title": "Linen tea towels (set of 3)", "sku": "TOWEL-3", "price": "31.00",
                     "quantity": 2, "variant_id": 4102}],
        shipping_address=JANE_HOME,
    )  # fmt: skip
    # Not shipped yet: what can still be cancelled or sent to another address.
    shop.add_order(
        1004, "#1004", customer=jane, processed_at=now - timedelta(hours=20), total="16.00",
        line_items=[{"title": "Blue ceramic mug", "sku": "MUG-BLUE", "price": "12.00",
                     "variant_id": 4101}],
        shipping="4.00", shipping_address=JANE_HOME,
    )  # fmt: skip
    omar = shop.add_customer(2, "Omar Haddad", "omar@customer.example", amount_spent="55.00")
    shop.add_order(
        1002, "#1002", customer=omar, processed_at=now - timedelta(days=3), total="55.00",
        fulfillment_status="FULFILLED",
        line_items=[{"title": "Hoodie, size M", "sku": "HOOD-M", "price": "50.00",
                     "variant_id": 4201}],
        shipping="5.00",
        shipping_address={"firstName": "Omar", "lastName": "Haddad", "address1": "350 5th Ave",
                          "city": "New York", "provinceCode": "NY", "zip": "10001",
                          "countryCode": "US"},
    )  # fmt: skip
    li = shop.add_customer(3, "Li Wei", "li@customer.example", amount_spent="0.00")
    shop.add_order(
        1003, "#1003", customer=li, processed_at=now - timedelta(days=2), total="38.50",
        financial_status="REFUNDED", cancelled_at=now - timedelta(days=1),
        line_items=[{"title": "Linen shirt", "sku": "SHIRT-L", "price": "38.50",
                     "variant_id": 4301}],
    )  # fmt: skip
    return shop


JANE_HOME = {
    "firstName": "Jane", "lastName": "Doe", "address1": "500 Howard St", "city": "San Francisco",
    "provinceCode": "CA", "zip": "94107", "countryCode": "US",
}  # fmt: skip
