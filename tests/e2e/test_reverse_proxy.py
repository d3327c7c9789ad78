"""Whose X-Forwarded-For counts, as docs/operations.md describes it: a proxy on loopback by
default, the addresses in uvicorn's FORWARDED_ALLOW_IPS when that is set. Seen through the
chat's per-address limit, which the client address decides."""

from __future__ import annotations

import pytest

from bot.config import ChatPolicy, Policy
from bot.devtools.fake_slack import FakeSlack
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import CHANNEL, running_helpdesk


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


ONE_CONVERSATION_PER_ADDRESS = Policy(chat=ChatPolicy(ip_conversations_per_hour=1))


def statuses_of_two_visitors_behind_one_proxy(database_url: str) -> list[int]:
    """Two visitors, each starting a conversation through a proxy on 127.0.0.1 that names
    them in X-Forwarded-For."""
    with (
        FakeSlack() as slack,
        running_helpdesk(database_url, slack, ONE_CONVERSATION_PER_ADDRESS) as helpdesk,
    ):
        slack.add_channel(CHANNEL, "support")
        return [
            ChatVisitor(helpdesk.http_port, ip=ip).start().status
            for ip in ("203.0.113.7", "198.51.100.2")
        ]


def test_a_proxy_on_loopback_is_believed_by_default(database_url, monkeypatch):
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert statuses_of_two_visitors_behind_one_proxy(database_url) == [201, 201]


def test_with_forwarded_allow_ips_only_those_proxies_are_believed(database_url, monkeypatch):
    # deploy/compose.yml's value. Loopback is no longer trusted: both visitors are 127.0.0.1
    # and share its one conversation.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "172.30.57.1")
    assert statuses_of_two_visitors_behind_one_proxy(database_url) == [201, 429]
