"""The sandbox page in a real browser: someone trying the helpdesk without a Slack workspace
sends a sample email, answers it in the Reply modal, sees the reply in the mail catcher,
escalates the ticket and sets it pending until a time."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from bot.app import Helpdesk
from bot.views import ids
from tests.e2e.harness import customer_mail, running_sandbox, smtp_send

WAIT = 15_000  # ms: generous, for a loaded CI machine; expect() returns as soon as it holds
HOSTILE_SUBJECT = "<img src=x onerror=alert(1)> & <b>urgent</b>"
ANSWER = "Hi Jane, it ships today. <b>not bold</b>"


@pytest.fixture
def helpdesk(tmp_path) -> Iterator[Helpdesk]:
    with running_sandbox(tmp_path) as (helpdesk, _):
        yield helpdesk


def open_page(context, helpdesk: Helpdesk) -> tuple[Page, list[str]]:
    """The sandbox page; also the list that collects any alert() and script error."""
    page = context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"http://127.0.0.1:{helpdesk.http_port}/sandbox/")
    return page, problems


def test_the_whole_story_on_the_sandbox_page(context, helpdesk, artifacts):
    page, problems = open_page(context, helpdesk)
    expect(page.get_by_test_id("channel-support")).to_be_visible()
    page.screenshot(path=artifacts / "sandbox-1-empty.png")

    page.get_by_test_id("sample-email").click()
    root = page.get_by_test_id("message").filter(has_text="#1")
    expect(root).to_be_visible(timeout=WAIT)
    expect(root).to_contain_text("Where is my order?")
    page.screenshot(path=artifacts / "sandbox-2-ticket.png")

    root.locator(f'[data-action-id="{ids.TICKET_REPLY}"]').click()
    modal = page.get_by_test_id("modal")
    expect(modal).to_have_attribute("data-callback-id", ids.REPLY_MODAL, timeout=WAIT)
    modal.locator(f'[data-action-id="{ids.REPLY_ANSWER}"]').fill(ANSWER)
    page.screenshot(path=artifacts / "sandbox-3-reply-modal.png")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0, timeout=WAIT)

    page.get_by_test_id("mail-catcher").click()
    # Newest first: the answer, then the automatic acknowledgement the demo policy sends.
    mail = page.get_by_test_id("mail-item").filter(has_text="Re: Where is my order?")
    expect(mail).to_have_count(2, timeout=WAIT)
    mail.last.click()
    expect(page.get_by_test_id("mail-body")).to_contain_text("Your request is ticket #1")
    mail.first.click()
    expect(page.get_by_test_id("mail-body")).to_contain_text(ANSWER)
    page.screenshot(path=artifacts / "sandbox-4-mail-catcher.png")

    page.get_by_test_id("channel-support").click()
    root.locator(f'[data-action-id="{ids.TICKET_ESCALATE}"]').click()
    expect(modal).to_have_attribute("data-callback-id", ids.ESCALATION_MODAL, timeout=WAIT)
    modal.locator(f'[data-action-id="{ids.ESCALATION_REASON}"]').fill("Refund over the limit")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0, timeout=WAIT)

    page.get_by_test_id("channel-escalations").click()
    escalated = page.get_by_test_id("message").filter(has_text="#1")
    expect(escalated).to_be_visible(timeout=WAIT)
    expect(escalated).to_contain_text("Refund over the limit")
    page.screenshot(path=artifacts / "sandbox-5-escalation.png")

    # Pending until the time the picker proposes: the root says so.
    page.get_by_test_id("channel-support").click()
    root.locator(f'[data-action-id="{ids.TICKET_SNOOZE}"]').click()
    expect(modal).to_have_attribute("data-callback-id", ids.SNOOZE_MODAL, timeout=WAIT)
    page.screenshot(path=artifacts / "sandbox-6-pending-until.png")
    page.get_by_test_id("modal-submit").click()
    expect(modal).to_have_count(0, timeout=WAIT)
    # The status, not the button's "Pending until…": a time follows.
    expect(root).to_contain_text(re.compile(r"Pending until \w"), timeout=WAIT)
    page.screenshot(path=artifacts / "sandbox-7-pending-root.png")
    assert problems == []


def test_customer_text_is_shown_as_text(context, helpdesk, artifacts):
    support = helpdesk.settings.helpdesk_support_address
    mail = customer_mail("Hello <script>alert(2)</script>", subject=HOSTILE_SUBJECT, to=support)
    assert smtp_send(helpdesk.smtp.port, mail, [support])[0] == 250
    page, problems = open_page(context, helpdesk)
    root = page.get_by_test_id("message").filter(has_text="#1")
    expect(root).to_contain_text("<img src=x onerror=alert(1)> & <b>urgent</b>", timeout=WAIT)
    assert root.locator("img[src=x], b").count() == 0
    page.screenshot(path=artifacts / "sandbox-escaped.png")
    assert problems == []


def test_the_app_home_its_messages_a_reload_and_starting_over(context, helpdesk, artifacts):
    page, problems = open_page(context, helpdesk)
    # Once the page has drawn the workspace, its scripts listen: a click before is lost.
    expect(page.get_by_test_id("channel-support")).to_be_visible(timeout=WAIT)
    page.get_by_test_id("app-helpdesk").click()
    home = page.get_by_test_id("home")
    expect(home).to_contain_text("Your open tickets", timeout=WAIT)
    home.locator(f'[data-action-id="{ids.HOME_SAVED_REPLIES}"]').click()
    modal = page.get_by_test_id("modal")
    expect(modal).to_have_attribute("data-callback-id", ids.SAVED_REPLIES_MODAL, timeout=WAIT)
    expect(modal).to_contain_text("Order on its way")
    page.screenshot(path=artifacts / "sandbox-home-saved-replies.png")

    page.reload()  # as in Slack, a reloaded client shows no modal left open
    expect(page.get_by_test_id("channel-support")).to_be_visible()
    expect(modal).to_have_count(0)

    page.get_by_test_id("sample-email").click()
    expect(page.get_by_test_id("message").filter(has_text="#1")).to_be_visible(timeout=WAIT)
    composer = page.get_by_test_id("channel-composer")
    for channel in ("escalations", "managers"):  # the demo's Managers tier tells you in a DM
        composer.fill("/escalate #1 refund over the limit")
        page.get_by_test_id("channel-send").click()
        page.get_by_test_id(f"channel-{channel}").click()
        expect(page.get_by_test_id("message").filter(has_text="#1")).to_be_visible(timeout=WAIT)
        page.get_by_test_id("channel-support").click()
    page.get_by_test_id("app-helpdesk").click()
    page.get_by_test_id("app-tab-messages").click()
    direct = page.get_by_test_id("message").filter(has_text="Managers")
    expect(direct).to_contain_text("#1", timeout=WAIT)
    page.screenshot(path=artifacts / "sandbox-direct-messages.png")

    page.get_by_test_id("reset").click()
    expect(page.get_by_test_id("channel-support")).to_be_visible(timeout=WAIT)
    page.get_by_test_id("channel-support").click()
    expect(page.get_by_text("No tickets yet")).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("message")).to_have_count(0)
    assert problems == []


def test_the_api_docs_work_without_reaching_another_host(context, helpdesk, artifacts):
    page, problems = open_page(context, helpdesk)
    elsewhere: list[str] = []

    def local_only(route) -> None:
        if route.request.url.startswith(f"http://127.0.0.1:{helpdesk.http_port}/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"http://127.0.0.1:{helpdesk.http_port}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("helpdesk-bot", timeout=WAIT)
    expect(page.get_by_text("/chat/api/conversations").first).to_be_visible()
    page.screenshot(path=artifacts / "sandbox-api-docs.png")
    assert elsewhere == [] and problems == []
