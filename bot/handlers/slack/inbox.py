"""Slack's requests that need no answer but 200 are acknowledged first, and worked later.

Events (thread messages, App Home) and clicks on messages that change a ticket are stored
raw (with whatever else arrived meanwhile, in one short transaction) and answered at once;
their work then runs on worker threads of its own, never on the threads that answer Slack,
and waits while answers are going out, so neither a slow or locked database nor a backlog of
work can hold up an acknowledgement. What must answer in the request itself keeps
the synchronous path: slash commands (their answer is the ack), modal submissions (their
errors), menus' options, and buttons that open a modal (its `trigger_id` lasts 3 s).

Nothing acknowledged is lost, nothing done twice:
- the row is committed before the 200 (on SQLite in a database file beside the main one, so
  the main file's writer lock never delays the ack); a request the inbox can't store takes
  the synchronous path instead, as before;
- a replay records the request's key in the first transaction its listener commits
  (`first_commit_also`), so after a crash between that commit and the row's deletion the
  replay is skipped, and Slack's retry of a request (same event id, or same body) is one row;
- a process holds its rows with a lease it renews; a process that died leaves its rows to
  whichever process next finds the lease run out, itself after a restart;
- a database error while replaying (the database away, or locked past its timeout) is
  retried with backoff, holding up only the rows of its lane behind it.

Replays of one lane (a channel's thread, or a person's App Home) run one at a time in
arrival order, on one worker; different lanes in parallel.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import queue
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from uuid import uuid4

from slack_bolt import App, BoltRequest
from sqlalchemy import Engine, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel

from bot.handlers.slack.failures import answer_failure
from bot.storage.db import first_commit_also, reader, transaction
from bot.storage.models import SlackInboxEntry, SlackRequestHandled, utcnow

log = logging.getLogger(__name__)

# Threads that replay; on SQLite their writes queue for one lock anyway.
WORKER_THREADS = 2
LEASE = timedelta(seconds=15)
# How long a replay waits at most for the answers in progress to go out, so that past
# capacity the answers keep going and the work queues, yet still advances.
ANSWERS_FIRST_SECONDS = 0.05
# A replay's database error is retried after 1, 2, 4 ... 30 s, for about five minutes.
RETRY_PAUSES = [min(2.0**n, 30.0) for n in range(13)]
# Keys of handled requests are kept long enough for Slack's retries (minutes) and a
# restart's replays (a lease), then swept.
HANDLED_KEPT = timedelta(hours=1)
SWEEP_EVERY = timedelta(minutes=5)
CLAIM_BATCH = 500
STORE_BATCH = 500  # rows in one INSERT: well within SQLite's limit of bound values


@dataclass(frozen=True)
class _Pending:
    key: str
    lane: str
    raw: str
    headers: dict[str, str] | None
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[bool]


def _settle(answer: asyncio.Future[bool], stored: bool) -> None:
    if not answer.done():  # not given up on (the client went away)
        answer.set_result(stored)


@dataclass(frozen=True)
class Entry:
    id: int
    key: str
    lane: str
    body: str
    headers: dict[str, str] | None  # None: a Socket Mode payload


def lane_of(body: dict, queued_actions: frozenset[str]) -> str | None:
    """The lane of a request that can be worked after its ack, else None."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        return _event_lane(event) if isinstance(event, dict) else None
    if kind == "block_actions" and _all_queued(body.get("actions"), queued_actions):
        channel = _dict(body.get("channel")).get("id")
        message = _dict(body.get("message"))
        thread = message.get("thread_ts") or message.get("ts")
        return f"{channel}:{thread}"
    return None


def _event_lane(event: dict) -> str:
    item = _dict(event.get("item"))  # a reaction's: the message reacted to
    channel = event.get("channel") or item.get("channel")
    if not channel:
        return f"user:{event.get('user')}"
    inner = _dict(event.get("message")) or _dict(event.get("previous_message"))
    thread = event.get("thread_ts") or inner.get("thread_ts") or event.get("ts") or item.get("ts")
    return f"{channel}:{thread}"


def _all_queued(actions, queued_actions: frozenset[str]) -> bool:
    return (
        isinstance(actions, list)
        and bool(actions)
        and all(isinstance(a, dict) and a.get("action_id") in queued_actions for a in actions)
    )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def key_of(body: dict, raw: str) -> str:
    """Slack retries an event with the same id; anything else is known by its body."""
    event_id = body.get("event_id")
    if isinstance(event_id, str) and 0 < len(event_id) <= 100:
        return f"event:{event_id}"
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


class SlackInbox:
    """Stores requests for their acks, and replays them through `replay`, a Bolt app built to
    run each listener to its end in the calling thread (`build_bolt_app(..., replaying=True)`).
    """

    def __init__(
        self,
        store: Engine,
        engine: Engine,
        replay: App,
        queued_actions: frozenset[str],
        lease: timedelta = LEASE,
    ) -> None:
        self._store, self._engine, self._replay = store, engine, replay
        self._queued_actions = queued_actions
        self._lease = lease
        self._owner = uuid4().hex
        self._lanes: list[queue.SimpleQueue[Entry | None]] = [
            queue.SimpleQueue() for _ in range(WORKER_THREADS)
        ]
        self._held: set[int] = set()  # ids queued or being replayed here
        self._held_lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending: list[_Pending] = []
        self._arrived = threading.Condition()
        self._answering = 0  # Slack requests being answered now
        # Counted from two event loops' threads (HTTP, Socket Mode): `+=` is no atomic step.
        self._answering_lock = threading.Lock()
        if store.dialect.name == "sqlite":  # a file of its own; on PostgreSQL a migrated table
            SQLModel.metadata.create_all(store, tables=[SlackInboxEntry.__table__])

    # -- taking requests ------------------------------------------------------------------

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the handling of each Slack request, until its answer: replays wait for it."""
        with self._answering_lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._answering_lock:
                self._answering -= 1

    async def accepted(self, body: dict, raw: str, headers: dict[str, str] | None) -> bool:
        """True once the request is stored for later; False if it must be handled now."""
        lane = lane_of(body, self._queued_actions)
        if lane is None:
            return False
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        with self._arrived:
            if self._stopping.is_set():
                return False
            self._pending.append(_Pending(key_of(body, raw), lane, raw, headers, loop, answer))
            self._arrived.notify()
        return await answer

    def _store_arrivals(self) -> None:
        """Stores what arrived meanwhile in one transaction (one commit, one disk write for
        many requests), then answers each and queues it."""
        while True:
            with self._arrived:
                while not self._pending and not self._stopping.is_set():
                    self._arrived.wait()
                batch, self._pending = self._pending[:STORE_BATCH], self._pending[STORE_BATCH:]
            if not batch:
                return
            for arrival, stored in zip(batch, self._store_batch(batch), strict=True):
                if isinstance(stored, Entry):
                    self._queue(stored)
                # RuntimeError: its server stopped meanwhile (the loop is closed); Slack asks again.
                with suppress(RuntimeError):
                    arrival.loop.call_soon_threadsafe(_settle, arrival.answer, stored is not None)

    def _store_batch(self, batch: list[_Pending]) -> list[Entry | bool | None]:
        """Per arrival: its entry; True for Slack's retry of a request already stored (it is
        worked once); None when it could not be stored (handled at once instead). One
        statement: each round trip would wait for the interpreter lock again."""
        dialect = sqlite if self._store.dialect.name == "sqlite" else postgresql
        table = SlackInboxEntry.__table__
        now = utcnow()
        rows = [
            {"key": a.key, "lane": a.lane, "body": a.raw, "headers": a.headers,
             "received_at": now, "owner": self._owner, "claimed_until": now + self._lease}
            for a in batch
        ]  # fmt: skip
        insert = (
            dialect.insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[table.c.key])
            .returning(table.c.id, table.c.key)
        )
        try:
            with self._store.begin() as connection:
                stored = {key: row_id for row_id, key in connection.execute(insert)}
        except Exception:
            log.exception("could not store %d Slack request(s); handling them at once", len(batch))
            return [None] * len(batch)
        answers: list[Entry | bool | None] = []
        for a in batch:
            row_id = stored.pop(a.key, None)  # a key twice in one batch: the second is a retry
            answers.append(
                True if row_id is None else Entry(row_id, a.key, a.lane, a.raw, a.headers)
            )
        return answers

    def _queue(self, entry: Entry) -> None:
        with self._held_lock:
            if entry.id in self._held:
                return
            self._held.add(entry.id)
        self._lanes[zlib.crc32(entry.lane.encode()) % len(self._lanes)].put(entry)

    def waiting(self) -> int:
        """Requests stored and not yet worked to their end (a row goes once it is)."""
        with Session(self._store) as session:
            return session.execute(select(func.count()).select_from(SlackInboxEntry)).scalar_one()

    # -- running --------------------------------------------------------------------------

    def start(self) -> None:
        self._spawn("slack-inbox-store", self._store_arrivals)
        for n, lane in enumerate(self._lanes):
            self._spawn(f"slack-inbox-{n}", self._work, lane)
        self._spawn("slack-inbox-leases", self._keep_leases)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 10) -> None:
        """Finishes the replays in progress; what is still queued stays for the next start."""
        with self._arrived:
            self._stopping.set()
            self._arrived.notify()
        for lane in self._lanes:
            lane.put(None)
        for thread in self._threads:
            thread.join(timeout)
        try:
            with transaction(self._store) as session:
                session.execute(
                    update(SlackInboxEntry)
                    .where(SlackInboxEntry.owner == self._owner)
                    .values(owner=None, claimed_until=None)
                )
        except DBAPIError:
            log.warning("could not release queued Slack requests; their leases will run out")
        self._store.dispose()

    def _work(self, lane: queue.SimpleQueue[Entry | None]) -> None:
        # At a stop, what is still queued stays in the inbox for the next start.
        while (entry := lane.get()) is not None and not self._stopping.is_set():
            self._let_answers_pass()
            if self._replay_until_done(entry):
                self._forget(entry)
            with self._held_lock:
                self._held.discard(entry.id)

    def _let_answers_pass(self) -> None:
        """Waits a little while Slack requests are being answered: the threads of one process
        share one interpreter lock, and a replay holding it would delay their answers."""
        deadline = time.monotonic() + ANSWERS_FIRST_SECONDS
        while self._answering and time.monotonic() < deadline:
            time.sleep(0.001)

    def _replay_until_done(self, entry: Entry) -> bool:
        """False only when stopping first: the row stays for the next start."""
        for pause in [*RETRY_PAUSES, None]:
            try:
                self._replay_once(entry)
                return True
            except DBAPIError as error:
                if pause is None:
                    self._give_up(entry, error)
                    return True
                log.warning("replaying Slack request %s: %s; again in %.0f s", entry.key,
                            error.__class__.__name__, pause)  # fmt: skip
                if self._stopping.wait(pause):
                    return False
            except Exception:
                # Not a listener's failure (each is answered where it happened): the stored
                # request itself is unusable, and would fail the same way every time.
                log.exception("dropped Slack request %s: it can't be replayed", entry.key)
                return True
        return True

    def _replay_once(self, entry: Entry) -> None:
        with Session(reader(self._engine)) as session:
            if session.get(SlackRequestHandled, entry.key) is not None:
                return  # handled before a crash, or by another process whose lease ran out
        with first_commit_also(lambda session: session.add(SlackRequestHandled(key=entry.key))):
            self._replay.dispatch(self._request(entry))

    @staticmethod
    def _request(entry: Entry) -> BoltRequest:
        if entry.headers is None:
            return BoltRequest(body=json.loads(entry.body), mode="socket_mode")
        return BoltRequest(body=entry.body, headers=entry.headers)

    def _give_up(self, entry: Entry, error: DBAPIError) -> None:
        answer_failure(error, self._request(entry).body, self._replay.client)

    def _forget(self, entry: Entry) -> None:
        try:
            with transaction(self._store) as session:
                if self._store.dialect.name == "postgresql":
                    # Not waiting for the disk: a deletion lost in a crash costs a replay,
                    # which the handled key then skips.
                    session.execute(text("SET LOCAL synchronous_commit = off"))
                session.execute(delete(SlackInboxEntry).where(SlackInboxEntry.id == entry.id))
        except DBAPIError:
            # Replayed again once its lease runs out, and then skipped if it changed anything.
            log.warning("could not remove handled Slack request %s", entry.key, exc_info=True)

    # -- leases ---------------------------------------------------------------------------

    def _keep_leases(self) -> None:
        swept = utcnow() - SWEEP_EVERY
        while True:
            try:
                self._renew()
                self._claim_abandoned()
                if utcnow() - swept > SWEEP_EVERY:
                    self._sweep_handled()
                    swept = utcnow()
            except DBAPIError as error:
                log.warning("Slack inbox leases: %s", error.__class__.__name__)
            if self._stopping.wait(self._lease.total_seconds() / 3):
                return

    def _renew(self) -> None:
        with transaction(self._store) as session:
            session.execute(
                update(SlackInboxEntry)
                .where(SlackInboxEntry.owner == self._owner)
                .values(claimed_until=utcnow() + self._lease)
            )

    def _claim_abandoned(self) -> None:
        """Rows released at a stop, or whose owner died: oldest first."""
        now = utcnow()
        free = or_(SlackInboxEntry.claimed_until.is_(None), SlackInboxEntry.claimed_until < now)
        oldest = select(SlackInboxEntry.id).where(free).order_by(SlackInboxEntry.id)
        with transaction(self._store) as session:
            claimed = session.execute(
                update(SlackInboxEntry)
                # Checked again on the row itself: PostgreSQL re-reads it if another process
                # claimed it meanwhile.
                .where(SlackInboxEntry.id.in_(oldest.limit(CLAIM_BATCH)), free)
                .values(owner=self._owner, claimed_until=now + self._lease)
                .returning(SlackInboxEntry)
                .execution_options(synchronize_session=False)
            ).scalars().all()  # fmt: skip
            entries = [Entry(r.id, r.key, r.lane, r.body, r.headers) for r in claimed]
        for entry in sorted(entries, key=lambda e: e.id):
            self._queue(entry)
        if entries:
            log.info("took over %d queued Slack request(s)", len(entries))

    def _sweep_handled(self) -> None:
        with transaction(self._engine) as session:
            session.execute(
                delete(SlackRequestHandled).where(
                    SlackRequestHandled.handled_at < utcnow() - HANDLED_KEPT
                )
            )
