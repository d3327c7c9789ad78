"""Migration 0021: one acknowledgement claim per customer, the key concurrent mail meets."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, upgrade
from tests.storage.rows import customer_and_ticket

INSERT = (
    "INSERT INTO acknowledgements (customer_id, ticket_id, acknowledged_at) "
    "VALUES (1, 1, CURRENT_TIMESTAMP)"
)


def test_one_claim_per_customer_and_down_again(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0021")
        with engine.begin() as connection:
            customer_and_ticket(connection)
            connection.execute(text(INSERT))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text(INSERT))
        assert inspect(engine).get_pk_constraint("acknowledgements")["constrained_columns"] == [
            "customer_id"
        ]
        downgrade(engine, "0018")
        assert "acknowledgements" not in inspect(engine).get_table_names()
        upgrade(engine)
    finally:
        engine.dispose()
