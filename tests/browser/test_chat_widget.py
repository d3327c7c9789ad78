"""The chat widget in a real browser: a shopper on a storefront talks to an agent in Slack."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import AWAY_DAY
from tests.e2e.harness import CHANNEL

SHOPPER_TEXT = "<b>bold</b> & <script>alert(1)</script>"
SHOPPER_SECOND_LINE = "Order #1042"
SLACK_ESCAPED = "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;"
ANSWER = "Hi Jane, it ships today."
WAIT = 15_000  # ms: generous, for a loaded CI machine; expect() returns as soon as it holds

# A storefront whose own CSS is hostile: the widget's shadow root must keep it out.
SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme shop</title>
<style>
  body {{ font: 20px Georgia, serif; background: #fdf6e3; margin: 2rem; }}
  div, p, span {{ color: red !important; padding: 12px; border: 3px dashed orange; }}
  button, textarea, input {{ background: lime; font-size: 30px; }}
</style></head>
<body>
<h1>Acme shop</h1>
<p>Our finest mugs. <a href="/cart">Cart</a></p>
<script src="{widget}" async data-title="Acme help" data-color="#5b3cc4"></script>
</body></html>
"""


def open_shop(context, shop, desk) -> tuple[Page, list[str]]:
    """The shop's page with the widget; also returns the list that collects any alert()."""
    shop.html = SHOP_PAGE.format(widget=f"{desk.url}/chat/widget.js")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(shop.url)
    return page, dialogs


def messages(page: Page, sender: str):
    return page.locator(f'[data-testid="message"][data-from="{sender}"]')


def test_a_shopper_chats_with_an_agent_from_another_origin(context, shop, desk, artifacts, browser):
    page, dialogs = open_shop(context, shop, desk)
    launcher = page.get_by_test_id("launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    panel = page.get_by_test_id("panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("role", "dialog")
    expect(panel).to_have_attribute("aria-label", "Acme help")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    textarea = page.get_by_test_id("input")
    expect(textarea).to_be_focused()
    expect(page.get_by_test_id("away")).to_be_hidden()  # open 24/7

    page.get_by_test_id("name").fill("Jane Doe")
    page.get_by_test_id("email").fill("jane@customer.example")
    textarea.fill(SHOPPER_TEXT)
    textarea.press("Shift+Enter")  # a new line, not a send
    textarea.press_sequentially(SHOPPER_SECOND_LINE)
    expect(messages(page, "visitor")).to_have_count(0)
    textarea.press("Enter")

    mine = messages(page, "visitor")
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"), timeout=WAIT)  # stored
    expect(textarea).to_have_value("")
    expect(page.get_by_test_id("name")).to_be_hidden()  # asked once, before the start
    page.screenshot(path=artifacts / "chat-widget-open.png")

    ticket = desk.ticket()
    assert desk.slack.thread(CHANNEL, ticket.thread_ts)[0]["text"]  # the ticket's root
    desk.wait_for_reply_in_thread(ticket.thread_ts, SLACK_ESCAPED)
    [posted] = [t for t in desk.thread_texts(ticket.thread_ts) if SLACK_ESCAPED in t]
    assert SHOPPER_SECOND_LINE in posted

    desk.reply(ANSWER)
    answer = messages(page, "agent")
    expect(answer).to_contain_text(ANSWER, timeout=WAIT)  # pushed over the event stream
    expect(answer).to_have_count(1)
    expect(answer.locator(".who")).to_contain_text(re.compile("alex", re.I))
    expect(mine).to_have_count(1)  # the stream's copy of our own message isn't shown twice
    page.screenshot(path=artifacts / "chat-widget-reply.png")

    # Shown literally: the text is text, not markup, and nothing ran.
    bubble = mine.locator(".bubble")
    assert bubble.evaluate("e => e.textContent") == f"{SHOPPER_TEXT}\n{SHOPPER_SECOND_LINE}"
    assert bubble.evaluate("e => e.querySelectorAll('*').length") == 0
    assert page.evaluate("document.querySelectorAll('b').length") == 0
    assert dialogs == []

    # Side by side: the shopper's messages on the right, the agent's on the left.
    mine_box, answer_box = mine.bounding_box(), answer.bounding_box()
    panel_box = panel.bounding_box()
    assert mine_box["x"] + mine_box["width"] > panel_box["x"] + panel_box["width"] - 30
    assert answer_box["x"] < panel_box["x"] + 30

    # A reload resumes the conversation from localStorage.
    page.reload()
    page.get_by_test_id("launcher").click()
    expect(messages(page, "agent")).to_contain_text(ANSWER, timeout=WAIT)
    expect(messages(page, "visitor")).to_have_count(1)
    expect(messages(page, "visitor")).to_contain_text(SHOPPER_SECOND_LINE)
    expect(page.get_by_test_id("name")).to_be_hidden()

    # Closed, the widget stops listening: what the stream delivers counts as seen by the
    # visitor, and a reply they haven't seen is emailed after a while.
    with page.expect_event("requestfailed", lambda r: "/events?" in r.url):
        page.get_by_test_id("launcher").click()
    expect(page.get_by_test_id("panel")).to_be_hidden()

    # On a phone the open panel takes the whole screen.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        storage_state=context.storage_state(),  # the same visitor, so the same conversation
    )
    try:
        small = phone.new_page()
        small.goto(shop.url)
        small.get_by_test_id("launcher").tap()
        expect(messages(small, "agent")).to_contain_text(ANSWER, timeout=WAIT)
        box = small.get_by_test_id("panel").bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 390, 844)
        send = small.get_by_test_id("send").bounding_box()
        assert send["x"] + send["width"] <= 390 and send["y"] + send["height"] <= 844
        small.screenshot(path=artifacts / "chat-widget-phone.png")
    finally:
        phone.close()


def test_the_full_page_chat_needs_no_launcher(context, desk, artifacts):
    page = context.new_page()
    page.goto(f"{desk.url}/chat/")
    panel = page.get_by_test_id("panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("launcher")).to_have_count(0)
    box = panel.bounding_box()
    assert (box["width"], box["height"]) == (1280, 800)

    page.get_by_test_id("input").fill("Do you ship to Norway?")
    page.get_by_test_id("send").click()
    expect(messages(page, "visitor")).to_have_attribute("data-id", re.compile(r"^\d+$"))
    page.screenshot(path=artifacts / "chat-page.png")
    ticket = desk.ticket()
    desk.wait_for_reply_in_thread(ticket.thread_ts, "Do you ship to Norway?")


def test_keyboard_only(context, shop, desk, artifacts):
    page, _ = open_shop(context, shop, desk)
    launcher = page.get_by_test_id("launcher")
    expect(launcher).to_be_visible()
    for _ in range(5):  # past the shop's own link
        page.keyboard.press("Tab")
        if launcher.evaluate("e => e.getRootNode().activeElement === e"):
            break
    expect(launcher).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_test_id("panel")).to_be_visible()
    expect(page.get_by_test_id("input")).to_be_focused()
    page.keyboard.type("first")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second")
    expect(page.get_by_test_id("input")).to_have_value("first\nsecond")

    page.keyboard.press("Escape")
    expect(page.get_by_test_id("panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(messages(page, "visitor")).to_have_count(0)  # nothing was sent
    page.screenshot(path=artifacts / "chat-widget-launcher-focus.png")


def start_chat(page: Page, text: str) -> None:
    page.get_by_test_id("launcher").click()
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("input").press("Enter")
    expect(messages(page, "visitor").last).to_have_attribute("data-id", re.compile(r"^\d+$"))


def test_where_streaming_is_blocked_the_widget_polls(context, shop, desk):
    page, _ = open_shop(context, shop, desk)
    refused, polls = [], []
    page.route(re.compile(r"/events\?"), lambda route: (refused.append(1), route.abort()))
    page.on("request", lambda r: polls.append(1) if "/messages?after=" in r.url else None)
    start_chat(page, "Is anyone there?")
    desk.wait_for_reply_in_thread(desk.ticket().thread_ts, "Is anyone there?")

    desk.reply("Yes, Alex here.")
    expect(messages(page, "agent")).to_contain_text("Yes, Alex here.", timeout=WAIT)
    assert len(refused) == 3  # three failed streams in a row, then polling
    assert polls


def test_a_send_that_fails_is_retried_with_the_same_client_id(context, shop, desk):
    page, _ = open_shop(context, shop, desk)
    start_chat(page, "Hello")
    sent: list[dict] = []

    def flaky(route):
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.abort("connectionreset")  # the network drops the first try
        elif len(sent) == 2:
            route.fulfill(
                status=429,
                headers={
                    "Access-Control-Allow-Origin": shop.origin,
                    "Access-Control-Expose-Headers": "Retry-After",
                    "Retry-After": "1",
                },
                content_type="application/json",
                body=json.dumps({"error": "Slow down a little.", "code": "rate_limited"}),
            )
        else:
            route.continue_()

    page.route(re.compile(r"/conversations/[^/?]+/messages$"), flaky)
    page.get_by_test_id("input").fill("Where is order 1042?")
    page.get_by_test_id("input").press("Enter")
    expect(page.get_by_test_id("error")).to_contain_text("Slow down a little.")
    mine = messages(page, "visitor")
    expect(mine).to_have_count(2)
    expect(mine.last).to_have_attribute("data-id", re.compile(r"^\d+$"), timeout=WAIT)
    expect(page.get_by_test_id("error")).to_be_hidden()
    assert len(sent) == 3 and len({body["client_id"] for body in sent}) == 1

    desk.wait_for_reply_in_thread(desk.ticket().thread_ts, "Where is order 1042?")
    texts = desk.thread_texts(desk.ticket().thread_ts)
    assert sum("Where is order 1042?" in t for t in texts) == 1


@pytest.mark.parametrize("chat_policy", ["away"], indirect=True)
def test_outside_business_hours_the_widget_asks_for_an_email(browser, shop, desk, artifacts):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    try:
        page, _ = open_shop(context, shop, desk)
        page.get_by_test_id("launcher").click()
        away = page.get_by_test_id("away")
        # Back at 09:00 UTC on the open day, said in the shopper's own time zone.
        today = datetime.now(UTC).date()
        back = next(
            datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
            for day in (today + timedelta(days=n) for n in range(1, 8))
            if day.weekday() == AWAY_DAY
        ).astimezone(ZoneInfo("Europe/Berlin"))
        expect(away).to_contain_text("We're away right now — back")
        expect(away).to_contain_text(back.strftime("%A"))
        expect(away).to_contain_text(back.strftime("%H:%M"))
        expect(away).to_contain_text("Leave your email and we'll answer there.")

        textarea = page.get_by_test_id("input")
        textarea.fill("Where is my parcel?")
        textarea.press("Enter")
        expect(page.get_by_test_id("error")).to_be_visible()
        expect(page.get_by_test_id("email")).to_have_attribute("aria-invalid", "true")
        expect(messages(page, "visitor")).to_have_count(0)
        expect(textarea).to_have_value("Where is my parcel?")
        page.screenshot(path=artifacts / "chat-widget-away.png")

        page.get_by_test_id("email").fill("jane@customer.example")
        textarea.press("Enter")
        expect(messages(page, "visitor")).to_have_attribute("data-id", re.compile(r"^\d+$"))
        expect(page.get_by_test_id("error")).to_be_hidden()
        desk.wait_for_reply_in_thread(desk.ticket().thread_ts, "Where is my parcel?")
    finally:
        context.close()


@pytest.mark.parametrize("chat_policy", ["shop not allowed"], indirect=True)
def test_a_site_not_in_allowed_origins_gets_no_widget(context, shop, desk):
    page = context.new_page()
    shop.html = SHOP_PAGE.format(widget=f"{desk.url}/chat/widget.js")
    with page.expect_console_message(lambda m: m.text.startswith("helpdesk chat:")):
        page.goto(shop.url)
    expect(page.locator("#helpdesk-chat")).to_have_count(0)
