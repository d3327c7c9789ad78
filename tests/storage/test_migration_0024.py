"""Migration 0024: the Slack message a ticket was made from, one ticket per message."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, upgrade


def origin(ticket_id: int, ts: str) -> str:
    return (
        "INSERT INTO ticket_origins (ticket_id, channel, ts, author, in_thread, created_at) "
        f"VALUES ({ticket_id}, 'C0TEAM', '{ts}', 'U0KIM', false, CURRENT_TIMESTAMP)"
    )


def test_one_ticket_per_message_and_down_again(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0024")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO customers (email, name, created_at) "
                     "VALUES ('jane@customer.example', 'Jane', CURRENT_TIMESTAMP)")
            )  # fmt: skip
            for number in (1, 2):
                connection.execute(
                    text("INSERT INTO tickets (number, subject, status, priority, source, "
                         "customer_id, channel, reply_token, created_at, updated_at) VALUES "
                         f"({number}, 'Hi', 'open', 'normal', 'slack', 1, 'C0SUPPORT', "
                         f"'token{number}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
                )  # fmt: skip
            connection.execute(text(origin(1, "1800000000.000100")))
            connection.execute(text(origin(2, "1800000000.000200")))
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE ticket_origins SET ts = '1800000000.000100' "
                                    "WHERE ticket_id = 2"))  # fmt: skip
        downgrade(engine, "0022")
        assert "ticket_origins" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
