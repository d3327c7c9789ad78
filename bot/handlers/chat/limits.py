"""Rate limits for the chat API: a token bucket per key, in the state the processes share.

With one process that is its memory, so refusing a visitor flooding the API costs a dictionary
lookup; with several it is PostgreSQL or Redis, so a visitor gets the same limit whichever
process answers (`bot/storage/shared_state.py`).
"""

from __future__ import annotations

import math

from fastapi import Request

from bot.handlers.chat.errors import ChatError
from bot.storage.shared_state import SharedState


class RateLimiter:
    def __init__(self, state: SharedState, name: str, per_period: int, period_seconds: float):
        self._state = state
        self._name = name
        self._burst = per_period
        self._interval = period_seconds / per_period

    def take(self, key: str) -> int:
        """0 when allowed, else the whole seconds to wait before trying again."""
        wait = self._state.take(f"chat:{self._name}:{key}", self._interval, self._burst)
        return max(1, math.ceil(wait)) if wait else 0


def check_limit(limiter: RateLimiter, key: str, what: str) -> None:
    """Takes one from `key`'s bucket, or refuses with 429 and how long to wait."""
    wait = limiter.take(key)
    if wait:
        raise ChatError(
            429,
            "rate_limited",
            f"{what} Try again in {wait} second{'s' if wait != 1 else ''}.",
            {"Retry-After": str(wait)},
        )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
