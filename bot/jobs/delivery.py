"""The contract between the outbox worker and what it delivers through."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from bot.storage.models import OutboxItem


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


class GiveUp(Exception):
    """The far side refused this content for good; resending it can never succeed."""


class Deliverer(Protocol):
    """Sends one kind of outbox row, and records its outcome in the success transaction."""

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict: ...

    def record(self, session: Session, item: OutboxItem, result: dict) -> None: ...
