"""Gauges read when Prometheus scrapes: the outbox's backlog from the database (the query the
health check uses), the circuit breakers' states, the chat streams open in this process, the
mail the SMTP server has received and not yet committed.

Read at scrape time rather than kept up to date, because the database is shared: its backlog
is the same whichever process is asked, and no process has to track others' work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlmodel import Session

from bot.chat_bus import ChatBus
from bot.core.deliveries import backlog_by_kind
from bot.delivery.worker import BREAKER_STATES, OutboxWorker
from bot.monitoring.counters import UNKNOWN_SERVICE
from bot.storage.db import reader
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass
class _Backlog:
    """One service's rows, summed over the kinds it delivers."""

    pending: int = 0
    failed: int = 0
    oldest_seconds: float = 0.0


class MailWriting(Protocol):
    waiting: int
    queued: int


class MailWriterState(Collector):
    """The SMTP server's mail handed in and not yet answered: each `250` follows its commit,
    so a figure that keeps growing means the database is not keeping up with intake."""

    def __init__(self, writer: MailWriting):
        self._writer = writer

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "helpdesk_smtp_mail_uncommitted",
            "Mail received over SMTP whose sender waits for its commit (being stored, or "
            "queued behind the transaction in progress).",
            value=self._writer.waiting,
        )
        yield GaugeMetricFamily(
            "helpdesk_smtp_mail_queued",
            "Of those, mail not yet taken into a transaction: it joins the next one.",
            value=self._writer.queued,
        )


class HelpdeskState(Collector):
    def __init__(self, engine: Engine, outbox: OutboxWorker, bus: ChatBus):
        self._engine = engine
        self._outbox = outbox
        self._bus = bus

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._backlog()
        breakers = GaugeMetricFamily(
            "helpdesk_outbox_breaker_state",
            "Each service's circuit breaker: 1 for the state it is in (closed: rows flow; open: "
            "rows held after the service failed; probing: one row is testing it).",
            labels=["service", "state"],
        )
        for service, state in self._outbox.breaker_states().items():
            for candidate in BREAKER_STATES:
                breakers.add_metric([service, candidate], 1 if state == candidate else 0)
        yield breakers
        yield GaugeMetricFamily(
            "helpdesk_chat_streams_open",
            "Live-chat event streams (visitors' browsers) connected to this process.",
            value=self._bus.open_streams,
        )

    def _backlog(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "helpdesk_database_up", "1 when the database answered this scrape's query."
        )
        try:
            # A read: on SQLite it must not queue for the write lock (a scrape during a long
            # intake transaction would wait it out).
            with Session(reader(self._engine)) as session:
                kinds = backlog_by_kind(session)
        except Exception as exc:
            log.warning("metrics: database unreachable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        now = utcnow()
        # Every service the worker delivers through has its series, at 0 when idle.
        services = {service: _Backlog() for service in self._outbox.breaker_states()}
        for kind in kinds:
            service = self._outbox.service_of(kind.kind) or UNKNOWN_SERVICE
            backlog = services.setdefault(service, _Backlog())
            backlog.pending += kind.pending
            backlog.failed += kind.failed
            if kind.oldest_pending is not None:
                age = (now - kind.oldest_pending).total_seconds()
                backlog.oldest_seconds = max(backlog.oldest_seconds, age)
        pending = GaugeMetricFamily(
            "helpdesk_outbox_pending", "Outbox rows waiting to be delivered.", labels=["service"]
        )
        failed = GaugeMetricFamily(
            "helpdesk_outbox_failed",
            "Outbox rows given up on, until retried or dropped with `helpdesk outbox`.",
            labels=["service"],
        )
        oldest = GaugeMetricFamily(
            "helpdesk_outbox_oldest_pending_seconds",
            "How long the oldest waiting row has waited (0 with none waiting).",
            labels=["service"],
        )
        for service, backlog in sorted(services.items()):
            pending.add_metric([service], backlog.pending)
            failed.add_metric([service], backlog.failed)
            oldest.add_metric([service], backlog.oldest_seconds)
        yield from (pending, failed, oldest)
