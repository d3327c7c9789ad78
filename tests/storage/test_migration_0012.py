"""Migration 0012 forgets Shopify ids that earlier versions may have taken from a quoted order."""

from __future__ import annotations

from sqlalchemy import text

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade


def test_customers_shopify_ids_are_forgotten_and_tickets_can_be_linked(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0009")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO customers (email, name, shopify_id, created_at) "
                     "VALUES ('robert@office.example', 'Robert', 'gid://shopify/Customer/1', "
                     "CURRENT_TIMESTAMP)")
            )  # fmt: skip
        upgrade(engine, "0012")
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT email, shopify_id FROM customers")).all()
            linked = connection.execute(text("SELECT shopify_customer_id FROM tickets")).all()
        assert [tuple(row) for row in kept] == [("robert@office.example", None)]
        assert linked == []  # the column exists
        upgrade(engine)
    finally:
        engine.dispose()
