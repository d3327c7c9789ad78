"""The outbox worker's background loop: a row in flight holds up only its own ticket (and its
channel's lane of one post at a time), keeps its lease while it is slow, and is never taken
twice. On SQLite with the real Slack deliverers and the fake Slack over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.notices import Notice
from bot.deliverers.slack_posts import slack_deliverers
from bot.delivery.worker import OutboxWorker
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, utcnow
from bot.storage.shared_state import MemoryState
from bot.views.notices import escalation_taken
from tests.e2e.harness import CHANNEL
from tests.unit.outbox_desk import open_ticket, running_desk

OTHER_CHANNEL = "C0RETURNS"
LEASE = timedelta(seconds=1)


@pytest.fixture
def desk(tmp_path) -> Iterator[tuple]:
    with running_desk(tmp_path, OTHER_CHANNEL, lease=LEASE) as desk:
        yield desk


def notice(engine, ticket_id: int, who: str) -> None:
    with transaction(engine) as session:
        outbox.notice(session, ticket_id, Notice.ESCALATION_TAKEN, by=who)


def posted(slack: FakeSlack, who: str) -> bool:
    text = escalation_taken(who)
    return any(r.ok and r.args.get("text") == text for r in slack.calls("chat.postMessage"))


def test_a_slow_row_holds_up_its_ticket_and_channel_only_and_keeps_its_lease(desk):
    engine, slack = desk
    ann = open_ticket(engine, "ann", CHANNEL)
    bob = open_ticket(engine, "bob", OTHER_CHANNEL)
    cat = open_ticket(engine, "cat", CHANNEL)
    slack.wait_for(lambda: len(slack.calls("chat.postMessage")) == 6, timeout=10)

    # Ann's root is re-rendered, and Slack takes its time answering.
    slack.hold_responses("chat.update")
    with transaction(engine) as session:
        outbox.refresh_root(session, ann)
    slack.wait_for(lambda: slack.calls("chat.update"), timeout=10)
    in_flight_since = utcnow()
    for ticket_id, who in ((ann, "ann"), (bob, "bob"), (cat, "cat")):
        notice(engine, ticket_id, f"U0{who.upper()}")

    # Bob's ticket, in another channel, goes on meanwhile.
    slack.wait_for(lambda: posted(slack, "U0BOB"), timeout=5)
    time.sleep(3 * LEASE.total_seconds())  # Ann's row outlives its lease three times over
    assert not posted(slack, "U0ANN")  # behind its ticket's row in flight
    assert not posted(slack, "U0CAT")  # behind the post in flight in its channel
    with Session(engine) as session:
        update = session.exec(
            select(OutboxItem).where(OutboxItem.kind == outbox.SLACK_UPDATE_ROOT)
        ).one()
        root_ts = session.get(Ticket, ann).thread_ts
    assert update.attempts == 1 and len(slack.calls("chat.update")) == 1  # never taken twice
    # Its lease was renewed while it was in flight: no other process takes it over.
    assert update.claimed_until > in_flight_since + LEASE
    assert update.status == OutboxStatus.PENDING

    slack.release_responses()
    slack.wait_for(lambda: posted(slack, "U0ANN") and posted(slack, "U0CAT"))
    assert [m["text"] for m in slack.thread(CHANNEL, root_ts)][-1] == escalation_taken("U0ANN")
    with Session(engine) as session:
        assert session.get(OutboxItem, update.id).status == OutboxStatus.SENT


class AwayForAWhile(MemoryState):
    """Shared state whose store (Redis, say) fails its first few calls."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    def held(self, prefix: str) -> dict[str, float]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Redis is away")
        return super().held(prefix)


def test_the_loop_outlives_the_shared_state_being_away(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        state = AwayForAWhile(failures=4)
        worker = OutboxWorker(
            engine, slack_deliverers(client, []), idle_poll_seconds=0.05, shared=state
        )
        worker.start()
        try:
            open_ticket(engine, "ann", CHANNEL)
            worker.wake()
            slack.wait_for(lambda: len(slack.calls("chat.postMessage")) == 2, timeout=10)
        finally:
            worker.stop()
            engine.dispose()
    assert state.failures == 0
