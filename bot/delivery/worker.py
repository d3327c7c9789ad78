"""Delivers outbox rows (Slack posts, emails): in order per ticket, once, across crashes.

How each guarantee is kept:
- order: only the oldest pending row of a ticket is ever eligible;
- no two senders: a row is claimed with a lease in its own committed UPDATE;
- no doubles after a crash: every post carries message metadata naming its outbox row, and a
  row whose previous attempt may have landed (`in_doubt`) is first looked up in Slack;
- nothing lost: failures stay pending and are retried with backoff, honouring `Retry-After`;
- nothing stuck: a failure that is not a passing one of the network or a service (a bug, or
  content the deliverer can't handle) is retried `POISON_ATTEMPTS` times, then the row fails
  for good, visibly (log, the ticket's event log, a note or *Not delivered* in its thread),
  and the ticket's later rows go on;
- no ticket waits for another: rows are claimed into free worker slots as others finish, so
  a slow row (a big upload, a slow mail server) holds up only its own ticket.

A service that is down (Slack answering 5xx, the mail server refusing connections) is not
hammered by every ticket's head row on its own schedule: its circuit breaker (`Breaker`) holds
all of its rows, then lets a single one probe; once that one goes through, the backlog goes at
once. Other services' rows keep flowing meanwhile.

Posts into a Slack channel take the channel's turn in the state the processes share
(`bot/storage/shared_state.py`): one post in a channel at a time across every process, and a
channel Slack answered 429 is left alone by all of them until its `Retry-After`, then paced.
The breakers are each process's own: each probes a service that is down by itself.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, String, and_, case, cast, func, or_, update
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.core.notices import Notice
from bot.core.tickets import record_event
from bot.delivery.contract import (
    SERVICE_DOWN,
    Deliverer,
    GiveUp,
    RetryLater,
    ServiceDown,
    is_transient,
)
from bot.monitoring.counters import Counters
from bot.storage.db import reader, transaction
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, utcnow
from bot.storage.shared_state import MemoryState, SharedState

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
# A row whose delivery raises something unexpected is tried this often in all, then failed:
# content that breaks a deliverer breaks it every time, and must not hold its ticket forever.
POISON_ATTEMPTS = 5
# A service that fails is left alone this long, doubling on each failed probe up to the cap.
# The cap bounds how long a backlog can sit idle after the service is back; a row that failed
# because its service was down backs off no longer than the cap either.
# Slack takes about one message a second in a channel, with short bursts. A channel that got
# a 429 has its posts spaced this far apart for a while, rather than drawing a 429 for every
# other post while its backlog drains.
CHANNEL_POST_SPACING = 1.0
KEEP_PACE_FOR = 60.0
# Shared keys: a channel's turn (held while a post is in flight, and through a pause), and
# whether the channel is being paced.
CHANNEL_TURN = "slack:turn:"
CHANNEL_PACED = "slack:paced:"
BREAKER_FIRST_PAUSE = 1.0
BREAKER_MAX_PAUSE = 15.0
BREAKER_STATES = ("closed", "open", "probing")


class Breaker:
    """One service's circuit breaker. Pure logic on a clock in seconds; safe across threads.

    Closed: rows are claimed freely. A `failed` outcome opens it for a pause, during which no
    row of the service is claimed (`allowance` is 0). After the pause, one row is let through
    as a probe (`allowance` is 1 until its outcome is known): if it goes through the breaker
    closes; if the service fails it again, the breaker reopens for twice as long, up to
    `max_pause`. An outcome that says nothing about the service (a row-specific error) lets
    the next row probe instead.

    Every claim gets a token, the breaker's epoch, which changes on each open and close: the
    outcomes of rows claimed before the latest change (say, the other rows in flight when the
    service went down) are stale and change nothing.
    """

    def __init__(
        self,
        service: str,
        now: Callable[[], float],
        first_pause: float = BREAKER_FIRST_PAUSE,
        max_pause: float = BREAKER_MAX_PAUSE,
    ):
        self.service = service
        self._now = now
        self._first_pause = first_pause
        self._max_pause = max_pause
        self._lock = threading.Lock()
        self._epoch = 0
        self._open = False
        self._pause = 0.0
        self._until = 0.0
        self._since = 0.0  # when it opened first, for the log line on closing
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if not self._open:
                return "closed"
            return "probing" if self._probing else "open"

    @property
    def pause(self) -> float:
        """The current pause: how long the service is left alone after a failure."""
        with self._lock:
            return self._pause

    def allowance(self) -> int | None:
        """How many of the service's rows may be claimed now: any (None), one probe, or 0."""
        with self._lock:
            if not self._open:
                return None
            if self._probing or self._now() < self._until:
                return 0
            return 1

    def claimed(self) -> int:
        """Notes that a row was claimed (the probe, when open); returns its token."""
        with self._lock:
            if self._open:
                self._probing = True
            return self._epoch

    def failed(self, token: int, retry_after: float | None = None) -> str | None:
        """The service failed the row: "opened" or "reopened" when that changed the breaker."""
        with self._lock:
            if token != self._epoch or (self._open and not self._probing):
                return None
            now = self._now()
            if self._open:
                self._pause = min(self._pause * 2, self._max_pause)
                change = "reopened"
            else:
                self._open, self._since = True, now
                self._pause = self._first_pause
                change = "opened"
            self._until = now + max(self._pause, retry_after or 0)
            self._probing = False
            self._epoch += 1
            return change

    def succeeded(self, token: int) -> float | None:
        """The service answered: the seconds it was down when that closed the breaker."""
        with self._lock:
            if token != self._epoch or not self._open or not self._probing:
                return None
            self._open = self._probing = False
            self._pause = 0.0
            self._epoch += 1
            return self._now() - self._since

    def inconclusive(self, token: int) -> None:
        """The row said nothing about the service: the next row may probe."""
        with self._lock:
            if token == self._epoch and self._open:
                self._probing = False


@dataclass(frozen=True)
class Claimed:
    item_id: int
    channel: str | None
    in_doubt: bool
    service: str | None = None
    token: int = 0
    posts_to_channel: bool = False


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
        breaker_first_pause: float = BREAKER_FIRST_PAUSE,
        breaker_max_pause: float = BREAKER_MAX_PAUSE,
        counters: Counters | None = None,
        shared: SharedState | None = None,
    ):
        self._engine = engine
        self._counters = counters or Counters()
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
        self._shared = shared or MemoryState()
        # One breaker per service; on the worker's clock, so a test moving it skips pauses too.
        self._service_of = {kind: getattr(d, "service", None) for kind, d in deliverers.items()}
        self._channel_posts = sorted(
            kind for kind, d in deliverers.items() if getattr(d, "posts_to_channel", False)
        )
        self._breaker_first_pause = breaker_first_pause
        self._breaker_max_pause = breaker_max_pause
        self._breakers = {
            service: Breaker(
                service,
                lambda: self._clock().timestamp(),
                breaker_first_pause,
                breaker_max_pause,
            )
            for service in set(self._service_of.values())
            if service
        }
        self._counters.expect_services(sorted(self._breakers))
        self._pass_failing = False
        # Rows being delivered by the background loop, and the channels they post in: neither
        # is claimed again meanwhile, even once a long row outlives its lease.
        self._in_flight: dict[int, Claimed] = {}
        self._in_flight_lock = threading.Lock()
        self._leases_renewed = time.monotonic()

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

    def breaker(self, service: str) -> Breaker:
        return self._breakers[service]

    def breaker_states(self) -> dict[str, str]:
        """Each service's breaker state, one of `BREAKER_STATES`."""
        return {service: b.state for service, b in sorted(self._breakers.items())}

    def service_of(self, kind: str) -> str | None:
        """The service a kind of row is delivered through (None: no deliverer here)."""
        return self._service_of.get(kind)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before looking, so a row finishing meanwhile makes the wait below return.
            self._wake.clear()
            try:
                worked = self._fill_free_slots()
                self._renew_leases()
                idle = 0 if worked else self._idle_wait()
            except Exception:
                # The database (or Redis) is away, most likely: said once, not every second it
                # stays away.
                if not self._pass_failing:
                    log.exception("outbox pass failed; retrying every %ss", self._idle_poll)
                self._pass_failing = True
                idle = self._idle_poll
            else:
                if self._pass_failing:
                    log.warning("outbox passes work again")
                self._pass_failing = False
            if idle:
                self._wake.wait(idle)

    def run_once(self) -> int:
        """Claims the due rows that may go now, delivers them concurrently, and waits for them
        all (for tests and one-off runs; the background loop does not wait)."""
        claimed = self._claim_due(self._concurrency)
        for _ in self._pool.map(self._deliver, claimed):
            pass
        return len(claimed)

    def _fill_free_slots(self) -> int:
        """Claims rows into the worker slots that are free and starts them; returns how many.

        Each slot's row finishes on its own and wakes the loop, which fills the slot again:
        other tickets' rows go on while one row is slow.
        """
        with self._in_flight_lock:
            free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return 0
        claimed = self._claim_due(free)
        with self._in_flight_lock:
            self._in_flight.update((claim.item_id, claim) for claim in claimed)
        for claim in claimed:
            self._pool.submit(self._deliver_in_slot, claim)
        return len(claimed)

    def _deliver_in_slot(self, claim: Claimed) -> None:
        try:
            self._deliver(claim)
        except Exception:
            # Recording the outcome failed (the database went away): the lease runs out and
            # the row is tried again.
            log.exception("outbox row %s: could not record the outcome", claim.item_id)
        finally:
            with self._in_flight_lock:
                self._in_flight.pop(claim.item_id, None)
            self._wake.set()

    def _renew_leases(self) -> None:
        """Extends the lease of rows still in flight, so that no other process takes a long
        row (a big upload) over while it is still being sent here."""
        if time.monotonic() - self._leases_renewed < self._lease.total_seconds() / 3:
            return
        self._leases_renewed = time.monotonic()
        with self._in_flight_lock:
            in_flight = list(self._in_flight.values())
        if not in_flight:
            return
        ids = [claim.item_id for claim in in_flight]
        for claim in in_flight:
            if claim.posts_to_channel and claim.channel:
                self._shared.hold(CHANNEL_TURN + claim.channel, self._lease.total_seconds())
        with transaction(self._engine) as session:
            session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_(ids),
                    OutboxItem.status == OutboxStatus.PENDING,
                    # Not one whose outcome is already recorded (its lease was given back).
                    OutboxItem.claimed_until.is_not(None),
                )
                .values(claimed_until=self._clock() + self._lease)
            )

    def _claim_due(self, limit: int) -> list[Claimed]:
        now = self._clock()
        allowance = {service: b.allowance() for service, b in self._breakers.items()}
        held = sorted(kind for kind, s in self._service_of.items() if s and allowance[s] == 0)
        with self._in_flight_lock:
            in_flight = list(self._in_flight.values())
        # A channel with a post in flight takes no other until it is answered.
        busy = {c.channel for c in in_flight if c.posts_to_channel and c.channel}
        paused = sorted(self._channels_held() | busy)
        posts = self._channel_posts
        # Each ticket's oldest pending row. As an IN list rather than a correlated NOT EXISTS:
        # PostgreSQL planned that as a nested loop over every pending row when a burst had
        # outgrown the table's statistics (seconds per pass at 4,000 rows).
        first_of_ticket = (
            select(func.min(OutboxItem.id))
            .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.ticket_id.is_not(None))
            .group_by(OutboxItem.ticket_id)
        )
        # One Slack post per channel per pass: Slack takes about one a second in a channel, so
        # more would only earn 429s and let two tickets' posts overtake each other.
        lane = case(
            (and_(OutboxItem.kind.in_(posts), Ticket.channel.is_not(None)), Ticket.channel),
            else_=cast(OutboxItem.id, String),
        )
        due = (
            select(
                OutboxItem.id,
                OutboxItem.in_doubt,
                OutboxItem.kind,
                Ticket.channel,
                func.row_number().over(partition_by=lane, order_by=OutboxItem.id).label("place"),
            )
            .join(Ticket, Ticket.id == OutboxItem.ticket_id, isouter=True)
            .where(
                OutboxItem.status == OutboxStatus.PENDING,
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                or_(OutboxItem.ticket_id.is_(None), OutboxItem.id.in_(first_of_ticket)),
            )
        )
        if in_flight:
            # Still in flight here even if its lease ran out: never sent twice at once. Its
            # ticket's later rows aren't its ticket's first, so they wait for it too.
            due = due.where(OutboxItem.id.not_in([c.item_id for c in in_flight]))
        if held:
            # Rows of a service whose breaker is open aren't even looked at.
            due = due.where(OutboxItem.kind.not_in(held))
        if paused:
            # Left out before the limit, so a rate-limited channel's backlog never fills the
            # window while other channels' rows wait behind it.
            due = due.where(
                or_(
                    OutboxItem.kind.not_in(posts),
                    Ticket.channel.is_(None),
                    Ticket.channel.not_in(paused),
                )
            )
        due = due.subquery()
        heads = (
            select(due.c.id, due.c.in_doubt, due.c.kind, due.c.channel)
            .where(due.c.place == 1)
            .order_by(due.c.id)
            .limit(limit * 4)
        )
        won_rows: list[tuple[int, str | None, bool, str | None, str]] = []
        taken: Counter[str | None] = Counter()
        with transaction(self._engine) as session:
            for item_id, in_doubt, kind, channel in session.exec(heads).all():
                service = self._service_of.get(kind)
                limit = allowance.get(service)
                if len(won_rows) == limit:
                    break
                if limit is not None and taken[service] >= limit:
                    continue  # the one probe of a service coming out of a pause is taken
                turn = CHANNEL_TURN + channel if kind in posts and channel else None
                if turn and self._shared.take(turn, self._lease.total_seconds()):
                    continue  # another process took the channel's turn since the query
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
                    taken[service] += 1
                    won_rows.append((item_id, channel, in_doubt, service, kind))
                elif turn:
                    self._shared.hold(turn, 0)
        # Told only once the claims are committed: a probe noted for a claim that was rolled
        # back would hold the service forever.
        return [
            Claimed(item_id, channel, in_doubt, service, self._token(service), kind in posts)
            for item_id, channel, in_doubt, service, kind in won_rows
        ]

    def _channels_held(self) -> set[str]:
        """Channels some process is posting in, or Slack asked to be left alone for now."""
        return {key.removeprefix(CHANNEL_TURN) for key in self._shared.held(CHANNEL_TURN)}

    def _free_channel(self, claim: Claimed, rate_limited_for: float) -> None:
        """Gives the channel's turn back once the row has its answer: at once, after Slack's
        `Retry-After` when it answered 429, or at Slack's pace for a while after a 429, rather
        than drawing a 429 for every other post while the channel's backlog drains."""
        if not claim.channel:
            return
        turn, paced = CHANNEL_TURN + claim.channel, CHANNEL_PACED + claim.channel
        if rate_limited_for:
            self._shared.hold(paced, KEEP_PACE_FOR)
            self._shared.hold(turn, rate_limited_for)
        elif claim.posts_to_channel:
            spacing = CHANNEL_POST_SPACING if self._shared.is_held(paced) else 0
            self._shared.hold(turn, spacing)

    def _idle_wait(self) -> float:
        """How long to sleep when nothing could go: at most until a held channel reopens, as
        its backlog is likely what is waiting."""
        reopening = self._shared.held(CHANNEL_TURN).values()
        return max(0.01, min([self._idle_poll, *reopening]))

    def _token(self, service: str | None) -> int:
        breaker = self._breakers.get(service)
        return breaker.claimed() if breaker else 0

    def _deliver(self, claim: Claimed) -> None:
        rate_limited_for = 0.0
        try:
            rate_limited_for = self._attempt(claim)
        finally:
            self._free_channel(claim, rate_limited_for)

    def _attempt(self, claim: Claimed) -> float:
        """Delivers the row and records the outcome; returns how long Slack asked its channel
        to be left alone (a 429), if it did."""
        raised = 0
        try:
            # Never committed: a deliverer only reads here, and records in `_record_success`.
            with Session(reader(self._engine), expire_on_commit=False) as session:
                item = session.get(OutboxItem, claim.item_id)
                raised = item.raised
                deliverer = self._deliverers[item.kind]
                result = deliverer.send(session, item, claim.in_doubt)
            if result.get(SERVICE_DOWN):
                self._service_down(claim, None, str(result.get("failed", "no answer")))
            else:
                self._service_answered(claim)
            self._record_success(claim.item_id, deliverer, result)
            self._count_outcome(claim, result)
        except ServiceDown as down:
            self._service_down(claim, down.delay, str(down))
            # Not a long backoff of its own: the breaker decides when the service is tried.
            self._record_retry(claim, str(down), down.delay, down.definite, self._breaker_max_pause)
        except RetryLater as retry:
            self._service_unsure(claim)
            if retry.pause_channel and claim.channel and retry.delay:
                # The channel's pause holds the row: a delay of its own could let a later
                # ticket's post in the channel go first. Expected under a burst, so quiet.
                self._record_retry(claim, str(retry), 0, retry.definite, level=logging.DEBUG)
                return retry.delay
            self._record_retry(claim, str(retry), retry.delay, retry.definite)
        except GiveUp as refused:
            self._service_answered(claim)  # the service read the row, and refused it
            self._record_failure(claim, str(refused))
        except Exception as exc:
            self._service_unsure(claim)
            reason = f"{type(exc).__name__}: {exc}"
            if is_transient(exc):
                # Timeouts and broken connections: the request may have landed.
                self._record_retry(claim, reason, None, definite=False)
            elif raised + 1 < POISON_ATTEMPTS:
                log.warning("outbox row %s raised (%s)", claim.item_id, raised + 1, exc_info=True)
                # Sooner than a service's backoff: a row that fails by its content is given up
                # within half a minute, and its ticket's later rows wait no longer. The first
                # wait is a failing service's first pause.
                delay = self._breaker_first_pause * 2**raised * random.uniform(0.5, 1.0)
                self._record_retry(claim, reason, delay, definite=False, raised=True)
            else:
                tries = f"{reason} (raised {raised + 1} times)"
                self._record_failure(claim, tries, definite=False)
        return 0.0

    def _count_outcome(self, claim: Claimed, result: dict) -> None:
        # A deliverer may finish a row by recording that it can never be sent (a reply the
        # recipient's server refused): not a delivery.
        if "failed" in result:
            self._counters.not_delivered(claim.service, given_up=True)
        else:
            self._counters.delivered(claim.service)

    def _service_down(self, claim: Claimed, retry_after: float | None, reason: str) -> None:
        breaker = self._breakers.get(claim.service)
        if breaker is None:
            return
        change = breaker.failed(claim.token, retry_after)
        if change == "opened":
            log.warning(
                "outbox: %s is failing (%s); holding its rows, trying one again in %.0fs",
                claim.service,
                reason,
                max(breaker.pause, retry_after or 0),
            )
        elif change == "reopened":
            log.debug("outbox: %s still failing; next try in %.0fs", claim.service, breaker.pause)

    def _service_answered(self, claim: Claimed) -> None:
        breaker = self._breakers.get(claim.service)
        if breaker is None:
            return
        down_for = breaker.succeeded(claim.token)
        if down_for is not None:
            log.warning(
                "outbox: %s is back after %.0fs; sending the rows held for it",
                claim.service,
                down_for,
            )
            self._wake.set()

    def _service_unsure(self, claim: Claimed) -> None:
        breaker = self._breakers.get(claim.service)
        if breaker is not None:
            breaker.inconclusive(claim.token)

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
        self,
        claim: Claimed,
        reason: str,
        delay: float | None,
        definite: bool,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        level: int = logging.WARNING,
        raised: bool = False,
    ) -> None:
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, claim.item_id)
            item.raised += raised
            if delay is None:
                delay = min(max_backoff, 2 ** min(item.attempts, 10)) * random.uniform(0.5, 1.0)
            item.next_attempt_at = self._clock() + timedelta(seconds=delay)
            item.claimed_until = None
            item.last_error = reason
            if definite:
                item.in_doubt = False
        self._counters.not_delivered(claim.service, given_up=False)
        log.log(
            level,
            "outbox row %s not delivered (%s); next try in %.1fs",
            claim.item_id,
            reason,
            delay,
        )

    def _record_failure(self, claim: Claimed, reason: str, definite: bool = True) -> None:
        """The row fails for good, visibly; its ticket's later rows go on."""
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, claim.item_id)
            item.status = OutboxStatus.FAILED
            item.claimed_until = None
            item.dedupe_key = None
            # Kept when it may have landed: a retry looks for it first.
            item.in_doubt = item.in_doubt and not definite
            item.last_error = reason
            self._report_failure(session, item, reason)
        self._counters.not_delivered(claim.service, given_up=True)
        log.error("outbox row %s (%s) failed for good: %s", claim.item_id, item.kind, reason)

    def _report_failure(self, session: Session, item: OutboxItem, reason: str) -> None:
        """Tells the ticket's agents: in its event log, and in its thread."""
        ticket = session.get(Ticket, item.ticket_id) if item.ticket_id else None
        if ticket is None:
            return  # a digest or a chat push: the log line and `helpdesk outbox` show it
        event = {"outbox_id": item.id, "outbox_kind": item.kind, "reason": reason}
        record_event(session, ticket, "delivery_failed", "helpdesk", **event)
        deliverer = self._deliverers.get(item.kind)
        if getattr(deliverer, "records_failures", False):
            deliverer.record(session, item, {"failed": reason})
        elif item.kind not in (kinds.THREAD_NOTICE, kinds.SLACK_POST_ROOT):
            # Not about a note that failed itself, nor without a thread to note it in.
            kinds.notice(
                session,
                ticket.id,
                Notice.DELIVERY_FAILED,
                item_id=item.id,
                kind=item.kind,
                reason=reason,
            )
