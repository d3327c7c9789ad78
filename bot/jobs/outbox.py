"""Delivers outbox rows to Slack: in order per ticket, exactly once, across crashes and outages.

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

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.core.tickets import tags_of
from bot.storage.db import transaction
from bot.storage.models import Customer, Message, OutboxItem, OutboxStatus, Ticket, utcnow
from bot.views import ids
from bot.views.thread_message import (
    CustomerMessage,
    customer_message_blocks,
    customer_message_text,
)
from bot.views.ticket_root import TicketSummary, root_blocks, root_text

log = logging.getLogger(__name__)

# Errors about the content itself: resending the same content can never succeed.
PERMANENT_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text"}
MAX_BACKOFF_SECONDS = 300
LOOKUP_PAGES = 10


class RetryLater(Exception):
    """Delivery cannot happen yet; try again after `delay` seconds."""

    def __init__(self, reason: str, delay: float | None = None, definite: bool = True):
        super().__init__(reason)
        self.delay = delay
        # False when the request may still have reached Slack.
        self.definite = definite


@dataclass(frozen=True)
class Claimed:
    item_id: int
    channel: str | None
    in_doubt: bool


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        *,
        concurrency: int = 4,
        lease: timedelta = timedelta(seconds=60),
        idle_poll_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
    ):
        self._engine = engine
        self._client = client
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
            with Session(self._engine, expire_on_commit=False) as session:
                item = session.get(OutboxItem, claim.item_id)
                result = self._send(session, item, claim.in_doubt)
            self._record_success(claim.item_id, result)
        except RetryLater as retry:
            self._record_retry(claim, str(retry), retry.delay, retry.definite)
        except SlackApiError as exc:
            self._record_slack_error(claim, exc)
        except Exception as exc:
            # Timeouts and broken connections: the request may have landed.
            self._record_retry(claim, f"{type(exc).__name__}: {exc}", None, definite=False)

    def _send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = session.get(Ticket, item.ticket_id)
        if item.kind == kinds.SLACK_POST_ROOT:
            if ticket.thread_ts:
                return {"ts": ticket.thread_ts}
            found = self._find_posted(item, ticket, thread_ts=None) if in_doubt else None
            return found or self._post(item, ticket, None, *self._render_root(session, ticket))
        if ticket.thread_ts is None:
            raise RetryLater("the ticket's root message is not in Slack yet", delay=5)
        if item.kind == kinds.SLACK_POST_MESSAGE:
            found = (
                self._find_posted(item, ticket, thread_ts=ticket.thread_ts) if in_doubt else None
            )
            text, blocks = self._render_message(session, item)
            return found or self._post(item, ticket, ticket.thread_ts, text, blocks)
        if item.kind == kinds.SLACK_UPDATE_ROOT:
            text, blocks = self._render_root(session, ticket)
            self._client.chat_update(
                channel=ticket.channel, ts=ticket.thread_ts, text=text, blocks=blocks
            )
            return {"ts": ticket.thread_ts}
        raise ValueError(f"unknown outbox kind {item.kind!r}")

    def _post(
        self, item: OutboxItem, ticket: Ticket, thread_ts: str | None, text: str, blocks: list
    ) -> dict:
        response = self._client.chat_postMessage(
            channel=ticket.channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": ids.OUTBOX_METADATA_EVENT,
                "event_payload": {"outbox_id": item.id, "ticket": ticket.number},
            },
        )
        return {"ts": response["ts"]}

    def _find_posted(self, item: OutboxItem, ticket: Ticket, thread_ts: str | None) -> dict | None:
        """The ts of this row's message if an earlier attempt did post it, else None."""
        cursor = None
        for _ in range(LOOKUP_PAGES):
            arguments = {
                "channel": ticket.channel,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if thread_ts:
                response = self._client.conversations_replies(ts=thread_ts, **arguments)
            else:
                oldest = item.created_at.timestamp() - 60
                response = self._client.conversations_history(oldest=f"{oldest:.6f}", **arguments)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == ids.OUTBOX_METADATA_EVENT
                    and payload.get("outbox_id") == item.id
                ):
                    log.info("outbox row %s was already in Slack as %s", item.id, message["ts"])
                    return {"ts": message["ts"]}
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        raise RetryLater("could not finish looking for an earlier attempt", definite=False)

    def _render_root(self, session: Session, ticket: Ticket) -> tuple[str, list]:
        customer = session.get(Customer, ticket.customer_id)
        summary = TicketSummary(
            ticket_id=ticket.id,
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,
            priority=ticket.priority,
            source=ticket.source,
            customer_name=customer.name,
            customer_email=customer.email,
            assignee=ticket.assignee,
            tags=tags_of(session, ticket.id),
        )
        return root_text(summary), root_blocks(summary)

    def _render_message(self, session: Session, item: OutboxItem) -> tuple[str, list]:
        message = session.get(Message, item.message_id)
        view = CustomerMessage(
            author_name=message.author_name,
            author_email=message.author,
            body=message.body,
            source=message.source,
        )
        return customer_message_text(view), customer_message_blocks(view)

    def _record_success(self, item_id: int, result: dict) -> None:
        with transaction(self._engine) as session:
            item = session.get(OutboxItem, item_id)
            item.status = OutboxStatus.SENT
            item.sent_at = self._clock()
            item.result = result
            item.claimed_until = None
            item.dedupe_key = None
            item.in_doubt = False
            item.last_error = None
            if item.kind == kinds.SLACK_POST_ROOT:
                session.get(Ticket, item.ticket_id).thread_ts = result["ts"]
            elif item.kind == kinds.SLACK_POST_MESSAGE:
                session.get(Message, item.message_id).slack_ts = result["ts"]

    def _record_slack_error(self, claim: Claimed, exc: SlackApiError) -> None:
        response = exc.response
        error = response.get("error") if isinstance(response.data, dict) else None
        if response.status_code == 429:
            delay = float(
                response.headers.get("Retry-After", response.headers.get("retry-after", 1))
            )
            if claim.channel:
                self._paused_until[claim.channel] = time.monotonic() + delay
            self._record_retry(claim, "rate limited by Slack", delay, definite=True)
        elif error in PERMANENT_ERRORS:
            self._record_failure(claim, f"Slack refused the message: {error}")
        elif error:
            # ok:false answers are definite; channel_not_found and friends heal once fixed.
            self._record_retry(claim, f"Slack error: {error}", None, definite=True)
        else:
            self._record_retry(claim, f"Slack HTTP {response.status_code}", None, definite=False)

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
