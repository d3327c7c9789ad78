"""The contract between the outbox worker and what it delivers through."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from bot.storage.models import OutboxItem

# The services deliverers send through. Each has its own circuit breaker in the outbox worker:
# while one is down, its rows wait and the others' keep flowing.
SLACK_API = "Slack Web API"
OUTBOUND_SMTP = "outbound SMTP"
CHAT_BUS = "chat bus"

# A result carrying this key finished its row (say, a reply failed for good after the mail
# server stayed away too long) without the service having answered: the breaker stays open.
SERVICE_DOWN = "service_down"


class RetryLater(Exception):
    """Delivery cannot happen yet; try again after `delay` seconds (None: backoff)."""

    def __init__(
        self,
        reason: str,
        delay: float | None = None,
        definite: bool = True,
        pause_channel: bool = False,
    ):
        super().__init__(reason)
        self.delay = delay
        # False when the request may still have reached the far side.
        self.definite = definite
        # A rate limit: other rows for the same Slack channel wait `delay` too.
        self.pause_channel = pause_channel


class ServiceDown(RetryLater):
    """The service itself failed (5xx, connection refused or reset, timeout), not this row.

    The worker opens the service's circuit breaker: none of its rows are sent for a while,
    then a single one probes whether it is back. `delay` is the service's `Retry-After`.
    """


class GiveUp(Exception):
    """The far side refused this content for good; resending it can never succeed."""


class Deliverer(Protocol):
    """Sends one kind of outbox row, and records its outcome in the success transaction.

    `service` (one of the names above) is what `ServiceDown` speaks of; a deliverer without
    it has no circuit breaker. `posts_to_channel` marks rows posted into their ticket's
    channel, where the service limits how fast it takes them (Slack: about one a second):
    the worker sends one such row per channel at a time, and paces a rate-limited channel.
    """

    service: str
    posts_to_channel: bool

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict: ...

    def record(self, session: Session, item: OutboxItem, result: dict) -> None: ...
