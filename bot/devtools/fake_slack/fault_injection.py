"""Failing the way Slack fails, on a test's request: queued failures, outages, answers held
back, and token-bucket rate limits that answer HTTP 429 with ``Retry-After``."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from bot.devtools.fake_slack.http_exchange import Reply
from bot.devtools.fake_slack.slack_error import Args

_FAILURE_ERRORS = {429: "ratelimited", 503: "service_unavailable"}


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int

    def reply(self) -> Reply:
        return _failure(self.status, self.error, self.retry_after)


def _failure(status: int, error: str | None = None, retry_after: int | None = None) -> Reply:
    """An injected failure as Slack sends it; 429s always say when to retry."""
    headers = {}
    if status == 429 or retry_after is not None:
        headers["Retry-After"] = str(1 if retry_after is None else retry_after)
    body = {"ok": False, "error": error or _FAILURE_ERRORS.get(status, "internal_error")}
    return Reply(status, body, headers)


@dataclass(frozen=True)
class _RateRule:
    per_second: float
    burst: int
    per_channel: bool


@dataclass
class _TokenBucket:
    per_second: float
    burst: int
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: 0 when granted, else the seconds until one is available."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class FaultInjection:
    """The failures a test has asked for. Part of FakeSlack, which shares the workspace's lock
    (``_cond``) with it."""

    _cond: threading.Condition

    def __init__(self) -> None:
        self._faults: dict[str, deque[_Fault]] = {}
        self._outage: int | None = None
        self._held_methods: set[str] = set()
        self._release = threading.Event()
        self._rate_rules: dict[str, _RateRule] = {}
        self._buckets: dict[tuple[str, str | None], _TokenBucket] = {}

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        count: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Fail the next ``count`` calls of ``method`` ("*" for any method).

        429 answers carry ``Retry-After`` (default 1) and error "ratelimited"; status 200 answers
        ``ok: false`` with ``error``.
        """
        if status == 200 and not error:
            raise ValueError("an HTTP 200 failure needs an error code")
        with self._cond:
            self._faults.setdefault(method, deque()).append(
                _Fault(status, error, retry_after, count)
            )

    def clear_faults(self) -> None:
        """Forget the failures still queued by fail_next()."""
        with self._cond:
            self._faults.clear()

    def set_outage(self, on: bool, status: int = 503) -> None:
        """While on, every Web API call fails with ``status``."""
        with self._cond:
            self._outage = status if on else None

    def set_rate_limit(
        self, method: str, per_second: float | None, burst: int = 1, per_channel: bool = True
    ) -> None:
        """Token-bucket limit ``method`` (per channel by default, like chat.postMessage's ~1/s).

        Calls over the limit get HTTP 429 with ``Retry-After`` in whole seconds (at least 1).
        ``per_second=None`` removes the limit.
        """
        with self._cond:
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != method}
            if per_second is None:
                self._rate_rules.pop(method, None)
            else:
                self._rate_rules[method] = _RateRule(per_second, burst, per_channel)

    def hold_responses(self, method: str) -> None:
        """Carry out calls of ``method`` but withhold their answers until release_responses().

        Simulates a client that dies after Slack acted but before it learned the result.
        """
        with self._cond:
            self._held_methods.add(method)

    def release_responses(self) -> None:
        """Send every withheld answer and stop holding."""
        with self._cond:
            self._held_methods.clear()
            released, self._release = self._release, threading.Event()
        released.set()

    # -- consulted by the HTTP shell for each call (with the lock held) -----------------------

    def _injected_failure(self, method: str) -> Reply | None:
        """The outage's answer, or the next failure queued for ``method``; None for neither."""
        if self._outage is not None:
            return _failure(self._outage)
        fault = self._take_fault(method)
        return fault.reply() if fault else None

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        return None

    def _rate_limited(self, method: str, args: Args) -> Reply | None:
        """A 429 with ``Retry-After`` in whole seconds when the call is over its limit."""
        rule = self._rate_rules.get(method)
        if rule is None:
            return None
        channel = (args.get("channel") or args.get("channel_id")) if rule.per_channel else None
        now = time.monotonic()
        bucket = self._buckets.setdefault(
            (method, channel), _TokenBucket(rule.per_second, rule.burst, rule.burst, now)
        )
        wait = bucket.take(now)
        return _failure(429, retry_after=max(1, math.ceil(wait))) if wait else None

    def _held_gate(self, method: str) -> threading.Event | None:
        """What an answer to ``method`` must wait for before it is sent, if it is held."""
        return self._release if method in self._held_methods else None
