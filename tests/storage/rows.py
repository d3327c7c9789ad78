"""Rows the migrations' tests start from, written in SQL as the schema of their revision has it."""

from __future__ import annotations

from sqlalchemy import Connection, text


def customer_and_ticket(connection: Connection) -> None:
    """Customer 1 (Jane) and her ticket 1."""
    connection.execute(
        text("INSERT INTO customers (email, name, created_at) "
             "VALUES ('jane@customer.example', 'Jane', CURRENT_TIMESTAMP)")
    )  # fmt: skip
    connection.execute(
        text("INSERT INTO tickets (number, subject, status, priority, source, "
             "customer_id, channel, reply_token, created_at, updated_at) VALUES "
             "(1, 'Hi', 'open', 'normal', 'email', 1, 'C0SUPPORT', 'abc', "
             "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
    )  # fmt: skip
