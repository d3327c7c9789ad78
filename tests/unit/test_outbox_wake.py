"""The outbox wakes itself: a commit that wrote outbox rows calls its engine's `on_outbox_commit`
callback (the worker's wake), whichever session committed; other commits and rollbacks don't.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from slack_sdk import WebClient
from sqlalchemy import event
from sqlmodel import Session, func, select

from bot.app import create_app
from bot.core import outbox
from bot.deliverers.slack_posts import slack_deliverers
from bot.delivery.worker import OutboxWorker
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine, on_outbox_commit, reader, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import DigestRun, OutboxItem, OutboxStatus
from tests.e2e.harness import CHANNEL, settings_for
from tests.unit.test_outbox_slots import open_ticket

DAY = date(2026, 3, 2)


class Wakes:
    """A wake callback that notes how many outbox rows were committed when it was called."""

    def __init__(self, engine):
        self.engine = engine
        self.rows_seen: list[int] = []

    def __call__(self) -> None:
        with Session(reader(self.engine)) as session:
            self.rows_seen.append(session.exec(select(func.count(OutboxItem.id))).one())


@pytest.fixture
def wakes(engine) -> Wakes:
    wakes = Wakes(engine)
    on_outbox_commit(engine, wakes)
    return wakes


def enqueue_digest(session: Session, channel: str = "C0DIGEST") -> None:
    outbox.post_digest(session, DAY, channel, "UTC")


def test_a_commit_that_enqueued_a_row_wakes_once_the_row_is_committed(engine, wakes):
    with transaction(engine) as session:
        enqueue_digest(session)
        assert wakes.rows_seen == []  # not before the commit
    assert wakes.rows_seen == [1]


def test_commits_without_outbox_rows_and_rollbacks_wake_nothing(engine, wakes):
    with transaction(engine) as session:
        session.add(DigestRun(day=DAY, channel="C0DIGEST"))
    with pytest.raises(RuntimeError), transaction(engine) as session:
        enqueue_digest(session)
        raise RuntimeError("the request failed after recording an effect")
    with Session(engine) as session:  # rolled back, then used again for something else
        enqueue_digest(session)
        session.rollback()
        session.add(DigestRun(day=DAY, channel="C0OTHER"))
        session.commit()
    assert wakes.rows_seen == []


def test_sessions_outside_the_transaction_helper_wake_too(engine, wakes):
    with Session(engine) as session:
        enqueue_digest(session)
        session.commit()
    assert wakes.rows_seen == [1]


def test_requeuing_a_failed_row_wakes(engine, wakes):
    with transaction(engine) as session:
        enqueue_digest(session)
    with Session(engine) as session:  # given up on, as the worker records it
        item = session.exec(select(OutboxItem)).one()
        item.status = OutboxStatus.FAILED
        session.add(item)
        session.commit()
    assert wakes.rows_seen == [1]
    with transaction(engine) as session:
        outbox.requeue(session, session.exec(select(OutboxItem)).one())
    assert wakes.rows_seen == [1, 1]


def test_each_engine_wakes_its_own_worker_only(engine, database_url, wakes):
    elsewhere = make_engine(database_url)  # another app's, on the same database
    try:
        with transaction(elsewhere) as session:
            enqueue_digest(session)
    finally:
        elsewhere.dispose()
    assert wakes.rows_seen == []


def test_the_worker_delivers_a_committed_row_without_waiting_for_its_idle_poll(tmp_path):
    """The worker sleeps an hour between idle looks: only the wake can explain a delivery."""
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    looked = threading.Event()

    @event.listens_for(engine, "after_cursor_execute")
    def worker_looked(*_args) -> None:
        # Once the loop's pass has run its first statement, it can't see a row committed
        # later: that row goes only if the commit wakes the loop.
        if threading.current_thread().name == "outbox-worker":
            looked.set()

    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        worker = OutboxWorker(engine, slack_deliverers(client, []), idle_poll_seconds=3600)
        on_outbox_commit(engine, worker.wake)
        worker.start()
        try:
            assert looked.wait(30)
            open_ticket(engine, "ann", CHANNEL)
            assert slack.wait_for(lambda: slack.messages_in(CHANNEL), timeout=30)
        finally:
            worker.stop()
            engine.dispose()


def test_create_app_wakes_its_worker_after_commits_that_enqueued(tmp_path, monkeypatch):
    calls = []
    wake = OutboxWorker.wake

    def noted_wake(worker: OutboxWorker) -> None:
        calls.append(worker)
        wake(worker)

    monkeypatch.setattr(OutboxWorker, "wake", noted_wake)
    with FakeSlack() as slack:
        helpdesk = create_app(settings_for(f"sqlite:///{tmp_path / 'helpdesk.db'}", slack))
        try:
            with transaction(helpdesk.engine) as session:
                session.add(DigestRun(day=DAY, channel="C0DIGEST"))
            assert calls == []
            with transaction(helpdesk.engine) as session:
                enqueue_digest(session)
            assert calls == [helpdesk.outbox]
        finally:
            helpdesk.engine.dispose()
