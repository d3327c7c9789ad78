"""The pure parts of self-service: which tracking links a customer may be shown, matching an
order's address, reading an order number, and how the digest, the root and the thread say
it."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bot.core.metrics import SelfService
from bot.core.self_service import email_matches, safe_tracking_url
from bot.handlers.chat.schemas import OrderLookupIn
from bot.views.digest import self_service_text
from bot.views.notices import order_verified
from bot.views.ticket_root import TicketSummary, root_blocks


@pytest.mark.parametrize(
    "url",
    [
        "https://www.ups.com/track?tracknum=1Z2345",
        "http://carrier.example/t/ABC-123",
        "HTTPS://Carrier.Example:8443/t?n=1",
    ],
)
def test_carriers_links_are_kept(url):
    assert safe_tracking_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example/x",  # no scheme: would take the page's
        "https://user:pw@track.example/",
        "https://track.example@evil.example/",
        "https:///no-host",
        "https://track.example/a b",
        "https://track.example/\nSet-Cookie: x",
        "https://track.example:notaport/",
        "https://track.example:0/",
        "ftp://track.example/x",
        "https://track.example/" + "a" * 2000,
    ],
)
def test_anything_else_is_dropped(url):
    assert safe_tracking_url(url) is None


def test_an_address_matches_case_and_spaces_aside_and_nothing_matches_empty():
    emails = {"Bob.Norman@Hostmail.com", "orders@bob.example"}
    assert email_matches(" bob.norman@hostmail.COM ", emails)
    assert email_matches("orders@bob.example", emails)
    assert not email_matches("bob.norman@hostmail.co", emails)
    assert not email_matches("", {""})
    assert not email_matches("bob@x.example", set())


@pytest.mark.parametrize("given", ["1001", "#1001", "# 1001", " #01001 "])
def test_an_order_number_is_read_as_shopify_names_it(given):
    assert OrderLookupIn(order=given, email="a@b.example").order == "#1001"


@pytest.mark.parametrize("given", ["", "#", "1001 OR 1", "#10x01", "1" * 13, "name:*"])
def test_anything_but_an_order_number_is_refused(given):
    with pytest.raises(ValidationError):
        OrderLookupIn(order=given, email="a@b.example")


def test_the_address_is_required_and_must_be_one():
    with pytest.raises(ValidationError):
        OrderLookupIn(order="#1001", email="  ")
    with pytest.raises(ValidationError):
        OrderLookupIn(order="#1001", email="not an address")


def test_the_digest_counts_in_words():
    assert self_service_text(SelfService()) == "0 deflections, 0 order look-ups (0 found)"
    assert self_service_text(SelfService(1, 1, 1)) == "1 deflection, 1 order look-up (1 found)"
    assert self_service_text(SelfService(3, 5, 2)) == "3 deflections, 5 order look-ups (2 found)"


def test_the_root_and_the_thread_name_the_proven_order_escaped():
    summary = TicketSummary(
        ticket_id=1, number=7, subject="Late", status="open", priority="normal", source="chat",
        customer_name="Bob", customer_email="bob@x.example", assignee=None, tags=[],
        chat_order="#1001 <!channel>",
    )  # fmt: skip
    root = json.dumps(root_blocks(summary))
    assert "Order #1001 &lt;!channel&gt; verified in the widget" in root
    line = order_verified("#1001")
    assert "order #1001" in line and "number and email address" in line
