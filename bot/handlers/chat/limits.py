"""Rate limits for the chat API: token buckets per key, in this process's memory.

Refusing costs a dictionary lookup, so a visitor flooding the API is turned away before any
database work and other visitors don't slow down. The table is bounded: when full, the
least recently used keys are forgotten (a forgotten key starts again with a full bucket).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(self, per_period: int, period_seconds: float, max_keys: int = MAX_KEYS):
        self._capacity = float(per_period)
        self._refill_per_second = per_period / period_seconds
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> int:
        """0 when allowed, else the whole seconds to wait before trying again."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(key, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._refill_per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                allowed = True
            else:
                self._buckets[key] = (tokens, now)
                allowed = False
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        if allowed:
            return 0
        return max(1, math.ceil((1 - tokens) / self._refill_per_second))
