"""The core tier's fixture: `core`, the domain core over one session on a migrated database.

SQLite by default, which keeps the tier fast; a test whose outcome depends on the database
(row locks, numbering) is marked `@ON_BOTH_DATABASES` (tests/core/builders.py) and runs on
PostgreSQL too. The database itself is the shared `engine` fixture of tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from tests.conftest import sqlite_unless_on_both
from tests.core.builders import Core, desk_of, policy


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite, unless the test is parametrised over backends (ON_BOTH_DATABASES)."""
    yield from sqlite_unless_on_both(request, tmp_path)


@pytest.fixture
def core(engine) -> Iterator[Core]:
    with Session(engine, expire_on_commit=False) as session:
        yield Core(engine, session, desk_of(policy()))
