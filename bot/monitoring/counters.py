"""The helpdesk's Prometheus counters, counted where things happen, in one registry per app.

A registry per `create_app` rather than prometheus_client's global one: tests build several
helpdesks in one process, and each must count only its own work (the composition root rule).

Counters count what *this process* did since it started: with several `helpdesk serve`
processes on one database, sum them across processes (Prometheus' `sum()`); a restart sets
them back to zero, which `rate()` and `increase()` allow for.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

UNKNOWN_SERVICE = "unknown"


class Counters:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self._deliveries = Counter(
            "helpdesk_outbox_deliveries",
            "Outbox rows delivered, by service.",
            ["service"],
            registry=self.registry,
        )
        self._failures = Counter(
            "helpdesk_outbox_delivery_failures",
            "Delivery attempts that did not deliver, by service; outcome=retry will be tried "
            "again (outage, rate limit, timeout), outcome=failed was given up.",
            ["service", "outcome"],
            registry=self.registry,
        )
        self._sla_warnings = Counter(
            "helpdesk_sla_warnings",
            "SLA warnings announced by this process's sweeps.",
            registry=self.registry,
        )
        self._sla_breaches = Counter(
            "helpdesk_sla_breaches",
            "SLA breaches announced by this process's sweeps.",
            registry=self.registry,
        )
        self._mail_accepted = Counter(
            "helpdesk_smtp_accepted",
            "Mails the SMTP server answered 250 to at the end of DATA.",
            registry=self.registry,
        )
        self._mail_refused = Counter(
            "helpdesk_smtp_refused",
            "Refusals the SMTP server answered, by reply code (550 unknown recipient, 552 too "
            "big, 451 database away, 500/502/503 broken or out-of-order commands).",
            ["code"],
            registry=self.registry,
        )

    def expect_services(self, services: list[str]) -> None:
        """Starts each service's delivery series at 0, so that a rate over them exists before
        the first delivery or failure."""
        for service in services:
            self._deliveries.labels(service)
            for outcome in ("retry", "failed"):
                self._failures.labels(service, outcome)

    def delivered(self, service: str | None) -> None:
        self._deliveries.labels(service or UNKNOWN_SERVICE).inc()

    def not_delivered(self, service: str | None, *, given_up: bool) -> None:
        outcome = "failed" if given_up else "retry"
        self._failures.labels(service or UNKNOWN_SERVICE, outcome).inc()

    def sla_swept(self, breaches: int, warnings: int) -> None:
        self._sla_breaches.inc(breaches)
        self._sla_warnings.inc(warnings)

    def mail_accepted(self) -> None:
        self._mail_accepted.inc()

    def mail_refused(self, code: str) -> None:
        self._mail_refused.labels(code).inc()
