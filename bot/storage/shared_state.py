"""State the `helpdesk serve` processes of one database share: channel pauses, rate limits, a cache.

One process keeps it in memory (`MemoryState`); several share it through PostgreSQL
(`bot/storage/postgres_state.py`) or Redis (`bot/storage/redis_state.py`, when REDIS_URL is set),
so that a Slack channel one process was told to leave alone is left alone by all of them, and a
visitor's rate limit is the same whichever process answers. `connect_shared_state` picks one.

Every key holds a time: when its allowance is full again. `take` spends from it (a token bucket
in the form of the generic cell rate algorithm, so one number per key is enough), `hold` sets it
outright, `held` lists the keys still taken. `get` and `put` keep a value for a while.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Engine

from bot.config import Settings

MAX_KEYS = 100_000
# Float noise at an allowance's exact edge must not refuse a take that is due.
_EPSILON = 1e-6


def spend(now: float, full_at: float | None, interval: float, burst: int) -> tuple[float, float]:
    """One use of an allowance of `burst` uses, one more every `interval` seconds, that is full
    again at `full_at`: (0, the new `full_at`) when granted, else (seconds to wait, `full_at`)."""
    current = max(full_at or now, now)
    wait = current + interval - now - burst * interval
    if wait > _EPSILON:
        return wait, current
    return 0.0, current + interval


class SharedState(ABC):
    """Keys are namespaced by their users ("slack:…", "chat:…", "shopify:…")."""

    @abstractmethod
    def take(self, key: str, interval: float, burst: int = 1) -> float:
        """Spends one use of `key` (`burst` at once, one more every `interval` seconds): 0 when
        granted, else the seconds until it would be. With a burst of 1 it takes a turn: granted
        only when nobody holds the key, which is then held for `interval`."""

    @abstractmethod
    def hold(self, key: str, seconds: float) -> None:
        """Holds `key` for `seconds` from now, whatever held it before; 0 lets it go."""

    @abstractmethod
    def held(self, prefix: str) -> dict[str, float]:
        """The keys starting with `prefix` that are held, with the seconds each has left."""

    @abstractmethod
    def get(self, key: str) -> str | None:
        """The value `put` under `key`, unless it has expired."""

    @abstractmethod
    def put(self, key: str, value: str, seconds: float) -> None:
        """Keeps `value` under `key` for `seconds`."""

    @abstractmethod
    def forget(self, prefix: str) -> None:
        """Drops every key starting with `prefix`, held or kept, at once."""

    @abstractmethod
    def is_held(self, key: str) -> bool:
        """Whether `key` is held now: one key, not a scan of a prefix."""


class MemoryState(SharedState):
    """This process's memory: a single process, SQLite. Bounded: past `max_keys` the least
    recently used keys are forgotten (a forgotten rate limit starts again full)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS):
        self._clock = clock
        self._max_keys = max_keys
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, interval: float, burst: int = 1) -> float:
        with self._lock:
            now = self._clock()
            full_at, _ = self._entries.pop(key, (None, None))
            wait, full_at = spend(now, full_at, interval, burst)
            self._store(key, full_at, None)
            return wait

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            if seconds > 0:
                self._store(key, self._clock() + seconds, None)

    def held(self, prefix: str) -> dict[str, float]:
        with self._lock:
            now = self._clock()
            return {
                key: until - now
                for key, (until, _) in self._entries.items()
                if key.startswith(prefix) and until > now
            }

    def get(self, key: str) -> str | None:
        with self._lock:
            until, value = self._entries.get(key, (0.0, None))
            if until <= self._clock():
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: str, seconds: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._store(key, self._clock() + seconds, value)

    def is_held(self, key: str) -> bool:
        with self._lock:
            until, _ = self._entries.get(key, (0.0, None))
            return until > self._clock()

    def forget(self, prefix: str) -> None:
        with self._lock:
            for key in [key for key in self._entries if key.startswith(prefix)]:
                del self._entries[key]

    def _store(self, key: str, until: float, value: str | None) -> None:
        self._entries[key] = (until, value)
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)


def connect_shared_state(settings: Settings, engine: Engine) -> SharedState:
    """Redis when REDIS_URL is set; else PostgreSQL's own table; else (SQLite, which one
    process uses) memory."""
    if settings.redis_url:
        from bot.storage.redis_state import RedisState

        # Processes of one database share state; other helpdesks on the same Redis don't.
        database = engine.url.render_as_string(hide_password=True)
        return RedisState.connect(settings.redis_url, f"helpdesk:{database}:")
    if engine.dialect.name == "postgresql":
        from bot.storage.postgres_state import PostgresState

        return PostgresState(engine)
    return MemoryState()
