"""On SQLite, transactions through `durable(engine)` (mail answered 250) commit with
`synchronous=FULL`; every other transaction on the same pooled connections keeps `NORMAL`."""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.db import durable, make_engine, transaction

FULL, NORMAL = 2, 1  # what `PRAGMA synchronous` answers


def synchronous_inside(engine) -> int:
    with transaction(engine) as session:
        return session.execute(text("PRAGMA synchronous")).scalar_one()


def test_durable_transactions_sync_to_disk_and_others_do_not(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/durable.db")
    try:
        # One pooled connection at a time: each transaction reuses the previous one's.
        assert synchronous_inside(engine) == NORMAL
        assert synchronous_inside(durable(engine)) == FULL
        assert synchronous_inside(engine) == NORMAL
        assert synchronous_inside(durable(engine)) == FULL
    finally:
        engine.dispose()
