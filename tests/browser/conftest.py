"""Real-browser tests: Debian's Chromium, driven by Playwright, against the real helpdesk.

The helpdesk runs in-process on SQLite with a fake Slack; a "shop" page is served from a
second loopback origin so the widget's cross-origin requests really go through CORS.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.config import ChatPolicy, Policy
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Ticket
from tests.e2e.harness import (
    CHANNEL,
    SlackAgent,
    eventually,
    staffed_helpdesk,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AWAY_DAY = (datetime.now(UTC).weekday() + 3) % 7  # the only open day: never today, in UTC


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it; a skip there would hide the widget's tests
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # a loaded CI machine; expect() returns once true
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go, for a person (or CI's artefact upload) to look at."""
    folder = Path(os.environ.get("HELPDESK_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Shop:
    """A storefront on its own origin, serving one page: the test sets its HTML."""

    def __init__(self):
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path.split("?")[0] == "/"
                body = shop.html.encode() if found else b"not found"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                pass

        self.html = ""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.url = self.origin + "/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Shop:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


class ChatDesk:
    """The running helpdesk, and an agent acting on chat tickets as Slack would."""

    def __init__(self, helpdesk, slack: FakeSlack):
        self.helpdesk, self.slack = helpdesk, slack
        self.url = f"http://127.0.0.1:{helpdesk.http_port}"
        self.agent = SlackAgent(helpdesk.http_port, slack)

    def ticket(self, timeout: float = 15) -> Ticket:
        """The one ticket, once it has its Slack thread."""

        def posted() -> Ticket | None:
            with Session(self.helpdesk.engine) as session:
                ticket = session.exec(select(Ticket)).first()
                return ticket if ticket and ticket.thread_ts else None

        assert eventually(posted, timeout=timeout), "no ticket with a Slack thread"
        return posted()

    def thread_texts(self, root_ts: str) -> list[str]:
        return [m["text"] for m in self.slack.thread(CHANNEL, root_ts)[1:]]

    def wait_for_reply_in_thread(self, root_ts: str, text: str, timeout: float = 15) -> None:
        self.slack.wait_for(
            lambda: any(text in t for t in self.thread_texts(root_ts)), timeout=timeout
        )

    def reply(self, text: str) -> None:
        """Answers the ticket with the Reply modal, as an agent in Slack does."""
        ticket = self.ticket()
        self.agent.reply(ticket.id, ticket.thread_ts, text)


@pytest.fixture
def shop() -> Iterator[Shop]:
    with Shop() as shop:
        yield shop


@pytest.fixture
def chat_policy(request, shop) -> Policy:
    """Open 24/7, the shop allowed. Parametrize (indirect) with "away" for a team that is
    away right now, or "shop not allowed" to leave the shop out of chat.allowed_origins."""
    chat = ChatPolicy(allowed_origins=[shop.origin])
    if getattr(request, "param", None) == "away":
        return Policy(business_hours={DAYS[AWAY_DAY]: "09:00-10:00"}, chat=chat)
    if getattr(request, "param", None) == "shop not allowed":
        return Policy(chat=ChatPolicy(allowed_origins=[]))
    return Policy(chat=chat)


@pytest.fixture
def desk(tmp_path, chat_policy) -> Iterator[ChatDesk]:
    # SQLite only: a browser test is slow, and the API's own tests cover both databases.
    database = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    with staffed_helpdesk(database, chat_policy) as (helpdesk, slack, _):
        yield ChatDesk(helpdesk, slack)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def context(request, browser, artifacts):
    """A fresh browser profile (its own localStorage) at a desktop size."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.set_default_timeout(10_000)
    yield context
    if getattr(request.node, "browser_test_failed", False):
        # What the browser showed when the test failed, for whoever reads the CI log.
        for number, page in enumerate(context.pages):
            page.screenshot(path=artifacts / f"failed-{request.node.name}-{number}.png")
    context.close()
