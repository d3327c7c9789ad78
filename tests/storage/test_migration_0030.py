"""Migration 0030: the AI assistant's use per day, up and down on both databases."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, upgrade


def test_the_usage_table_comes_and_goes(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0030")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO ai_usage_days (day, requests, failures, prompt_tokens, "
                    "completion_tokens) VALUES ('2026-12-03', 1, 0, 5000000000, 20)"
                )
            )
            assert connection.execute(text("SELECT prompt_tokens FROM ai_usage_days")).scalar() == (
                5_000_000_000  # a busy year's tokens fit
            )
        downgrade(engine, "0029")
        assert "ai_usage_days" not in inspect(engine).get_table_names()
        upgrade(engine)
    finally:
        engine.dispose()
