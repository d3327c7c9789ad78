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
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _not_search_index}
            )
            differences = compare_metadata(context, SQLModel.metadata)
        assert differences == []
    finally:
        engine.dispose()


def _not_search_index(item, name, type_, reflected, compare_to) -> bool:
    """The knowledge base's full-text index is the migration's alone (0028), with no model:
    SQLite's FTS5 table and its shadow tables, PostgreSQL's generated column and its index."""
    return not (name or "").startswith(
        ("kb_articles_fts", "search_vector", "ix_kb_articles_search")
    )
