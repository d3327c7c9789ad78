"""Migration 0029: self-service sessions, order look-ups and a conversation's verified order,
up and down on both backends."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, upgrade

TABLES = {"self_service_sessions", "order_lookups"}


def test_the_tables_and_the_column_come_and_go(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0029")
        assert set(inspect(engine).get_table_names()) >= TABLES
        columns = {c["name"] for c in inspect(engine).get_columns("chat_conversations")}
        assert "verified_order" in columns
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO self_service_sessions (token_hash, created_at, deflected_at) "
                    "VALUES ('h1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO order_lookups (created_at, matched, proof_hash, order_name) "
                    "VALUES (CURRENT_TIMESTAMP, true, 'p1', '#1001')"
                )
            )
        downgrade(engine, "0028")
        inspector = inspect(engine)
        assert not TABLES & set(inspector.get_table_names())
        assert "verified_order" not in {
            c["name"] for c in inspector.get_columns("chat_conversations")
        }
        upgrade(engine)
    finally:
        engine.dispose()
