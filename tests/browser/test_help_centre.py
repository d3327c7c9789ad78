"""The help centre in a real browser: reached from the chat widget's header, searched with its
form and read with scripting of no use (there is none), hostile articles harmless."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bot.config import ChatPolicy, KbPolicy, Policy
from tests.browser.test_chat_widget import open_shop

HOSTILE = (
    '---\ntitle: "Sizes <img src=x onerror=alert(1)>"\n---\n'
    "<script>alert('markdown')</script>\n\n[click me](javascript:alert(2))\n\n"
    "Our **parcel** sizes run small.\n"
)


@pytest.fixture
def chat_policy(shop, tmp_path) -> Policy:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "sizes.md").write_text(HOSTILE)
    (folder / "lost-parcel.md").write_text(
        "---\ntitle: My parcel never arrived\n---\nAfter 10 days we send a new **parcel**.\n"
    )
    return Policy(
        chat=ChatPolicy(allowed_origins=[shop.origin], color="#5b3cc4"),
        kb=KbPolicy(path=folder, name="Acme shop"),
    )


def test_from_the_widget_to_an_article_by_search_with_no_script_run(context, shop, desk, artifacts):
    page, dialogs = open_shop(context, shop, desk)
    page.get_by_test_id("launcher").click()
    link = page.get_by_test_id("help")
    # HELPDESK_PUBLIC_URL's default: the address customers are sent to.
    expect(link).to_have_attribute("href", "http://localhost:3000/help/")
    help_page = context.new_page()
    help_page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    help_page.goto(f"{desk.url}/help/")
    expect(help_page.get_by_role("heading", name="How can we help?")).to_be_visible()
    help_page.keyboard.press("Tab")
    expect(help_page.get_by_role("link", name="Skip to content")).to_be_focused()
    help_page.get_by_label("Search the help centre").fill("parcel")
    help_page.keyboard.press("Enter")
    expect(help_page.locator("mark").first).to_have_text("parcel")
    help_page.screenshot(path=artifacts / "help-centre-search.png")
    help_page.get_by_role("link", name="Sizes <img src=x onerror=alert(1)>").click()
    expect(help_page.get_by_role("heading", level=1)).to_have_text(
        "Sizes <img src=x onerror=alert(1)>"
    )
    expect(help_page.get_by_role("link", name="click me")).to_have_count(0)
    help_page.screenshot(path=artifacts / "help-centre-article.png")
    assert dialogs == []
