"""`helpdesk backup`: a consistent copy of the database, taken while the helpdesk runs.

SQLite: the online backup API reads the database in one transaction, so the copy is the
database as of one moment whatever the server writes meanwhile; the copy is one standalone
file (no write-ahead log beside it) that the helpdesk opens as it is. PostgreSQL: `pg_dump`'s
custom format (one snapshot too), restored with `pg_restore`. Either way the copy appears
under its name only once complete, so a half-written file is never mistaken for a backup.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.storage.db import make_engine, reader
from bot.storage.migrate import current_revision


class BackupError(Exception):
    """A backup that could not be made, worded for the person running it."""


def back_up(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    on_sqlite = url.get_backend_name() == "sqlite"
    if on_sqlite and not Path(url.database or "").is_file():
        raise BackupError(f"there is no database file at {url.database}: check DATABASE_URL")
    if not on_sqlite and shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed: install the PostgreSQL client of the server's version "
            "or newer (Debian: postgresql-client), or run this where it is, with the password "
            f"in PGPASSWORD: {shlex.join(pg_dump_command(url, target))}"
        )
    if target.exists():
        raise BackupError(f"{target} already exists: name a new file (no backup is overwritten)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory: create it or name another file")
    _require_tables(database_url)
    partial = target.with_name(f".{target.name}.partial")
    try:
        if on_sqlite:
            _copy_sqlite(Path(url.database), partial)
        else:
            _dump_postgres(url, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def pg_dump_command(url: URL, target: Path) -> list[str]:
    """libpq takes the URL without SQLAlchemy's driver name; the password goes in PGPASSWORD,
    never on a command line other users' `ps` shows."""
    libpq_url = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    return [
        "pg_dump",
        "--format=custom",
        f"--file={target}",
        f"--dbname={libpq_url.render_as_string(hide_password=False)}",
    ]


def _require_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        # Read-only, so on SQLite a writer's open transaction doesn't hold the backup up.
        if current_revision(reader(engine)) is None:
            raise BackupError(
                "the database has no helpdesk tables, so there is nothing to back up: check "
                "DATABASE_URL (`helpdesk migrate` creates the tables)"
            )
    finally:
        engine.dispose()


def _copy_sqlite(source_path: Path, partial: Path) -> None:
    try:
        with (
            closing(sqlite3.connect(source_path, timeout=30)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)  # all pages in one step: one read transaction, one moment
            copy.execute("PRAGMA journal_mode=DELETE")  # the whole database in the one file
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite copy failed: {exc}") from None
    if verdict != "ok":
        raise BackupError(f"the copy failed its integrity check ({verdict}): try again")


def _dump_postgres(url: URL, partial: Path) -> None:
    environment = {**os.environ, "PGPASSWORD": url.password} if url.password else None
    done = subprocess.run(
        pg_dump_command(url, partial), env=environment, capture_output=True, text=True
    )
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"pg_dump failed: {message}")
