"""Shared fixtures: databases on SQLite and PostgreSQL, Redis, corpora, free ports."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.mail.corpus import SCORES, Score

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# The tests that take longest, longest first, mostly waiting (outages, subprocesses, Slack's
# pace): `make test` hands them out first, so that its workers finish together rather than
# one running a long test alone at the end.
STARTED_FIRST = (
    "tests/e2e/test_several_processes.py",
    "tests/deploy/test_install_and_start.py",
    "tests/e2e/test_faults.py",
    "tests/e2e/test_sla.py::test_two_processes",
    "tests/e2e/test_outbox_poison.py",
    "tests/e2e/test_crash_recovery.py",
    "tests/e2e/test_digest.py::test_export",
    "tests/e2e/test_customer_data.py",
    "tests/e2e/test_hostile_input.py",
    "tests/e2e/test_cli_commands.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        starts = (n for n, prefix in enumerate(STARTED_FIRST) if item.nodeid.startswith(prefix))
        return next(starts, len(STARTED_FIRST))

    items.sort(key=rank)


def pytest_sessionfinish(session: pytest.Session) -> None:
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: its scores go to the controller
        worker_output["corpus_scores"] = [asdict(score) for score in SCORES]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """An xdist worker's scores, collected for the summary the controller prints."""
    scores = getattr(node, "workeroutput", {}).get("corpus_scores", [])
    SCORES.extend(Score(**score) for score in scores)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every corpus score of the run (tests/mail/corpus.py), so runs without -s show them,
    and runs on several workers too."""
    if SCORES:
        terminalreporter.section("corpus scores")
        for score in SCORES:
            terminalreporter.write_line(score.summary())


# Ports handed to servers a test starts a moment later. Below Linux's ephemeral range
# (32768-60999), so no outgoing connection of the busy suite takes one in that moment (CI
# once lost a three-process test to that); a slice per xdist worker, handed out in turn, so
# neither do two workers nor two servers of one test.
PORTS_FIRST, PORTS_PER_WORKER = 20000, 1500
_next_port = None


def free_port() -> int:
    global _next_port
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = PORTS_FIRST + (int(worker) % 8 if worker.isdigit() else 0) * PORTS_PER_WORKER
    if _next_port is None:
        _next_port = first + os.getpid() % PORTS_PER_WORKER
    for _ in range(PORTS_PER_WORKER):
        port, _next_port = _next_port, first + (_next_port + 1 - first) % PORTS_PER_WORKER
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{first + PORTS_PER_WORKER - 1}")


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.fail(f"test corpora not found at {CORPORA}: ../shared must sit beside the checkout")
    return CORPORA


@functools.cache
def postgres_server() -> str:
    """The admin URL of the PostgreSQL server the tests use: TEST_POSTGRES_URL's. Where it
    isn't set and nothing answers at the default (a developer's machine with the server
    package but no server running), a private cluster started for this test process, so that
    `make test` runs every test by itself; it goes when the process ends."""
    if "TEST_POSTGRES_URL" in os.environ or _answers(POSTGRES_URL):
        return POSTGRES_URL
    from tests.pg_cluster import PgCluster

    try:
        cluster = PgCluster()
        cluster.init()
        cluster.start()
    except Exception as exc:  # no server binaries, no postgres user: the callers say so
        _unavailable(POSTGRES_URL, exc)
    atexit.register(cluster.close)
    return cluster.url()


def _answers(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _unavailable(url: str, reason: Exception) -> NoReturn:
    message = f"PostgreSQL at {url} is unavailable, and no private server could start: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI has PostgreSQL; a skip there would hide a failure
    pytest.skip(message)


def fresh_postgres_database(template: str | None = None) -> Iterator[str]:
    """A new database on the tests' PostgreSQL server, empty or a copy of `template`."""
    server = postgres_server()
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    copied = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {server} is unavailable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has PostgreSQL; a skip there would hide a failure
        pytest.skip(message)
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One SQLite file at the newest schema, copied for each test: migrating takes longer
    than most tests."""
    path = tmp_path_factory.mktemp("migrated") / "helpdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A PostgreSQL database at the newest schema, the template each test's is copied from
    (a tenth of a second, where migrating takes one or two); nothing may connect to it."""
    with contextmanager(fresh_postgres_database)() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        name = make_url(url).database
        admin = create_engine(postgres_server(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # autovacuum, say, would make a copy fail
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        admin.dispose()
        yield name


def migrated_database(backend: str, request, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh database on `backend` at the newest schema, as `serve` leaves it."""
    if backend == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), tmp_path / "helpdesk.db")
        yield f"sqlite:///{tmp_path / 'helpdesk.db'}"
    else:
        yield from fresh_postgres_database(template=request.getfixturevalue("migrated_postgres"))


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh database on each backend, at the newest schema (tests/storage, which tests the
    migrations, has empty ones)."""
    yield from migrated_database(request.param, request, tmp_path)


@pytest.fixture
def sqlite_url(request, tmp_path) -> Iterator[str]:
    """A fresh SQLite database at the newest schema, for end-to-end stories whose
    database-dependent parts (row locks, unique claims, queries) run on both backends in
    tests/core and the several-process tests: a module overrides `database_url` with it."""
    yield from migrated_database("sqlite", request, tmp_path)


# For a test whose outcome depends on the database (a unique claim, a query, what a column
# can hold) in a module that is otherwise on SQLite: each backend, through the module's
# `database_url`, which is `sqlite_unless_on_both`.
ON_BOTH_DATABASES = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def sqlite_unless_on_both(request, tmp_path) -> Iterator[str]:
    """A module's `database_url` whose tests run on SQLite, except those marked
    ON_BOTH_DATABASES: a fresh database at the newest schema."""
    yield from migrated_database(getattr(request, "param", "sqlite"), request, tmp_path)


@pytest.fixture
def engine(database_url):
    """A database of `database_url` upgraded to the newest schema, as `serve` leaves it."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def start_redis(port: int) -> subprocess.Popen:
    """A private, throw-away Redis server (Debian's `redis-server`) on `port`, once it listens."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server of the session's tests' own."""
    port = free_port()
    server = start_redis(port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)
