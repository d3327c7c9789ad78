"""Self-service in the widget, in a real browser: articles suggested while typing, one opened
and the chat closed (a deflection, counted by the server), and "Track my order" with a wrong
pair, the right one, and asking for a person with the order attached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from bot.config import Policy
from bot.devtools.fake_shopify import BOB_EMAIL, UPS_TRACKING_URL, FakeShopify
from bot.storage.models import SelfServiceSession
from tests.browser.conftest import ChatDesk
from tests.conftest import free_port
from tests.e2e.harness import CHANNEL, eventually, staffed_helpdesk

TOKEN = "shpat_test_token"
WAIT = 15_000  # ms, for a loaded machine; expect() returns as soon as it holds
SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme shop</title></head>
<body><h1>Acme shop</h1>
<script src="{widget}" async data-title="Acme help"></script>
</body></html>
"""


@pytest.fixture
def desk(tmp_path, shop) -> Iterator[ChatDesk]:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "lost-parcel.md").write_text(
        "---\ntitle: My parcel never arrived\n---\nIf your parcel is late, we send a new one.\n"
    )
    policy = Policy.model_validate(
        {
            "kb": {"path": str(folder), "rescan_every": timedelta(0)},
            "chat": {"allowed_origins": [shop.origin]},
        }
    )
    port = free_port()  # known beforehand: suggested articles link to the public URL
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()
        with staffed_helpdesk(
            f"sqlite:///{tmp_path / 'helpdesk.db'}", policy, shopify_shop="acme",
            shopify_access_token=TOKEN, shopify_api_url=fake.url, helpdesk_http_port=port,
            helpdesk_public_url=f"http://127.0.0.1:{port}",
        ) as (helpdesk, slack, _):  # fmt: skip
            yield ChatDesk(helpdesk, slack)


def open_widget(context, shop, desk) -> Page:
    shop.html = SHOP_PAGE.format(widget=f"{desk.url}/chat/widget.js")
    page = context.new_page()
    page.goto(shop.url)
    page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("input")).to_be_focused()
    return page


def deflections(desk: ChatDesk) -> int:
    with Session(desk.helpdesk.engine) as session:
        rows = session.exec(select(SelfServiceSession)).all()
    return sum(1 for row in rows if row.deflected_at is not None)


def test_typing_suggests_articles_and_reading_one_then_closing_is_a_deflection(
    context, shop, desk, artifacts
):
    page = open_widget(context, shop, desk)
    page.get_by_test_id("input").press_sequentially("my parcel is late")
    suggestion = page.get_by_test_id("suggestion")
    expect(suggestion).to_have_count(1, timeout=WAIT)
    expect(suggestion).to_have_text("My parcel never arrived")
    expect(suggestion).to_have_attribute("href", f"{desk.url}/help/lost-parcel")
    expect(page.get_by_test_id("suggest-status")).to_have_text(
        "1 help article may answer this, above your message."
    )
    expect(page.get_by_test_id("suggest-status")).to_have_attribute("aria-live", "polite")
    page.screenshot(path=artifacts / "self-service-suggestions.png")

    with context.expect_page() as article:
        suggestion.click()
    expect(article.value.locator("h1")).to_have_text("My parcel never arrived")
    article.value.close()
    assert deflections(desk) == 0  # read, but the chat is still open

    page.get_by_test_id("input").press("Escape")  # closes the chat, from the keyboard
    expect(page.get_by_test_id("panel")).to_be_hidden()
    assert eventually(lambda: deflections(desk) == 1)


def test_track_my_order_with_a_wrong_then_the_right_pair_then_asking_for_a_person(
    context, shop, desk, artifacts
):
    page = open_widget(context, shop, desk)
    page.get_by_test_id("track-open").click()
    number = page.get_by_test_id("order-number")
    expect(number).to_be_focused()
    expect(page.get_by_label("Order number, such as #1001")).to_be_visible()
    number.fill("1001")
    email = page.get_by_label("The email address you ordered with")
    email.fill("someone@else.example")
    email.press("Enter")
    error = page.get_by_test_id("track-error")
    expect(error).to_contain_text("couldn't find an order with that number and email address")
    expect(error).to_have_attribute("role", "alert")

    email.fill(BOB_EMAIL)
    page.get_by_test_id("track-submit").click()
    expect(page.get_by_test_id("order-name")).to_have_text("Order #1001", timeout=WAIT)
    expect(error).to_be_hidden()
    result = page.get_by_test_id("order-result")
    expect(result).to_have_attribute("aria-live", "polite")
    expect(result).to_contain_text("unfulfilled")
    expect(page.get_by_test_id("tracking-link")).to_have_attribute("href", UPS_TRACKING_URL)
    page.screenshot(path=artifacts / "self-service-order.png")

    page.get_by_test_id("ask-human").click()
    expect(page.get_by_test_id("attached")).to_have_text(
        "Order #1001 will be attached to your message."
    )
    textarea = page.get_by_test_id("input")
    expect(textarea).to_be_focused()
    textarea.fill("It has been three weeks.")
    textarea.press("Enter")
    expect(page.get_by_test_id("attached")).to_be_hidden(timeout=WAIT)

    ticket = desk.ticket()

    def root_blocks() -> str:
        roots = desk.slack.messages_in(CHANNEL)
        return json.dumps(next(m for m in roots if m["ts"] == ticket.thread_ts)["blocks"])

    assert eventually(lambda: "Order #1001 verified in the widget" in root_blocks())
