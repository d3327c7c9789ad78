"""Shared fixtures: databases on SQLite and PostgreSQL, corpora, free ports."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.fail(f"test corpora not found at {CORPORA}: ../shared must sit beside the checkout")
    return CORPORA


def fresh_postgres_database() -> Iterator[str]:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {POSTGRES_URL} is unavailable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has PostgreSQL; a skip there would hide a failure
        pytest.skip(message)
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on `backend` ("sqlite" or "postgres")."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'helpdesk.db'}"
    else:
        yield from fresh_postgres_database()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def engine(database_url):
    """A database of `database_url` upgraded to the newest schema, as `serve` leaves it."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
