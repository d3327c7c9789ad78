"""The shared state in Redis (REDIS_URL): a key per key, whose time to live is its time.

A key's time to live says how far its allowance is from full, or how long it is held, so Redis
forgets it by itself when that is over, and only Redis's clock counts. `take` reads and spends
in a WATCH transaction, retried when another process changed the key in between.
"""

from __future__ import annotations

import math

import redis

from bot.config import ConfigError
from bot.redaction import redact_url
from bot.storage.shared_state import SharedState, spend

TIMEOUT_SECONDS = 5


class RedisState(SharedState):
    def __init__(self, client: redis.Redis, namespace: str):
        self._redis = client
        self._namespace = namespace

    @classmethod
    def connect(cls, url: str, namespace: str) -> RedisState:
        """The Redis at `url`, or a ConfigError saying why it can't be used."""
        try:
            client = redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=TIMEOUT_SECONDS,
                socket_connect_timeout=TIMEOUT_SECONDS,
            )
            client.ping()
        except (ValueError, redis.RedisError) as exc:
            raise ConfigError(
                f"REDIS_URL={redact_url(url)!r}: Redis can't be used ({exc}); expected "
                "redis://host:6379/0 (or rediss://) of a running Redis, or leave it unset"
            ) from None
        return cls(client, namespace)

    def take(self, key: str, interval: float, burst: int = 1) -> float:
        name = self._namespace + key
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    full_in = max(pipe.pttl(name), 0) / 1000  # -2: no such key, so full
                    wait, full_in = spend(0.0, full_in, interval, burst)
                    if wait:
                        return wait
                    pipe.multi()
                    pipe.set(name, "", px=_milliseconds(full_in))
                    pipe.execute()
                    return 0.0
                except redis.WatchError:
                    continue  # another process spent from it meanwhile: look again

    def hold(self, key: str, seconds: float) -> None:
        if seconds > 0:
            self._redis.set(self._namespace + key, "", px=_milliseconds(seconds))
        else:
            self._redis.delete(self._namespace + key)

    def held(self, prefix: str) -> dict[str, float]:
        # SCAN walks every key, a thousand a round trip: fine for the few thousand a helpdesk
        # keeps (chat limits, cached answers), and it needs no index kept beside them.
        pattern = _glob_escape(self._namespace + prefix) + "*"
        names = list(self._redis.scan_iter(match=pattern, count=1000))
        with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.pttl(name)
            left = pipe.execute()
        start = len(self._namespace)
        return {name[start:]: ms / 1000 for name, ms in zip(names, left, strict=True) if ms > 0}

    def is_held(self, key: str) -> bool:
        return self._redis.pttl(self._namespace + key) > 0

    def get(self, key: str) -> str | None:
        return self._redis.get(self._namespace + key)

    def forget(self, prefix: str) -> None:
        pattern = _glob_escape(self._namespace + prefix) + "*"
        names = list(self._redis.scan_iter(match=pattern, count=1000))
        if names:
            self._redis.delete(*names)

    def put(self, key: str, value: str, seconds: float) -> None:
        self._redis.set(self._namespace + key, value, px=_milliseconds(seconds))


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
