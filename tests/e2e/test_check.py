"""`helpdesk check` against the fake Slack: a table, the fix for each problem, the exit code."""

from __future__ import annotations

import subprocess
import sys

from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.conftest import free_port
from tests.e2e.harness import CHANNEL, run_helpdesk, serve_environment


def run_check(tmp_path, slack: FakeSlack, policy: str = "", **extra) -> subprocess.CompletedProcess:
    (tmp_path / "helpdesk.yml").write_text(policy)
    env = serve_environment(f"sqlite:///{tmp_path}/helpdesk.db", slack, COLUMNS="200", **extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def migrated(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/helpdesk.db")
    upgrade(engine)
    engine.dispose()


def test_check_passes_when_everything_is_reachable(tmp_path):
    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        result = run_check(tmp_path, slack)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all good" in result.stdout
    assert "#support" in result.stdout
    assert "OUTBOUND_SMTP_URL unset" in result.stdout  # a warning, not an error


def test_check_names_each_problem_and_fails(tmp_path):
    policy = (
        "digest: {channel: C0DIGEST}\ninboxes:\n  - {address: r@shop.example, channel: C0RETURNS}\n"
    )
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        slack.add_channel("C0RETURNS", "returns", is_member=False)
        result = run_check(tmp_path, slack, policy, OUTBOUND_SMTP_URL="ftp://nope")
    assert result.returncode == 1
    out = " ".join(result.stdout.split())
    assert "problems found" in out
    assert "channel_not_found" in out  # C0DIGEST does not exist
    assert "not in #returns; /invite it there" in out
    assert "OUTBOUND_SMTP_URL must start with smtp:// or smtps://" in out


def test_check_reports_a_refused_token(tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        result = run_check(tmp_path, slack, SLACK_BOT_TOKEN="xoxb-wrong")
    assert result.returncode == 1
    assert "invalid_auth" in result.stdout


def test_a_database_without_tables_fails_the_check(tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        result = run_check(tmp_path, slack)
    assert result.returncode == 1
    [row] = [line for line in result.stdout.splitlines() if "database" in line]
    assert "error" in row and "run `helpdesk migrate`" in row


def test_check_exit_codes_mean_what_every_command_s_do(tmp_path):
    """0 all good, 1 a check failed (above), 2 the policy, a setting or the command line
    can't be used: the one line says which, and no check runs."""
    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        bad_policy = run_check(tmp_path, slack, "sla:\n  warn_at: 3\n")
        bad_setting = run_check(tmp_path, slack, IMAP_POLL_SECONDS="often")
        (tmp_path / "helpdesk.yml").unlink()
        env = serve_environment(f"sqlite:///{tmp_path}/helpdesk.db", slack)
        bad_usage = run_helpdesk(["check", "--fast"], env, tmp_path)
    for result, said in (
        (bad_policy, "policy key sla.warn_at='3' is invalid"),
        (bad_setting, "IMAP_POLL_SECONDS='often' is invalid"),
        (bad_usage, "No such option: --fast"),
    ):
        assert result.returncode == 2, result.stderr
        assert said in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""  # no table: nothing was checked


def test_check_says_whether_redis_answers(tmp_path, redis_url):
    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        answering = run_check(tmp_path, slack, REDIS_URL=redis_url)
        away = run_check(tmp_path, slack, REDIS_URL=f"redis://:secret-pw@127.0.0.1:{free_port()}/0")
    assert answering.returncode == 0, answering.stdout + answering.stderr
    assert "several processes share through it" in answering.stdout
    assert away.returncode == 1
    out = " ".join(away.stdout.split())
    assert "REDIS_URL='redis://:***@127.0.0.1" in out and "Redis can't be used" in out
    assert "secret-pw" not in away.stdout + away.stderr


def test_check_says_whether_each_pools_members_can_be_read(tmp_path):
    migrated(tmp_path)
    policy = (
        "assignment:\n  pools:\n"
        "    returns: {agents: [U0ANN, U0BOB], channel: C0RETURNS}\n"
        "    vip: {usergroup: S0VIP}\n"
        "    gone: {usergroup: S0GONE, skip_away: false}\n"
    )
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        slack.add_channel("C0RETURNS", "returns")
        slack.add_user("U0ANN", "ann")
        slack.add_usergroup("S0VIP", ["U0ANN"])
        fine = run_check(tmp_path, slack, policy)
        slack.revoke_scope("usergroups:read")
        slack.revoke_scope("users:read")
        refused = run_check(tmp_path, slack, policy)
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in fine.stdout.splitlines()]
    rows = {row[0]: row[1:] for row in cells if row[0].startswith("pool ")}
    assert rows["pool returns"] == ["ok", "2 agents (listed), round_robin"]
    assert rows["pool vip"] == ["ok", "1 agent (user group S0VIP), round_robin"]
    assert rows["pool gone"][0] == "error"
    assert rows["pool gone"][1].startswith("user group S0GONE: no_such_subteam: no such user")
    assert "#returns" in fine.stdout  # the pool's channel is checked like the others
    assert fine.returncode == 1
    out = " ".join(refused.stdout.split())
    assert "user group S0VIP: missing_scope: add the usergroups:read scope" in out
    assert "presence of U0ANN can't be read (missing_scope)" in out
    assert "add the users:read scope" in out


def test_check_names_a_bad_connect_channel_and_one_the_app_is_not_in(tmp_path):
    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        slack.add_channel("C0SHARED", "shared-buyer", is_member=False)
        misnamed = run_check(tmp_path, slack, "connect_channels: ['#shared-buyer']\n")
        outside = run_check(tmp_path, slack, "connect_channels: [C0SHARED]\n")
    assert misnamed.returncode == 2 and misnamed.stdout == ""
    [line] = misnamed.stderr.strip().splitlines()
    assert "policy key connect_channels.0='#shared-buyer' is invalid" in line
    assert "expected a Slack channel ID" in line
    assert outside.returncode == 1
    out = " ".join(outside.stdout.split())
    assert "Slack Connect: the app is not in #shared-buyer" in out
