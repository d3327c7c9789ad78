"""Wakes the live-chat event streams of a conversation when it has news.

A wake-up is only a hint: each stream reads the messages themselves from the database,
after the last one it sent, so a hint lost or doubled never loses or doubles a message.
On PostgreSQL the hint goes through NOTIFY, so that a visitor connected to another
`helpdesk serve` process hears it too; on SQLite (one process) it stays in memory.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict

import psycopg
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "helpdesk_chat"
RECONNECT_DELAYS = (0.5, 1, 2, 5, 10)


class Subscription:
    """One open event stream; lives on the event loop that created it."""

    def __init__(self, key: str):
        self.key = key
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken, False when `timeout` passed first."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class ChatBus:
    """The streams open in this process, by conversation."""

    def __init__(self):
        self._streams: dict[str, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()
        self.closing = threading.Event()

    def subscribe(self, key: str) -> Subscription:
        subscription = Subscription(key)
        with self._lock:
            self._streams[key].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            streams = self._streams.get(subscription.key)
            if streams is not None:
                streams.discard(subscription)
                if not streams:
                    del self._streams[subscription.key]

    @property
    def open_streams(self) -> int:
        with self._lock:
            return sum(len(streams) for streams in self._streams.values())

    def announce(self, key: str) -> None:
        """Called from any thread once the news is committed."""
        self.wake(key)

    def wake(self, key: str) -> None:
        with self._lock:
            streams = list(self._streams.get(key, ()))
        for subscription in streams:
            subscription.wake()

    def wake_all(self) -> None:
        with self._lock:
            streams = [s for group in self._streams.values() for s in group]
        for subscription in streams:
            subscription.wake()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        """Ends every open stream (browsers reconnect, to another process or after restart)."""
        self.closing.set()
        self.wake_all()


class PostgresChatBus(ChatBus):
    """Announces through NOTIFY and hears every process's announcements through LISTEN."""

    def __init__(self, engine: Engine):
        super().__init__()
        self._engine = engine
        self._dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._thread: threading.Thread | None = None

    def announce(self, key: str) -> None:
        with self._engine.connect() as connection:
            connection.execute(
                text("SELECT pg_notify(:channel, :key)"), {"channel": NOTIFY_CHANNEL, "key": key}
            )
            connection.commit()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="chat-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        super().stop()
        if self._thread is not None:
            self._thread.join(5)

    def _listen(self) -> None:
        failures = 0
        while not self.closing.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    failures = 0
                    # Announcements made while we weren't listening are lost: every stream
                    # looks at the database once, and finds whatever it missed.
                    self.wake_all()
                    while not self.closing.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            self.wake(notice.payload)
            except psycopg.Error as exc:
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("chat: lost the LISTEN connection (%s); retrying in %ss", exc, delay)
                self.closing.wait(delay)


def chat_bus(engine: Engine) -> ChatBus:
    if engine.dialect.name == "postgresql":
        return PostgresChatBus(engine)
    return ChatBus()
