"""The `helpdesk` commands as a person runs them: what they say, and how they refuse bad input.

Each runs as the real program in a subprocess; `serve` against the fake Slack, or against a
Slack that can't be reached.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess

from bot.devtools.fake_slack import FakeSlack
from tests.conftest import free_port
from tests.e2e.harness import CHANNEL, run_helpdesk, start_serve

SECRET_KEY = "a-survey-signing-key-for-tests"


def environment(tmp_path, **extra: str) -> dict[str, str]:
    outside = ("SLACK_", "HELPDESK_", "DATABASE_", "IMAP_", "OUTBOUND_", "SHOPIFY_")
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith(outside)},
        "COLUMNS": "250",
        "DATABASE_URL": f"sqlite:///{tmp_path}/helpdesk.db",
        "HELPDESK_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def one_error_line(result: subprocess.CompletedProcess, code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    return result.stderr


def unreachable_slack(tmp_path, **extra: str) -> dict[str, str]:
    """What the reviewer ran: a fresh directory, every setting valid, Slack away."""
    settings = {
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
        "SLACK_BOT_TOKEN": "xoxb-1",  # in the environment, where Bolt looks for it too
        "SLACK_SIGNING_SECRET": "x",
        "HELPDESK_SUPPORT_CHANNEL": "C0123ABCD",
        "HELPDESK_SUPPORT_ADDRESS": "s@x.com",
        "HELPDESK_SMTP_LISTEN": f"127.0.0.1:{free_port()}",  # so aiosmtpd's loop is made
        "HELPDESK_HTTP_PORT": str(free_port()),
        "HELPDESK_SECRET_KEY": SECRET_KEY,  # else a (true) warning that surveys are off
        # Shows an event loop left unclosed at every exit, not only when its finaliser fails.
        "PYTHONWARNINGS": "always::ResourceWarning",
    }
    return environment(tmp_path, **{**settings, **extra})


def test_serve_says_in_one_line_that_slack_cant_be_reached(tmp_path):
    """Also on a fresh database: the migration, Bolt and slack_sdk's retries log nothing."""
    result = run_helpdesk(["serve"], unreachable_slack(tmp_path), tmp_path)
    line = one_error_line(result, code=1)  # it ran, and Slack failed: exit 1, like a database
    assert "Slack could not be reached at SLACK_API_URL" in line
    assert (tmp_path / "helpdesk.db").is_file()  # it got as far as migrating


def test_serve_with_json_logs_says_it_in_one_json_line(tmp_path):
    env = unreachable_slack(tmp_path, HELPDESK_LOG_FORMAT="json")
    result = run_helpdesk(["serve"], env, tmp_path)
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert "Slack could not be reached" in entry["message"]


def test_serve_says_in_one_line_that_the_smtp_port_is_taken(tmp_path):
    """Start fails half-way (the outbox and scheduler already run): all is stopped again."""
    with FakeSlack() as slack, socket.create_server(("127.0.0.1", 0)) as taken:
        slack.add_channel("C0123ABCD", "support")
        env = unreachable_slack(
            tmp_path,
            SLACK_API_URL=slack.url,
            SLACK_BOT_TOKEN=slack.bot_token,
            HELPDESK_SMTP_LISTEN=f"127.0.0.1:{taken.getsockname()[1]}",
        )
        result = run_helpdesk(["serve"], env, tmp_path)
    assert "is the port taken?" in one_error_line(result, code=2)


def test_serve_starts_without_alembic_or_bolt_chatter(tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        serve = start_serve(f"sqlite:///{tmp_path}/helpdesk.db", slack, free_port(), tmp_path)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
    [log] = tmp_path.glob("serve-*.log")
    output = log.read_text()
    assert "helpdesk running" in output
    assert "alembic" not in output  # fourteen INFO lines on a fresh database before
    assert "will be unused" not in output  # Bolt's warning about SLACK_BOT_TOKEN


def test_an_unknown_log_level_is_a_usage_error(tmp_path):
    result = run_helpdesk(["serve", "--log-level", "foo"], environment(tmp_path), tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Invalid value for '--log-level': 'foo' is not one of" in result.stderr


def test_a_log_level_is_taken_in_any_case(tmp_path):
    """It gets past the option to the settings, which are missing here."""
    result = run_helpdesk(["serve", "--log-level", "warning"], environment(tmp_path), tmp_path)
    assert "SLACK_BOT_TOKEN is missing" in one_error_line(result, code=2)


def export(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return run_helpdesk(["export", "--since", "2020-01-01", *args], environment(tmp_path), tmp_path)


def migrated(tmp_path):
    assert run_helpdesk(["migrate"], environment(tmp_path), tmp_path).returncode == 0


def test_export_into_a_missing_directory_or_a_directory_is_one_line(tmp_path):
    migrated(tmp_path)
    missing = export(tmp_path, "--output", str(tmp_path / "missing" / "x.csv"))
    assert "No such file or directory" in one_error_line(missing, code=1)
    directory = export(tmp_path, "--output", str(tmp_path))
    assert f"{tmp_path} is a directory" in one_error_line(directory, code=1)


def test_export_overwrites_a_file_only_with_force(tmp_path):
    migrated(tmp_path)
    target = tmp_path / "tickets.csv"
    target.write_text("keep me\n")
    refused = export(tmp_path, "--output", str(target))
    line = one_error_line(refused, code=1)
    assert f"{target} already exists" in line and "--force" in line
    assert target.read_text() == "keep me\n"
    forced = export(tmp_path, "--output", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().startswith("number,subject,")


def test_check_refuses_the_sandbox(tmp_path):
    result = run_helpdesk(["--sandbox", "check"], environment(tmp_path), tmp_path)
    line = one_error_line(result, code=2)
    assert "run `helpdesk check` without --sandbox" in line


def test_migrate_says_what_it_did(tmp_path):
    first = run_helpdesk(["migrate"], environment(tmp_path), tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr.startswith("created the helpdesk's tables, at revision ")
    head = first.stderr.split()[-1]
    again = run_helpdesk(["migrate"], environment(tmp_path), tmp_path)
    assert again.stderr == f"the database is already up to date, at revision {head}\n"


def test_migrate_names_the_revisions_it_upgraded_between(tmp_path):
    from alembic.script import ScriptDirectory

    from bot.storage.db import make_engine
    from bot.storage.migrate import alembic_config, upgrade

    engine = make_engine(environment(tmp_path)["DATABASE_URL"])
    head = ScriptDirectory.from_config(alembic_config(engine)).get_revision("head")
    upgrade(engine, head.down_revision)
    engine.dispose()
    result = run_helpdesk(["migrate"], environment(tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    expected = (
        f"upgraded the database from revision {head.down_revision} to revision {head.revision}"
    )
    assert result.stderr == expected + "\n"
