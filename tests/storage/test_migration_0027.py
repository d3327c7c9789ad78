"""Migration 0027: shop actions, one row per idempotency key and one action under way per
order, and down again."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, upgrade
from tests.storage.rows import customer_and_ticket


def action(key: str, in_flight: str | None) -> str:
    held = f"'{in_flight}'" if in_flight else "NULL"
    return (
        "INSERT INTO shop_actions (ticket_id, kind, params, requested_by, state, "
        f"idempotency_key, in_flight, created_at) VALUES (1, 'refund', '{{}}', 'U0AGENT1', "
        f"'queued', '{key}', {held}, CURRENT_TIMESTAMP)"
    )


def test_one_row_per_key_one_action_per_order_and_down_again(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0027")
        with engine.begin() as connection:
            customer_and_ticket(connection)
            connection.execute(text(action("hd-1", "gid://shopify/Order/1")))
            # Finished actions hold no order: any number of them.
            connection.execute(text(action("hd-2", None)))
            connection.execute(text(action("hd-3", None)))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(action("hd-4", "gid://shopify/Order/1")))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(action("hd-1", "gid://shopify/Order/2")))
        downgrade(engine, "0026")
        assert "shop_actions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
