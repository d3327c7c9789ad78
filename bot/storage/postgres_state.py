"""The shared state in PostgreSQL: a row per key in `shared_state`, changed under its row lock.

Times are the database's (`clock_timestamp()`), so processes on several machines agree on them.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, Float, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from bot.storage.models import SharedStateEntry
from bot.storage.shared_state import SharedState, spend

TABLE = SharedStateEntry.__table__
NOW = cast(func.extract("epoch", func.clock_timestamp()), Float)
# Dead rows (past their time) are deleted by whichever process comes by, this often at most.
SWEEP_EVERY = 60.0


class PostgresState(SharedState):
    def __init__(self, engine: Engine):
        self._engine = engine
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def take(self, key: str, interval: float, burst: int = 1) -> float:
        with self._engine.begin() as db:
            # A row to lock even for a new key, so that two processes can't both find it free.
            db.execute(insert(TABLE).values(key=key, until=0).on_conflict_do_nothing())
            now, full_at = db.execute(
                select(NOW, TABLE.c.until).where(TABLE.c.key == key).with_for_update()
            ).one()
            wait, full_at = spend(now, full_at, interval, burst)
            if not wait:
                db.execute(
                    update(TABLE).where(TABLE.c.key == key).values(until=full_at, value=None)
                )
        self._sweep_now_and_then()
        return wait

    def hold(self, key: str, seconds: float) -> None:
        self._upsert(key, None, seconds)

    def held(self, prefix: str) -> dict[str, float]:
        with self._engine.connect() as db:
            rows = db.execute(
                select(TABLE.c.key, TABLE.c.until - NOW).where(
                    TABLE.c.key.startswith(prefix, autoescape=True), TABLE.c.until > NOW
                )
            )
            return dict(rows.tuples().all())

    def is_held(self, key: str) -> bool:
        with self._engine.connect() as db:
            return bool(
                db.execute(
                    select(TABLE.c.key).where(TABLE.c.key == key, TABLE.c.until > NOW)
                ).first()
            )

    def get(self, key: str) -> str | None:
        with self._engine.connect() as db:
            return db.execute(
                select(TABLE.c.value).where(TABLE.c.key == key, TABLE.c.until > NOW)
            ).scalar()

    def put(self, key: str, value: str, seconds: float) -> None:
        self._upsert(key, value, seconds)
        self._sweep_now_and_then()

    def forget(self, prefix: str) -> None:
        with self._engine.begin() as db:
            db.execute(delete(TABLE).where(TABLE.c.key.startswith(prefix, autoescape=True)))

    def _upsert(self, key: str, value: str | None, seconds: float) -> None:
        row = insert(TABLE).values(key=key, until=NOW + seconds, value=value)
        with self._engine.begin() as db:
            db.execute(
                row.on_conflict_do_update(
                    index_elements=[TABLE.c.key],
                    set_={"until": row.excluded.until, "value": row.excluded.value},
                )
            )

    def _sweep_now_and_then(self) -> None:
        with self._sweep_lock:
            if time.monotonic() < self._next_sweep:
                return
            self._next_sweep = time.monotonic() + SWEEP_EVERY
        with self._engine.begin() as db:
            db.execute(delete(TABLE).where(TABLE.c.until < NOW))
