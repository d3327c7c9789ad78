"""Every `helpdesk` command against a database it can't use: one line with the fix, no traceback.

Each command runs as the real program in a subprocess against an empty SQLite file, an
unreachable PostgreSQL server, a PostgreSQL database without tables, an SQLite path in a
missing directory, and DATABASE_URLs that are not database URLs at all.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import fresh_postgres_database
from tests.e2e.harness import run_helpdesk

PASSWORD = "pw-never-shown-4821"
MIGRATE_HINT = "run `helpdesk migrate`"
URL_HINT = "check DATABASE_URL"

# Each command with the arguments that get it to the database.
COMMANDS = {
    "sla": ["sla"],
    "digest --dry-run": ["digest", "--dry-run"],
    "digest": ["digest"],
    "export": ["export", "--since", "2026-01-01"],
    "outbox": ["outbox"],
    "outbox retry": ["outbox", "retry", "1"],
    "outbox drop": ["outbox", "drop", "1", "--yes"],
    "customer export": ["customer", "export", "jane@customer.example"],
    "customer erase": ["customer", "erase", "jane@customer.example", "--yes"],
    "check": ["check"],
    "backup": ["backup", "copy.db"],
    "migrate": ["migrate"],
    "import-mail": ["import-mail", "--since", "2026-01-01"],
    "serve": ["serve"],
}
# These create the tables themselves, so an empty database is their normal start.
MIGRATING = {"migrate", "import-mail", "serve"}


def run(tmp_path, database_url: str, args: list[str]) -> subprocess.CompletedProcess:
    outside = ("SLACK_", "HELPDESK_", "DATABASE_", "IMAP_", "OUTBOUND_", "SHOPIFY_")
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith(outside)},
        "COLUMNS": "250",  # check's table must not wrap its hints
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-not-used-here",
        "SLACK_SIGNING_SECRET": "not-used-here",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
        "HELPDESK_SUPPORT_CHANNEL": "C0SUPPORT",
        "HELPDESK_SUPPORT_ADDRESS": "support@shop.example",
        "HELPDESK_HTTP_PORT": "0",
        "HELPDESK_SMTP_LISTEN": "",
        "IMAP_URL": "imap://user:secret@127.0.0.1:1/INBOX",
    }
    return run_helpdesk(args, env, tmp_path)


def assert_one_line_error(result: subprocess.CompletedProcess, hint: str, code: int = 1) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output
    assert hint in output, output
    assert PASSWORD not in output
    if "check" not in result.args:  # check reports in its table, one row per check
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("error: "), result.stderr


@pytest.fixture(scope="module")
def tableless_postgres():
    databases = fresh_postgres_database()
    yield next(databases).replace("postgres@", f"postgres:{PASSWORD}@")  # trust ignores it
    databases.close()


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - MIGRATING))
def test_an_empty_sqlite_file_asks_for_migrate(tmp_path, command):
    (tmp_path / "helpdesk.db").touch()
    result = run(tmp_path, f"sqlite:///{tmp_path}/helpdesk.db", COMMANDS[command])
    hint = "`helpdesk migrate` creates the tables" if command == "backup" else MIGRATE_HINT
    assert_one_line_error(result, hint)


@pytest.mark.postgres
@pytest.mark.parametrize("command", sorted(set(COMMANDS) - MIGRATING))
def test_a_postgres_database_without_tables_asks_for_migrate(tmp_path, tableless_postgres, command):
    result = run(tmp_path, tableless_postgres, COMMANDS[command])
    hint = "`helpdesk migrate` creates the tables" if command == "backup" else MIGRATE_HINT
    assert_one_line_error(result, hint)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_postgres_server_names_the_url(tmp_path, command):
    url = f"postgresql://helpdesk:{PASSWORD}@127.0.0.1:1/helpdesk"
    result = run(tmp_path, url, COMMANDS[command])
    assert_one_line_error(result, URL_HINT)
    assert "can't be reached" in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["sla", "migrate", "backup"])
def test_an_sqlite_file_in_a_missing_directory_names_the_url(tmp_path, command):
    result = run(tmp_path, f"sqlite:///{tmp_path}/missing/helpdesk.db", COMMANDS[command])
    assert_one_line_error(result, URL_HINT)


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://helpdesk:{PASSWORD}@db.example/helpdesk",  # a scheme the helpdesk can't use
        f"postgresql://helpdesk:{PASSWORD}@db.example:five/helpdesk",  # a port that isn't one
        "sqlite:helpdesk.db",  # no slashes
    ],
)
def test_a_url_that_is_no_database_url_is_a_setting_error(tmp_path, url):
    result = run(tmp_path, url, COMMANDS["migrate"])
    assert_one_line_error(result, "DATABASE_URL=", code=2)


def test_an_unreachable_mailbox_stops_import_mail_with_exit_1(tmp_path):
    """Its database is fine (import-mail creates the tables); the mailbox is away."""
    result = run(tmp_path, f"sqlite:///{tmp_path}/helpdesk.db", COMMANDS["import-mail"])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: import stopped: IMAP") and "Connection refused" in last
    assert "secret" not in result.stderr
