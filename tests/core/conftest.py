"""The core tier's fixture: `core`, the domain core over one session on a migrated database.

SQLite by default, which keeps the tier fast; a test whose outcome depends on the database
(row locks, numbering) is marked `@ON_BOTH_DATABASES` (tests/core/builders.py) and runs on
PostgreSQL too. The database itself is the shared `engine` fixture of tests/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.conftest import fresh_database
from tests.core.builders import Core, desk_of, policy


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file at the newest schema, copied for each test: migrating takes longer
    than most core tests."""
    path = tmp_path_factory.mktemp("core") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request, tmp_path, migrated_sqlite) -> Iterator[str]:
    """SQLite, unless the test is parametrised over backends (ON_BOTH_DATABASES)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        shutil.copyfile(migrated_sqlite, tmp_path / "helpdesk.db")
    yield from fresh_database(backend, tmp_path)


@pytest.fixture
def core(engine) -> Iterator[Core]:
    with Session(engine, expire_on_commit=False) as session:
        yield Core(engine, session, desk_of(policy()))
