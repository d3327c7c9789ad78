"""The knowledge base end to end, on SQLite and PostgreSQL (their searches differ): the help
centre over real HTTP, App Home's article editing, the Reply modal's suggested articles and
`/helpdesk kb` through signed Slack requests, and the links from the widget's configuration
and the acknowledgement email."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.storage.models import KbArticle
from bot.views import ids
from bot.views.help_centre import safe_link
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    AGENT,
    answer_block,
    eventually,
    running_sandbox,
    staffed_helpdesk,
)
from tests.e2e.test_agent_workflow import Desk
from tests.e2e.test_csat import fetch
from tests.e2e.test_saved_replies_home import Person, latest_view
from tests.unit.test_help_centre_pages import Elements


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


ARTICLES = {
    "lost-parcel.md": "---\ntitle: My parcel never arrived\ntags: [shipping, parcel]\n---\n"
    "If your **parcel** has not arrived after 10 days, we send a new one. "
    "See [tracking](https://track.example/) too.\n",
    "returns.md": "---\ntitle: Returns and refunds\ntags: [returns, refund]\n---\n"
    "Return anything within 30 days for a full refund.\n",
    "refund-approvals.md": "---\ntitle: Refund approvals\npublic: false\n---\n"
    "Internal: refunds over 100 need the lead's approval; parcel claims too.\n",
    "hostile.md": '---\ntitle: "<script>alert(1)</script> Sizes"\n---\n'
    "<script>alert('x')</script>\n\n[click](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> [ok](https://ok.example/)\n\nSizes run small.\n",
    "broken.md": "---\ntitle: [unclosed\n---\nThis one is skipped.\n",
}


def knowledge_base(folder: Path) -> Policy:
    for name, text in ARTICLES.items():
        (folder / name).write_text(text)
    # Re-read on every request, so a test sees an edit at once (the default is every 2 s).
    return Policy.model_validate(
        {
            "kb": {"path": str(folder), "name": "Acme Shop", "rescan_every": timedelta(0)},
            "chat": {"color": "#7b1fa2"},
            "acknowledgement": {"enabled": True},
        }
    )


@pytest.fixture
def desk(database_url, tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    with staffed_helpdesk(database_url, knowledge_base(folder)) as (helpdesk, slack, sink):
        yield Desk(helpdesk, slack, sink), folder


def page(desk: Desk, path: str) -> tuple[int, str, dict]:
    status, headers, body = fetch(f"http://127.0.0.1:{desk.helpdesk.http_port}{path}")
    return status, body, headers


@ON_BOTH_DATABASES
def test_the_help_centre_lists_searches_and_shows_public_articles_only(desk):
    desk, _ = desk
    status, body, headers = page(desk, "/help/")
    assert status == 200 and "Acme Shop" in body and "#7b1fa2" in body
    assert "script-src" not in headers["Content-Security-Policy"]
    assert 'href="lost-parcel"' in body and 'href="returns"' in body
    assert "refund-approvals" not in body and "Refund approvals" not in body
    assert "broken" not in body  # skipped, the rest loaded

    status, body, _ = page(desk, "/help/?q=parcel")
    assert status == 200
    assert 'href="lost-parcel"' in body and "<mark>parcel</mark>" in body
    assert "refund-approvals" not in body  # private articles are never found here either

    status, body, _ = page(desk, "/help/lost-parcel")
    assert status == 200 and "<strong>parcel</strong>" in body
    assert '<a href="https://track.example/"' in body
    for private in ("/help/refund-approvals", "/help/nothing-here", "/help/broken"):
        status, body, _ = page(desk, private)
        assert status == 404 and "Internal" not in body
    assert page(desk, "/help")[0] == 200  # redirected to /help/


@ON_BOTH_DATABASES
def test_hostile_articles_and_queries_are_served_safely(desk):
    desk, _ = desk
    status, body, _ = page(desk, "/help/hostile")
    assert status == 200
    assert_harmless(body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Sizes" in body
    assert '<a href="https://ok.example/"' in body
    for query in ('"); DROP TABLE kb_articles; --', "&|!:*()'\"<>", "x" * 5000, "parcel " * 900):
        status, body, _ = page(desk, f"/help/?q={quote(query)}")
        assert status == 200, query
        assert_harmless(body)
    assert "<mark>parcel</mark>" in page(desk, f"/help/?q={quote('parcel ' * 900)}")[1]


def assert_harmless(page: str) -> None:
    """No element a browser would run or that runs something: no script, no handler, no
    script address."""
    elements = Elements()
    elements.feed(page)
    assert "script" not in {tag for tag, _ in elements.seen}
    for _, attributes in elements.seen:
        assert not [name for name, _ in attributes if name.startswith("on")]
        addresses = [value for name, value in attributes if name in ("href", "src", "action")]
        assert all(safe_link(address) for address in addresses), addresses


def test_a_changed_file_is_read_again_and_a_deleted_one_goes(desk):
    desk, folder = desk
    (folder / "returns.md").write_text("---\ntitle: Returns within 60 days\n---\nSixty days.\n")
    # A new time and size: the scan re-reads only this file.
    stat = (folder / "returns.md").stat()
    os.utime(folder / "returns.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "Returns within 60 days" in page(desk, "/help/returns")[1]
    (folder / "lost-parcel.md").unlink()
    assert page(desk, "/help/lost-parcel")[0] == 404
    assert "lost-parcel" not in page(desk, "/help/?q=parcel")[1]


def test_the_widget_and_the_acknowledgement_link_the_help_centre(desk):
    desk, _ = desk
    status, body, _ = page(desk, "/chat/api/config")
    assert status == 200
    assert json.loads(body)["help_url"] == "http://localhost:3000/help/"
    # The Desk fixture's mail opened a ticket: its acknowledgement names the help centre.
    assert eventually(lambda: len(desk.sink.parsed()) >= 1)
    acknowledgement = desk.sink.parsed()[0].get_body(("plain",)).get_content()
    assert "our help centre: http://localhost:3000/help/" in acknowledgement


def test_app_home_lists_opens_creates_and_edits_articles(desk):
    desk, folder = desk
    agent = Person(desk.helpdesk)
    agent.open_home()
    assert eventually(lambda: ids.HOME_KB in json.dumps(desk.slack.home_view(AGENT["id"])))
    agent.click({"id": "V0HOME"}, {"type": "button", "action_id": ids.HOME_KB, "value": "open"})
    listing = latest_view(desk.slack, "views.open", 1)
    shown = json.dumps(listing["blocks"])
    assert "Refund approvals" in shown and "_private_" in shown and "broken.md" in shown

    menu = {"type": "overflow", "action_id": f"{ids.KB_ARTICLE_MENU}-0"}
    agent.click(listing, {**menu, "selected_option": {"value": "open:lost-parcel"}})
    opened = latest_view(desk.slack, "views.push", 1)
    assert opened["callback_id"] == ids.KB_ARTICLE_MODAL
    assert "http://localhost:3000/help/lost-parcel" in json.dumps(opened["blocks"])

    agent.click(listing, {"type": "button", "action_id": ids.KB_NEW, "value": "new"})
    form = latest_view(desk.slack, "views.push", 2)
    assert form["callback_id"] == ids.KB_EDIT_MODAL
    refused = submit_article(agent, form, "   ", "x")
    assert refused["response_action"] == "errors" and ids.KB_TITLE_BLOCK in refused["errors"]
    assert submit_article(agent, form, "Gift cards & vouchers", "Gift cards never expire.") is None
    written = (folder / "gift-cards-vouchers.md").read_text()
    assert written.startswith("---\ntitle: Gift cards & vouchers\ntags:\n- gifts\n")
    assert written.endswith("---\nGift cards never expire.\n")
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left
    assert "<h1>Gift cards &amp; vouchers</h1>" in page(desk, "/help/gift-cards-vouchers")[1]
    listing = latest_view(desk.slack, "views.update", 1)
    assert "Gift cards" in json.dumps(listing["blocks"])

    agent.click(listing, {**menu, "selected_option": {"value": "edit:gift-cards-vouchers"}})
    form = latest_view(desk.slack, "views.push", 3)
    assert "Gift cards never expire." in json.dumps(form["blocks"])
    assert submit_article(agent, form, "Gift cards", "Valid for five years.", public=False) is None
    assert "public: false" in (folder / "gift-cards-vouchers.md").read_text()
    assert page(desk, "/help/gift-cards-vouchers")[0] == 404
    with Session(desk.helpdesk.engine) as session:
        row = session.exec(select(KbArticle).where(KbArticle.slug == "gift-cards-vouchers")).one()
        assert (row.title, row.public, row.body) == ("Gift cards", False, "Valid for five years.")

    # The same form again, after the file changed under it: refused, nothing overwritten.
    (folder / "gift-cards-vouchers.md").write_text("---\ntitle: Edited by hand\n---\nHand.\n")
    stale = submit_article(agent, form, "Gift cards", "Stale text.")
    assert "changed this article since you opened it" in stale["errors"][ids.KB_BODY_BLOCK]
    assert "Edited by hand" in (folder / "gift-cards-vouchers.md").read_text()


def submit_article(agent: Person, form: dict, title: str, body: str, public: bool = True):
    checked = [{"value": "public"}] if public else []
    values = {
        ids.KB_TITLE_BLOCK: {ids.KB_TITLE: {"type": "plain_text_input", "value": title}},
        ids.KB_TAGS_BLOCK: {ids.KB_TAGS: {"type": "plain_text_input", "value": "gifts, "}},
        ids.KB_PUBLIC_BLOCK: {ids.KB_PUBLIC: {"type": "checkboxes", "selected_options": checked}},
        ids.KB_BODY_BLOCK: {ids.KB_BODY: {"type": "plain_text_input", "value": body}},
    }
    payload = {
        **agent._envelope("view_submission"),
        "view": {**form, "state": {"values": values}},
        "response_urls": [],
    }
    response = agent.sender.send_interaction(payload)
    assert response.status == 200, response.body
    return response.json() if response.body else None


@ON_BOTH_DATABASES
def test_the_reply_modal_suggests_articles_and_inserts_a_link_or_the_text(desk):
    desk, _ = desk
    opened = len(desk.slack.calls("views.open"))
    assert desk.click(ids.TICKET_REPLY).status == 200
    view = desk.agent.opened_view(after=opened)
    shown = json.dumps(view["blocks"])
    # Jane wrote "my parcel never came": the parcel articles, the private one as text only.
    assert "Suggested articles" in shown and "My parcel never arrived" in shown
    suggestions = [b for b in view["blocks"] if b.get("accessory", {}).get("type") == "overflow"]
    assert 1 <= len(suggestions) <= 3
    menus = {
        re.sub(r"\*", "", b["text"]["text"]).split("\n")[0]: b["accessory"] for b in suggestions
    }
    public = menus["My parcel never arrived"]
    assert [o["value"] for o in public["options"]] == ["link:lost-parcel", "text:lost-parcel"]
    if "Refund approvals (_private_)" in menus:
        private = menus["Refund approvals (_private_)"]
        assert [o["value"] for o in private["options"]] == ["text:refund-approvals"]

    typed = {answer_block(view)["block_id"]: {ids.REPLY_ANSWER: {"value": "Hi Jane,"}}}
    insert(desk, view, public["action_id"], "link:lost-parcel", typed)
    answer = answer_block(desk.slack.view(view["id"]))
    assert answer["element"]["initial_value"] == (
        "Hi Jane,\n\nMy parcel never arrived: http://localhost:3000/help/lost-parcel"
    )
    # A forged link to a private article inserts nothing; the text goes in.
    view = desk.slack.view(view["id"])
    typed = {answer_block(view)["block_id"]: {ids.REPLY_ANSWER: {"value": "Hi Jane,"}}}
    before = len(desk.slack.calls("views.update"))
    insert(desk, view, public["action_id"], "link:refund-approvals", typed)
    insert(desk, view, public["action_id"], "text:lost-parcel", typed)
    assert eventually(lambda: len(desk.slack.calls("views.update")) == before + 1)
    answer = answer_block(desk.slack.view(view["id"]))
    assert answer["element"]["initial_value"].startswith("Hi Jane,\n\nIf your **parcel**")


def insert(desk: Desk, view: dict, action_id: str, value: str, typed: dict) -> None:
    count = len(desk.slack.calls("views.update"))
    payload = {
        "type": "block_actions",
        "user": AGENT,
        "team": {"id": "T0FAKE", "domain": "fake"},
        "api_app_id": "A0HELPDESK",
        "trigger_id": "1.2.trigger",
        "container": {"type": "view", "view_id": view["id"]},
        "view": {**view, "state": {"values": typed}},
        "actions": [
            {
                "type": "overflow",
                "action_id": action_id,
                "block_id": "b",
                "selected_option": {"value": value},
                "action_ts": "1700000001.000200",
            }
        ],
    }
    assert desk.sender.send_interaction(payload).status == 200
    if not value.endswith("refund-approvals"):
        desk.slack.wait_for(lambda: len(desk.slack.calls("views.update")) > count, timeout=10)


def test_helpdesk_kb_answers_privately_with_the_best_articles(desk):
    desk, _ = desk
    agent = Person(desk.helpdesk)
    answer = agent.command("kb parcel").json()
    shown = json.dumps(answer)
    assert "<http://localhost:3000/help/lost-parcel|My parcel never arrived>" in shown
    assert "Refund approvals (_private_)" in shown  # agents see private articles, unlinked
    assert "*parcel*" in shown
    assert "Say what to look for" in agent.command("kb").body
    for query in ("&|!:*()'\"<>", "x" * 3000):
        assert "No article matches" in agent.command(f"kb {query}").body
    # Answered in the command's own (private) response: nothing posted to the channel.
    posted = json.dumps([call.args for call in desk.slack.calls("chat.postMessage")])
    assert "lost-parcel" not in posted


def test_a_policy_without_kb_serves_no_help_centre(database_url):
    with staffed_helpdesk(database_url) as (helpdesk, _, _):
        base = f"http://127.0.0.1:{helpdesk.http_port}"
        assert fetch(f"{base}/help/")[0] == 404
        assert json.loads(fetch(f"{base}/chat/api/config")[2])["help_url"] is None


def test_the_sandbox_shows_its_demo_articles(tmp_path):
    with running_sandbox(tmp_path) as (helpdesk, sandbox):
        base = f"http://127.0.0.1:{helpdesk.http_port}/help/"
        status, _, body = fetch(base)
        assert status == 200 and "Sandbox shop" in body
        assert 'href="returns-and-refunds"' in body and "Refund approvals" not in body
        assert (sandbox.data_dir / "kb" / "refund-approvals.md").exists()
        assert "<mark>refund</mark>" in fetch(f"{base}?q=refund")[2]
