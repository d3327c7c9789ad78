"""Files attached to a reply are fetched with the bot token only from Slack's file host.

`files.info` names the download address. An answer naming another host, a `file:` URL or a
redirect elsewhere must not receive the token or be read: the reply fails in the thread with
the reason and its Retry button, and nothing is mailed.
"""

from __future__ import annotations

import json
import tempfile
from email.message import Message
from pathlib import Path

import pytest

from bot.devtools.loopback import LoopbackService
from bot.views import ids
from tests.e2e.harness import AGENT, CHANNEL, answer_values, eventually, staffed_helpdesk
from tests.e2e.test_agent_workflow import Desk


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


class Elsewhere(LoopbackService):
    """Another server on loopback that notes what each request brought."""

    def __init__(self):
        self._address = ("127.0.0.1", 0)
        self.authorizations: list[str | None] = []

    def _respond(self, method: str, path: str, headers: Message, body: bytes):
        self.authorizations.append(headers.get("Authorization"))
        return 200, {"Content-Type": "application/octet-stream"}, b"not the agent's file"

    @property
    def url(self) -> str:
        return f"{self._origin}/label.png"


@pytest.fixture
def desk(database_url):
    with staffed_helpdesk(database_url) as (helpdesk, slack, sink):
        yield Desk(helpdesk, slack, sink)


def send_reply_with(desk: Desk, shared: dict) -> None:
    desk.click(ids.TICKET_REPLY)
    view = desk.opened_view()
    values = answer_values(view, "Here is your return label.")
    values[ids.REPLY_FILES_BLOCK] = {ids.REPLY_FILES: {"type": "file_input", "files": [shared]}}
    assert desk.submit(view, values).status == 200


def refused_reply_with(desk: Desk, shared: dict) -> str:
    """Sends a reply with the file attached; the thread's copy of it once it failed."""
    send_reply_with(desk, shared)
    assert eventually(lambda: "Not delivered" in desk.thread_texts()[-1], timeout=15)
    desk.wait_for_outbox()
    return json.dumps(desk.slack.thread(CHANNEL, desk.root_ts)[-1])


@pytest.mark.parametrize(
    ("misdirection", "reason"),
    [
        ("url", "label.png was not fetched: its address (http://127.0.0.1) is not Slack's"),
        ("redirect_to", "label.png was not fetched: its download was redirected to another host"),
    ],
)
def test_another_host_gets_no_token_whether_named_or_redirected_to(desk, misdirection, reason):
    with Elsewhere() as elsewhere:
        shared = desk.slack.add_file("label.png", b"label", AGENT["id"])
        desk.slack.misdirect_file(shared["id"], **{misdirection: elsewhere.url})
        posted = refused_reply_with(desk, shared)
        assert elsewhere.authorizations == []
    assert reason in posted and ids.REPLY_RETRY in posted
    assert desk.sink.messages == []


def test_a_file_url_is_never_read(desk):
    secret = Path(tempfile.mkdtemp()) / "secret.txt"
    secret.write_text("the server's own secrets")
    shared = desk.slack.add_file("label.png", b"label", AGENT["id"])
    desk.slack.misdirect_file(shared["id"], url=secret.as_uri())
    posted = refused_reply_with(desk, shared)
    assert "label.png was not fetched: its address (file://) is not Slack" in posted
    assert desk.sink.messages == []


def test_a_redirect_within_slack_is_followed(desk):
    label = desk.slack.add_file("label.png", b"the label itself", AGENT["id"])
    moved = desk.slack.add_file("label.png", b"", AGENT["id"])
    desk.slack.misdirect_file(moved["id"], redirect_to=label["url_private_download"])
    send_reply_with(desk, moved)
    assert eventually(lambda: len(desk.sink.messages) == 1, timeout=15)
    [attachment] = list(desk.sink.parsed()[0].iter_attachments())
    assert attachment.get_content() == b"the label itself"


def test_a_redirect_loop_within_slack_is_followed_a_few_times_only(desk):
    looping = desk.slack.add_file("label.png", b"", AGENT["id"])
    desk.slack.misdirect_file(looping["id"], redirect_to=looping["url_private_download"])
    posted = refused_reply_with(desk, looping)
    assert "label.png: Slack redirected its download too often" in posted
    assert desk.sink.messages == []
