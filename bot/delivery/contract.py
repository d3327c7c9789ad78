"""The contract between the outbox worker and what it delivers through."""

from __future__ import annotations

import errno
import http.client
import smtplib
import socket
import ssl
import urllib.error
from typing import Protocol

from slack_sdk.errors import SlackClientNotConnectedError
from sqlalchemy.exc import OperationalError
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


# Failures of the way to a service, not of the row: retried with backoff for as long as they
# last. Anything else a deliverer raises is a bug or content it can't handle (a header that
# can't be composed, an answer of an unexpected shape): retried a few times, then failed.
TRANSIENT = (
    ConnectionError,  # refused, reset, aborted, broken pipe
    TimeoutError,
    socket.gaierror,  # a name that does not resolve, for now
    socket.herror,
    ssl.SSLError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    urllib.error.URLError,
    http.client.HTTPException,  # a connection closed mid-answer
    SlackClientNotConnectedError,
    OperationalError,  # the database went away while the row was read
)
_NETWORK_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ETIMEDOUT}
)


def is_transient(exc: BaseException) -> bool:
    """True for a failure of the network, a service or the database, which heals by waiting."""
    if isinstance(exc, (RetryLater, *TRANSIENT)):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


class Deliverer(Protocol):
    """Sends one kind of outbox row, and records its outcome in the success transaction.

    `service` (one of the names above) is what `ServiceDown` speaks of; a deliverer without
    it has no circuit breaker. `posts_to_channel` marks rows posted into their ticket's
    channel, where the service limits how fast it takes them (Slack: about one a second):
    the worker sends one such row per channel at a time, and paces a rate-limited channel.

    A deliverer with `records_failures` set takes a row that failed for good through
    `record(session, item, {"failed": reason})`, and shows the failure itself (a reply marked
    *Not delivered* with its Retry button); for the others the worker posts a note in the
    ticket's thread.
    """

    service: str
    posts_to_channel: bool

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict: ...

    def record(self, session: Session, item: OutboxItem, result: dict) -> None: ...
