"""The Shopify posts and modals as Block Kit: facts shown, customer text escaped, links safe."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from bot.integrations.shopify import Customer, Money, Order, Tracking
from bot.views.customer_context import (
    ContextPost,
    customer_context_blocks,
    customer_context_text,
    mask_name,
    safe_url,
    shopify_problem_blocks,
)
from bot.views.order_lookup import order_results

ORDER = Order(
    id="gid://shopify/Order/450789469", number=450789469, name="#1001",
    processed_at=datetime(2014, 1, 22, 20, 58, tzinfo=UTC), financial_status="AUTHORIZED",
    fulfillment_status="UNFULFILLED", total=Money(Decimal("409.94"), "USD"), cancelled=False,
    tracking=(Tracking("1Z2345", "http://wwwapps.ups.com/etracking?n=1Z2345", "UPS"),),
    admin_url="https://admin.shopify.com/store/acme/orders/450789469",
    customer_id="gid://shopify/Customer/207119551", customer_email="bob.norman@hostmail.com",
)  # fmt: skip
BOB = Customer(
    id="gid://shopify/Customer/207119551", name="Bob Norman",
    email="bob.norman@hostmail.com", orders_count=10_000,
    total_spent=Money(Decimal("41.94"), "USD"), tags=("vip", "<!channel>"),
    recent_orders=(ORDER,), admin_url="https://admin.shopify.com/store/acme/customers/207119551",
)  # fmt: skip


def test_a_known_customer_shows_profile_and_recent_orders():
    post = ContextPost(1, BOB.email, [BOB])
    text = json.dumps(customer_context_blocks(post), ensure_ascii=False)
    assert "Bob Norman" in text
    assert "10,000 orders" in text
    assert "41.94 USD spent" in text
    assert "authorized · unfulfilled · 409.94 USD" in text
    assert "<http://wwwapps.ups.com/etracking?n=1Z2345|1Z2345> (UPS)" in text
    assert "<https://admin.shopify.com/store/acme/orders/450789469|#1001>" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert customer_context_text(post) == "Shopify: Bob Norman, 10,000 orders, 41.94 USD spent"


def test_an_unknown_address_and_quoted_orders_read_clearly():
    post = ContextPost(1, "bob.norman@hostmail.com", quoted=[ORDER], not_found=["#4242"])
    text = json.dumps(customer_context_blocks(post))
    assert "No Shopify customer has the address bob.norman@hostmail.com" in text
    assert "Orders named in the message" in text and "#1001" in text
    assert "Not found in Shopify: #4242" in text


def test_another_customers_order_shows_its_number_and_a_masked_name_only():
    theirs = replace(ORDER, customer_name="Bob  Norman")
    post = ContextPost(7, "stranger@x.example", foreign=[theirs])
    blocks = customer_context_blocks(post)
    text = json.dumps(blocks)
    assert "Order #1001, named in the message, belongs to a different customer (B*** N***)" in text
    for detail in ("Bob", "Norman", "409.94", "1Z2345", "authorized", "admin.shopify", "hostmail"):
        assert detail not in text, detail
    assert blocks[-1]["accessory"]["value"] == "7:#1001"
    assert customer_context_text(post) == "Shopify: the message names another customer's order"


def test_a_masked_name_keeps_only_initials():
    assert mask_name("Jane Doe") == "J*** D***"
    assert mask_name("  cher ") == "c***"
    assert mask_name("<b> &x") == "&lt;*** &amp;***"
    assert mask_name(None) == mask_name("") == "an unnamed customer"


def test_no_orders_yet_and_a_cancelled_order():
    newcomer = replace(BOB, orders_count=0, recent_orders=())
    assert "No orders yet." in json.dumps(customer_context_blocks(ContextPost(1, None, [newcomer])))
    cancelled = replace(ORDER, cancelled=True)
    assert "*cancelled*" in json.dumps(order_results("#1001", [cancelled], None))


def test_links_are_only_http_and_cannot_break_out_of_their_brackets():
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("https://x.example/a|b>c") == "https://x.example/a%7Cb%3Ec"
    sneaky = replace(ORDER, tracking=(Tracking("1Z|<@U1>", "https://t.example/?a=1|x", None),))
    text = json.dumps(customer_context_blocks(ContextPost(1, None, quoted=[sneaky])))
    assert "<@U1>" not in text and "https://t.example/?a=1%7Cx" in text


def test_a_problem_is_one_line_with_the_fix():
    blocks = shopify_problem_blocks("Shopify refused the access token (401): check the token.")
    assert len(blocks) == 1 and "check the token" in json.dumps(blocks)
