"""Delivers outbox rows (Slack posts, emails): in order per ticket, once, across crashes.

How each guarantee is kept:
- order: only the oldest pending row of a ticket is ever eligible;
- no two senders: a row is claimed with a lease in its own committed UPDATE;
- no doubles after a crash: every post carries message metadata naming its outbox row, and a
  row whose previous attempt may have landed (`in_doubt`) is first looked up in Slack;
- nothing lost: failures stay pending and are retried with backoff, honouring `Retry-After`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from bot.jobs.delivery import Deliverer, GiveUp, RetryLater
from bot.storage.db import reader, transaction
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, utcnow

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300


@dataclass(frozen=True)
class Claimed:
    item_id: int
    channel: str | None
    in_doubt: bool


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        deliverers: dict[str, Deliverer],
        *,
        concurrency: int = 4,
        lease: timedelta = timedelta(seconds=60),
        idle_poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._engine = engine
        self._deliverers = deliverers
        self._lease = lease
        self._idle_poll = idle_poll_seconds
        self._clock = clock
        self._concurrency = concurrency
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="outbox")
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # chat.postMessage is limited per channel; a 429 pauses that channel only.
        self._paused_until: dict[str, float] = {}

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
                worked = 0
            if not worked:
                self._wake.wait(self._idle_poll)
                self._wake.clear()

    def run_once(self) -> int:
        """Claims the due rows that may go now and delivers them concurrently."""
        claimed = self._claim_due()
        for _ in self._pool.map(self._deliver, claimed):
            pass
        return len(claimed)

    def _claim_due(self) -> list[Claimed]:
        now = self._clock()
        earlier = aliased(OutboxItem)
        heads = (
            select(OutboxItem.id, OutboxItem.in_doubt, Ticket.channel)
            .join(Ticket, Ticket.id == OutboxItem.ticket_id, isouter=True)
            .where(
                OutboxItem.status == OutboxStatus.PENDING,
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                ~exists().where(
                    and_(
                        earlier.ticket_id == OutboxItem.ticket_id,
                        earlier.status == OutboxStatus.PENDING,
                        earlier.id < OutboxItem.id,
                    )
                ),
            )
            .order_by(OutboxItem.id)
            .limit(self._concurrency * 4)
        )
        paused = {c for c, until in self._paused_until.items() if until > time.monotonic()}
        claimed: list[Claimed] = []
        with transaction(self._engine) as session:
            for item_id, in_doubt, channel in session.exec(heads).all():
                if channel in paused or len(claimed) == self._concurrency:
                    continue
                won = session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.id == item_id,
                        OutboxItem.status == OutboxStatus.PENDING,
                        or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                    )
                    .values(
                        claimed_until=now + self._lease,
                        attempts=OutboxItem.attempts + 1,
                        in_doubt=True,
                    )
                ).rowcount
                if won:
                    claimed.append(Claimed(item_id, channel, in_doubt))
        return claimed

    def _deliver(self, claim: Claimed) -> None:
        try:
            # Never committed: a deliverer only reads here, and records in `_record_success`.
            with Session(reader(self._engine), expire_on_commit=False) as session:
                item = session.get(OutboxItem, claim.item_id)
                deliverer = self._deliverers[item.kind]
                result = deliverer.send(session, item, claim.in_doubt)
            self._record_success(claim.item_id, deliverer, result)
        except RetryLater as retry:
            if retry.pause_channel and claim.channel and retry.delay:
                self._paused_until[claim.channel] = time.monotonic() + retry.delay
            self._record_retry(claim, str(retry), retry.delay, retry.definite)
        except GiveUp as refused:
            self._record_failure(claim, str(refused))
        except Exception as exc:
            # Timeouts and broken connections: the request may have landed.
            self._record_retry(claim, f"{type(exc).__name__}: {exc}", None, definite=False)

    def _record_success(self, item_id: int, deliverer: Deliverer, result: dict) -> None:
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, item_id)
            deliverer.record(session, item, result)
            item.status = OutboxStatus.SENT
            item.sent_at = self._clock()
            item.result = result
            item.claimed_until = None
            item.dedupe_key = None
            item.in_doubt = False
            item.last_error = None

    def _record_retry(
        self, claim: Claimed, reason: str, delay: float | None, definite: bool
    ) -> None:
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, claim.item_id)
            if delay is None:
                delay = min(MAX_BACKOFF_SECONDS, 2 ** min(item.attempts, 10)) * random.uniform(
                    0.5, 1.0
                )
            item.next_attempt_at = self._clock() + timedelta(seconds=delay)
            item.claimed_until = None
            item.last_error = reason
            if definite:
                item.in_doubt = False
        log.warning(
            "outbox row %s not delivered (%s); next try in %.1fs", claim.item_id, reason, delay
        )

    def _record_failure(self, claim: Claimed, reason: str) -> None:
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, claim.item_id)
            item.status = OutboxStatus.FAILED
            item.claimed_until = None
            item.dedupe_key = None
            item.in_doubt = False
            item.last_error = reason
        log.error("outbox row %s failed for good: %s", claim.item_id, reason)
