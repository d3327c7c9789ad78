"""Migrations on both backends: upgrade from nothing, down to nothing, and up again."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.storage.db import make_engine
from bot.storage.migrate import downgrade, is_current, upgrade


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert is_current(engine)
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert is_current(engine)
    finally:
        engine.dispose()


def test_migrations_match_the_models(database_url):
    """A model change without its migration is caught here, not in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
    finally:
        engine.dispose()
