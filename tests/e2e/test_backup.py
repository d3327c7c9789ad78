"""`helpdesk backup` while the helpdesk runs, and the README's restore, on SQLite and PostgreSQL.

Tickets arrive over real SMTP at a running helpdesk; the copy is taken by the `helpdesk`
program in a subprocess meanwhile; later changes are lost again by restoring the copy as the
README says, and the helpdesk (migrate, export, serve with new mail) works on the result.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine, transaction
from bot.storage.models import Ticket
from tests.e2e.harness import (
    CHANNEL,
    customer_mail,
    run_helpdesk,
    running_helpdesk,
    serve_environment,
    smtp_send,
)


def helpdesk(args: list[str], database_url: str, slack: FakeSlack, cwd: Path):
    return run_helpdesk(args, serve_environment(database_url, slack), cwd)


def subjects(database_url: str) -> dict[int, str]:
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            return dict(session.execute(select(Ticket.number, Ticket.subject)).all())
    finally:
        engine.dispose()


def restore(database_url: str, copy: Path) -> None:
    """The README's restore, the helpdesk stopped."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database)
        for leftover in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(copy, database)
        return
    libpq_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={libpq_url}", copy],
        check=True,
        capture_output=True,
    )


def test_a_backup_taken_while_serving_restores_the_data(database_url, tmp_path):
    copy = tmp_path / "backup.copy"
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        with running_helpdesk(database_url, slack) as running:
            for subject in ("Parcel one missing", "Parcel two broken"):
                code, answer = smtp_send(running.smtp.port, customer_mail(subject=subject))
                assert code == 250, answer
            made = helpdesk(["backup", str(copy)], database_url, slack, tmp_path)
            assert made.returncode == 0, made.stderr
            assert f"database copied to {copy}" in made.stderr

            # After the copy: a new ticket, and an old one changed.
            code, answer = smtp_send(running.smtp.port, customer_mail(subject="Parcel three"))
            assert code == 250, answer
            with transaction(running.engine) as session:
                session.execute(update(Ticket).where(Ticket.number == 1).values(subject="gone"))
        assert subjects(database_url) == {1: "gone", 2: "Parcel two broken", 3: "Parcel three"}

        restore(database_url, copy)
        assert subjects(database_url) == {1: "Parcel one missing", 2: "Parcel two broken"}

        migrated = helpdesk(["migrate"], database_url, slack, tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        exported = helpdesk(
            ["export", "--since", f"{date.today():%Y-%m-01}", "--format", "json"],
            database_url,
            slack,
            tmp_path,
        )
        assert exported.returncode == 0, exported.stderr
        assert sorted(row["subject"] for row in json.loads(exported.stdout)) == [
            "Parcel one missing",
            "Parcel two broken",
        ]
        with running_helpdesk(database_url, slack) as running:
            code, answer = smtp_send(running.smtp.port, customer_mail(subject="After restore"))
            assert code == 250, answer
            assert b"ticket #3" in answer  # numbering goes on from the restored tickets


def test_an_sqlite_copy_leaves_out_a_write_in_progress(tmp_path):
    """The online backup reads one moment: a writer's open transaction neither blocks it nor
    gets into the copy half done."""
    database_url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        with running_helpdesk(database_url, slack) as running:
            code, answer = smtp_send(running.smtp.port, customer_mail(subject="Committed"))
            assert code == 250, answer
        writer = sqlite3.connect(tmp_path / "helpdesk.db", isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("UPDATE tickets SET subject = 'half done'")
            made = helpdesk(["backup", "copy.db"], database_url, slack, tmp_path)
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    assert made.returncode == 0, made.stderr
    assert subjects(f"sqlite:///{tmp_path / 'copy.db'}") == {1: "Committed"}
    assert not (tmp_path / "copy.db-wal").exists()  # the copy is one self-contained file


def test_a_backup_never_overwrites_a_file(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    (tmp_path / "old-backup.db").write_bytes(b"an earlier backup")
    with FakeSlack() as slack:
        assert helpdesk(["migrate"], database_url, slack, tmp_path).returncode == 0
        made = helpdesk(["backup", "old-backup.db"], database_url, slack, tmp_path)
    assert made.returncode == 1
    assert "old-backup.db already exists: name a new file" in made.stderr
    assert (tmp_path / "old-backup.db").read_bytes() == b"an earlier backup"


def test_without_pg_dump_the_command_to_run_is_printed(tmp_path):
    url = "postgresql://helpdesk:pw-hidden-77@db.example:5432/helpdesk"
    with FakeSlack() as slack:
        env = serve_environment(url, slack, PATH=str(tmp_path))  # no pg_dump there
        made = run_helpdesk(["backup", "dump.pgc"], env, tmp_path)
    assert made.returncode == 1
    line = " ".join(made.stderr.split())
    assert "pg_dump is not installed" in line
    command = "pg_dump --format=custom --file=dump.pgc"
    assert f"{command} --dbname=postgresql://helpdesk@db.example:5432/helpdesk" in line
    assert "pw-hidden-77" not in made.stderr
