"""Sandbox mode through its HTTP API: the page's calls become Slack's signed requests to the
real helpdesk, and its mail reaches the mail catcher. (tests/browser drives the page itself.)"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from bot.app import Helpdesk
from bot.config import Policy, Settings, load_policy
from bot.sandbox.demo_data import SAVED_REPLIES
from bot.sandbox.routes import STATIC
from bot.sandbox.workspace import (
    DEMO_POLICY,
    ESCALATION_CHANNEL,
    SUPPORT_CHANNEL,
    Sandbox,
    sandbox_policy,
)
from bot.storage.models import SavedReply, Ticket
from bot.views import ids
from tests.conftest import free_port
from tests.e2e.harness import eventually, running_sandbox


class Page:
    """What the sandbox page sends, over HTTP."""

    def __init__(self, helpdesk: Helpdesk, sandbox: Sandbox):
        self.helpdesk = helpdesk
        self.port = helpdesk.http_port
        self.base = f"http://127.0.0.1:{self.port}/sandbox/api"
        self.sandbox = sandbox

    def call(self, path: str, body: dict | None = None, headers: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        own = {"Content-Type": "application/json", "X-Sandbox": "1"}  # as the page's api.js sends
        return self.send(path, data, {**own, **(headers or {})})

    def send(self, path: str, data: bytes | None, headers: dict[str, str]):
        request = urllib.request.Request(self.base + path, data, headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read())

    def state(self, after: int = 0) -> dict:
        status, state = self.call(f"/state?after={after}")
        assert status == 200, state
        return state


def support_threads(state: dict) -> list[dict]:
    return next(c for c in state["channels"] if c["id"] == SUPPORT_CHANNEL)["messages"]


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "")}
    raise AssertionError(f"no {action_id} button in {message['blocks']}")


@pytest.fixture
def page(tmp_path) -> Iterator[Page]:
    with running_sandbox(tmp_path) as (helpdesk, sandbox):
        yield Page(helpdesk, sandbox)


def test_sample_email_reply_and_escalation_through_the_page_api(page):
    status, sent = page.call("/sample-email", {})
    assert (status, sent["code"]) == (200, 250)
    assert eventually(lambda: support_threads(page.state()))
    root = support_threads(page.state())[0]
    assert root["text"].startswith("#1 ")

    # The demo shop knows Jane: her orders join the thread.
    def shop_context() -> list[str]:
        replies = support_threads(page.state())[0]["replies"]
        return [r["text"] for r in replies if r["text"].startswith("Shopify:")]

    assert eventually(shop_context, timeout=15)
    assert shop_context() == ["Shopify: Jane Doe, 3 orders, 102.00 USD spent"]
    # Over the demo policy's VIP spend: her ticket is starred and raised to high priority.
    assert eventually(lambda: ":star: *VIP*" in json.dumps(support_threads(page.state())[0]))
    assert "*Priority*\\nHigh" in json.dumps(support_threads(page.state())[0]["blocks"])
    # The demo policy's first rule tags it, and says so in the thread.
    assert eventually(
        lambda: any(
            r["text"] == ":gear: tagged *order-status* by rule *Order status*"
            for r in support_threads(page.state())[0]["replies"]
        )
    )
    # The demo's default pool hands it to you, first in turn.
    assert eventually(lambda: "<@U0SANDBOX>" in json.dumps(support_threads(page.state())[0]))

    reply = button(root, ids.TICKET_REPLY)
    action = {"action_id": reply["action_id"], "block_id": reply["block_id"],
              "type": "button", "value": reply["value"]}  # fmt: skip
    assert page.call("/actions", {"channel": SUPPORT_CHANNEL, "message_ts": root["ts"],
                                  "action": action}) == (200, {"ok": True})  # fmt: skip
    assert eventually(lambda: page.state()["view"] is not None)
    view = page.state()["view"]
    assert view["callback_id"] == ids.REPLY_MODAL
    answer = next(
        b for b in view["blocks"] if b.get("element", {}).get("action_id") == ids.REPLY_ANSWER
    )

    empty = {answer["block_id"]: {ids.REPLY_ANSWER: {"type": "plain_text_input", "value": "  "}}}
    status, refused = page.call("/submit", {"view_id": view["id"], "values": empty})
    assert status == 200 and answer["block_id"] in refused["errors"]
    assert page.state()["view"]["id"] == view["id"]  # still open, as Slack keeps it

    typed = {answer["block_id"]: {ids.REPLY_ANSWER: {"type": "plain_text_input",
                                                     "value": "It ships today <b>!"}}}  # fmt: skip
    assert page.call("/submit", {"view_id": view["id"], "values": typed}) == (200, {"ok": True})
    assert page.state()["view"] is None

    def answered() -> list[dict]:
        return [m for m in page.state()["mail"] if "It ships today" in m["text"]]

    assert eventually(answered, timeout=15)
    mail = answered()[0]
    # The demo policy acknowledges new email tickets: Jane got one before the answer.
    assert [m for m in page.state()["mail"] if "Your request is ticket #1" in m["text"]]
    assert mail["to"] == ["jane@customer.example"]
    assert mail["subject"] == "Re: Where is my order?"
    assert mail["in_reply_to"] and "It ships today <b>!" in mail["text"]

    note = {"channel": SUPPORT_CHANNEL, "thread_ts": root["ts"], "text": "checked the warehouse"}
    status, written = page.call("/messages", note)
    assert status == 200 and written["ts"]

    status, escalation = page.call("/commands", {"command": "/escalate",
                                                 "text": "#1 needs a refund",
                                                 "channel": SUPPORT_CHANNEL})  # fmt: skip
    assert status == 200, escalation

    def escalated() -> list[dict]:
        return next(c for c in page.state()["channels"] if c["id"] == ESCALATION_CHANNEL)[
            "messages"
        ]

    assert eventually(escalated, timeout=15)
    assert "#1" in escalated()[0]["text"]
    # The acknowledgement and the answer; the note and the escalation never mail the customer.
    assert len(page.state()["mail"]) == 2


def test_the_digest_is_posted_once_a_day_on_request(page):
    assert page.call("/digest", {}) == (200, {"ok": True})
    digest = next(c for c in page.state()["channels"] if c["name"] == "support-metrics")
    assert eventually(lambda: next(c for c in page.state()["channels"]
                                   if c["id"] == digest["id"])["messages"], timeout=15)  # fmt: skip
    status, again = page.call("/digest", {})
    assert status == 409 and "already" in again["error"]

    def charts() -> list[dict]:
        posted = next(c for c in page.state()["channels"] if c["id"] == digest["id"])["messages"]
        return [f for m in posted for f in m.get("files", [])]

    assert eventually(charts, timeout=15)
    with urllib.request.urlopen(
        page.base.removesuffix("/sandbox/api") + charts()[0]["url"]
    ) as chart:
        assert chart.headers["Content-Type"] == "image/png"
        assert chart.read().startswith(b"\x89PNG")


def test_the_state_long_poll_returns_when_something_changes(page):
    before = page.state()
    assert page.state(after=before["version"] - 1)["version"] == before["version"]
    with ThreadPoolExecutor(1) as waiting:
        # Asked before anything changes: it must hold the answer until the mail comes.
        woken = waiting.submit(page.state, before["version"])
        time.sleep(0.5)
        assert not woken.done()
        page.call("/sample-email", {})
        assert woken.result(timeout=20)["version"] > before["version"]


def test_requests_naming_another_host_are_refused(page):
    status, refused = page.call("/sample-email", {}, headers={"Host": "rebound.example:3000"})
    assert status == 403 and "only on this machine" in refused["error"]
    assert f"http://127.0.0.1:{page.port}/sandbox/" in refused["error"]  # where to go instead
    assert page.sandbox.mail.received == 0 and not support_threads(page.state())


CHANGING = ["/sample-email", "/digest", "/actions", "/submit", "/close", "/options",
            "/messages", "/commands", "/app", "/page-loaded", "/reset"]  # fmt: skip


def test_other_sites_pages_cannot_change_anything(page):
    own = f"http://127.0.0.1:{page.port}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in CHANGING:
        # A form on another site, posted by the visitor's browser: no preflight needed.
        status, refused = page.send(path, b"x=1", {**form, "Origin": "http://evil.example"})
        assert status == 403 and "only the sandbox page may do this" in refused["error"]
        assert f"{own}/sandbox/" in refused["error"]
        # A simple request without the page's header is refused even when naming no origin.
        assert page.send(path, b"{}", {"Content-Type": "text/plain"})[0] == 403
        # The page's header with another origin's name (a preflight would never allow it).
        assert page.call(path, {}, headers={"Origin": "http://evil.example"})[0] == 403
    state = page.state()
    assert page.sandbox.mail.received == 0 and not support_threads(state)
    assert all(not c["messages"] for c in state["channels"])
    assert page.call("/sample-email", {}, headers={"Origin": own})[0] == 200


def test_bad_page_requests_get_a_json_error(page):
    status, answer = page.call("/submit", {"view_id": "V0GONE", "values": {}})
    assert status == 404 and "closed" in answer["error"]
    status, answer = page.call("/submit", {"values": {}})
    assert status == 422 and "view_id" in answer["error"]
    status, answer = page.call("/commands", {"command": "/nope", "channel": SUPPORT_CHANNEL})
    assert status == 400 and "/escalate" in answer["error"]
    status, answer = page.call(
        "/messages", {"channel": SUPPORT_CHANNEL, "thread_ts": "1.2", "text": "x"}
    )
    assert status == 404


def environment(**env: str) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HELPDESK_"))}
    return {**inherited, "HELPDESK_HTTP_PORT": str(free_port()),
            "HELPDESK_SMTP_LISTEN": f"127.0.0.1:{free_port()}", **env}  # fmt: skip


def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *args],
        env=environment(**env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_sandbox_refuses_to_run_beside_real_slack_credentials(tmp_path):
    done = serve("--sandbox", "on", SLACK_BOT_TOKEN="xoxb-1-real", HELPDESK_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN is set" in done.stderr and "--sandbox" in done.stderr


def test_the_sandbox_listens_on_loopback_only(tmp_path):
    done = serve("--sandbox", "on", HELPDESK_HTTP_HOST="0.0.0.0", HELPDESK_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert "HELPDESK_HTTP_HOST='0.0.0.0'" in done.stderr and "127.0.0.1" in done.stderr


def test_a_taken_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = serve("--sandbox", "on", HELPDESK_HTTP_PORT=port, HELPDESK_DATA_DIR=str(tmp_path))
    assert done.returncode == 2
    assert f"HELPDESK_HTTP_PORT={port}" in done.stderr and "taken" in done.stderr


def first_ticket(page: Page) -> dict:
    """Sends a sample email; the root of its thread once the helpdesk posted it."""
    assert page.call("/sample-email", {})[0] == 200
    assert eventually(lambda: support_threads(page.state()))
    return support_threads(page.state())[0]


def open_modal(page: Page, root: dict, action_id: str) -> dict:
    """Clicks the root's button; the modal the helpdesk opened."""
    pressed = button(root, action_id)
    action = {"action_id": action_id, "block_id": pressed["block_id"], "type": "button",
              "value": pressed["value"]}  # fmt: skip
    body = {"channel": SUPPORT_CHANNEL, "message_ts": root["ts"], "action": action}
    assert page.call("/actions", body) == (200, {"ok": True})
    assert eventually(lambda: page.state()["view"] is not None)
    return page.state()["view"]


def choices(view: dict, action_id: str) -> list[str]:
    for block in view["blocks"]:
        for element in [block.get("element"), block.get("accessory"), *block.get("elements", [])]:
            if element and element.get("action_id") == action_id:
                return [option["text"]["text"] for option in element["options"]]
    raise AssertionError(f"no {action_id} in {view['blocks']}")


def test_without_a_policy_the_sandbox_shows_sla_clocks_tags_saved_replies_and_tiers(page):
    channels = {c["name"]: c for c in page.state()["channels"]}
    assert channels["escalations"]["purpose"] == "Tickets escalated to Tier 2"
    assert channels["managers"]["purpose"] == "Tickets escalated to Managers"
    root = first_ticket(page)
    assert ":stopwatch: First response due" in json.dumps(root["blocks"])

    tags = choices(open_modal(page, root, ids.TICKET_TAG), ids.TAG_PICK)
    assert {"refund", "shipping", "wrong-item"} <= set(tags)
    page.call("/close", {"view_id": page.state()["view"]["id"]})
    saved = choices(open_modal(page, root, ids.TICKET_REPLY), ids.REPLY_SAVED_PICK)
    assert saved == sorted(title for title, _ in SAVED_REPLIES)
    page.call("/close", {"view_id": page.state()["view"]["id"]})
    tiers = choices(open_modal(page, root, ids.TICKET_ESCALATE), ids.ESCALATION_TIER)
    assert tiers[1:] == ["Tier 2", "Managers"]
    # Surveys are on, signed with a key of this run's own.
    assert page.sandbox.policy.csat.enabled and page.helpdesk.settings.helpdesk_secret_key


def test_the_demo_policy_warns_and_breaches_within_minutes():
    policy = load_policy(DEMO_POLICY)  # valid, as HELPDESK_CONFIG would load it
    assert policy.business_hours == {"mon-sun": "00:00-24:00"}  # any time of day or week
    normal = policy.sla.normal
    assert normal.first_response.total_seconds() <= 5 * 60
    assert normal.first_response * policy.sla.warn_at >= 2 * policy.sla.sweep_every
    assert [t.channel for t in policy.escalation.tiers] == [ESCALATION_CHANNEL, "C0MANAGERS"]
    assert policy.csat.enabled and policy.tags


def test_a_policy_named_by_helpdesk_config_replaces_the_demo(tmp_path):
    own = Policy(tags=["mine"])
    named = Settings(_env_file=None, helpdesk_config=tmp_path / "my-policy.yml")
    assert sandbox_policy(named, own) is own
    assert sandbox_policy(Settings(_env_file=None), own) == load_policy(DEMO_POLICY)


def test_the_app_home_and_its_direct_messages_reach_the_page(page):
    assert page.call("/app", {"tab": "home"}) == (200, {"ok": True})
    assert eventually(lambda: page.state()["home"])
    home = page.state()["home"]
    assert "Your open tickets" in json.dumps(home["blocks"])
    saved = button(home, ids.HOME_SAVED_REPLIES)
    action = {"action_id": ids.HOME_SAVED_REPLIES, "block_id": saved["block_id"],
              "type": "button", "value": saved["value"]}  # fmt: skip
    assert page.call("/actions", {"view_id": home["id"], "action": action}) == (200, {"ok": True})
    assert eventually(lambda: page.state()["view"])
    listed = json.dumps(page.state()["view"])
    assert all(title in listed for title, _ in SAVED_REPLIES)

    first_ticket(page)
    for _ in range(2):  # to Tier 2, then to Managers, whose tier tells you in a DM
        answer = page.call("/commands", {"command": "/escalate", "text": "#1 refund",
                                         "channel": SUPPORT_CHANNEL})  # fmt: skip
        assert answer[0] == 200, answer

    def direct_messages() -> list[dict]:
        [dm] = [c for c in page.state()["channels"] if c["dm_user"] == page.sandbox.you]
        return dm["messages"]

    def told(words: str) -> list[str]:
        return [m["text"] for m in direct_messages() if words in m["text"]]

    # The demo's default pool gave you ticket #1; then the Managers tier told you of it.
    assert eventually(lambda: told("Managers"), timeout=15)
    assert "#1" in told("Managers")[0]
    assert eventually(lambda: told("was assigned to you automatically by rule *default pool*"))


def test_a_reloaded_page_leaves_no_modal_open(page):
    open_modal(page, first_ticket(page), ids.TICKET_REPLY)
    assert page.call("/page-loaded", {}) == (200, {"ok": True})
    assert page.state()["view"] is None


def test_reset_starts_over_with_a_fresh_workspace_and_database(page):
    root = first_ticket(page)
    open_modal(page, root, ids.TICKET_REPLY)
    page.call("/messages", {"channel": SUPPORT_CHANNEL, "thread_ts": root["ts"], "text": "note"})
    # The demo acknowledges the ticket by mail: let it land before starting over.
    assert eventually(lambda: page.state()["mail"], timeout=15)
    before = page.state()

    assert page.call("/reset", {}) == (200, {"ok": True})
    after = page.state()
    assert after["version"] > before["version"]  # open pages see the change
    assert after["view"] is None and after["mail"] == []
    assert all(not c["messages"] for c in after["channels"])
    assert [c["name"] for c in after["channels"]] == [c["name"] for c in before["channels"]]
    with Session(page.helpdesk.engine) as session:
        assert session.exec(select(Ticket)).all() == []
        assert len(session.exec(select(SavedReply)).all()) == len(SAVED_REPLIES)
    assert first_ticket(page)["text"].startswith("#1 ")  # numbering starts again too


def test_a_second_sandbox_touches_nothing_of_the_running_one(tmp_path):
    port = str(free_port())
    first = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--sandbox", "on"],
        env=environment(HELPDESK_HTTP_PORT=port, HELPDESK_DATA_DIR=str(tmp_path)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/sandbox/api"

    def call(path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-Sandbox": "1"}
        with urllib.request.urlopen(urllib.request.Request(base + path, data, headers)) as answer:
            return json.loads(answer.read())

    def started() -> bool:
        try:
            return bool(call("/state"))
        except OSError:
            return False

    def tickets() -> list[dict]:
        support = next(c for c in call("/state")["channels"] if c["name"] == "support")
        return support["messages"]

    try:
        assert eventually(started, timeout=60)
        call("/sample-email", {})
        assert eventually(tickets, timeout=15)
        database = tmp_path / "sandbox" / "helpdesk.db"
        before = database.stat().st_ino

        # Same data directory and the same port: it used to delete the database, then fail.
        second = serve("--sandbox", "on", HELPDESK_HTTP_PORT=port, HELPDESK_DATA_DIR=str(tmp_path))
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"error: another sandbox (process {first.pid}) is running with "
            f"{tmp_path / 'sandbox'}: use that one, stop it first, or give this one its own "
            "HELPDESK_DATA_DIR"
        ]
        assert database.stat().st_ino == before
        assert tickets()[0]["text"].startswith("#1 ")  # the first one's ticket, still there
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)


PAGES = ["/sandbox/", "/sandbox/static/shop.html", "/chat/", "/docs"]


def test_no_page_of_the_sandbox_loads_anything_from_another_host(page):
    """Nothing leaves this machine: not even the API docs' Swagger UI comes from a CDN."""
    own = f"127.0.0.1:{page.port}"
    assert page.state()["links"]["docs"] == "/docs"
    for path in PAGES:
        with urllib.request.urlopen(f"http://{own}{path}") as answer:
            html = answer.read().decode()
        referenced = re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", html)
        assert referenced, path
        for reference in referenced:
            address = urllib.parse.urlsplit(urllib.parse.urljoin(f"http://{own}{path}", reference))
            if address.scheme in ("data", "mailto"):
                continue
            assert address.netloc == own, f"{path} loads {reference}"
            if reference.endswith((".js", ".css", ".png")):
                with urllib.request.urlopen(address.geturl()) as asset:
                    assert asset.status == 200, reference


def test_the_page_script_is_es_modules_served_as_javascript_and_each_one_used(page):
    """Browsers run a module only when it comes as JavaScript; a module nothing imports is
    dead code. Follows the imports from the page's entry script, over HTTP."""
    own = f"http://127.0.0.1:{page.port}"
    with urllib.request.urlopen(f"{own}/sandbox/") as answer:
        html = answer.read().decode()
    entries = re.findall(r'<script type="module" src="([^"]+)"></script>', html)
    assert entries == ["/sandbox/static/sandbox.js"]
    seen: set[str] = set()
    waiting = list(entries)
    while waiting:
        address = waiting.pop()
        if address in seen:
            continue
        seen.add(address)
        with urllib.request.urlopen(own + address) as asset:
            assert asset.headers["Content-Type"].startswith("text/javascript"), address
            script = asset.read().decode()
        imported = re.findall(r'^import [^;]*? from "(\./[\w]+\.js)";$', script, re.M)
        waiting += [urllib.parse.urljoin(address, name) for name in imported]
    assert {address.rsplit("/", 1)[1] for address in seen} == {
        path.name for path in STATIC.glob("*.js")
    }


def test_the_sandbox_suggests_and_drafts_with_its_stand_in_model(page):
    assert page.call("/sample-email", {})[0] == 200
    assert eventually(lambda: support_threads(page.state()))

    def replies() -> str:
        return json.dumps(support_threads(page.state())[0]["replies"])

    assert eventually(lambda: "AI assistant suggests" in replies(), timeout=15)
    root = support_threads(page.state())[0]
    reply = button(root, ids.TICKET_REPLY)
    action = {"action_id": reply["action_id"], "block_id": reply["block_id"],
              "type": "button", "value": reply["value"]}  # fmt: skip
    page.call("/actions", {"channel": SUPPORT_CHANNEL, "message_ts": root["ts"], "action": action})
    assert eventually(lambda: page.state()["view"] is not None)
    view = page.state()["view"]
    draft = button(view, ids.REPLY_DRAFT)
    click = {"action_id": ids.REPLY_DRAFT, "block_id": draft["block_id"], "type": "button",
             "value": draft["value"]}  # fmt: skip
    assert page.call("/actions", {"view_id": view["id"], "action": click}) == (200, {"ok": True})

    def answer() -> str:
        shown = page.state()["view"]
        boxes = [
            b for b in shown["blocks"] if b.get("element", {}).get("action_id") == ids.REPLY_ANSWER
        ]
        return boxes[0]["element"].get("initial_value", "")

    assert eventually(lambda: answer().startswith("Hi Jane,"), timeout=15)
    assert "Order #1004" in answer()  # her newest own order, from the demo shop
    assert eventually(lambda: "had a reply drafted" in replies(), timeout=15)
