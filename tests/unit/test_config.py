"""Settings and policy validation: a bad value is one clear line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest

from bot.config import ConfigError, load_policy, load_settings


def test_policy_durations_and_defaults(tmp_path):
    path = tmp_path / "helpdesk.yml"
    path.write_text(
        "timezone: America/New_York\n"
        "business_hours: {mon-fri: '09:00-18:00', sat: '10:00-14:00'}\n"
        "sla:\n  normal: {first_response: 4h, next_response: 8h, resolution: 3d}\n"
        "  sweep_every: 45s\n"
        "inboxes:\n  - {address: Returns@Example.com, channel: C0RETURNS, tags: [returns]}\n"
    )
    policy = load_policy(path)
    assert policy.sla.normal.first_response == timedelta(hours=4)
    assert policy.sla.normal.resolution == timedelta(days=3)
    assert policy.sla.sweep_every == timedelta(seconds=45)
    assert policy.sla.warn_at == 0.75
    assert policy.inbox_for(["returns@example.com"]).channel == "C0RETURNS"
    assert policy.inbox_for(["other@example.com"]) is None


def test_reactions_default_and_each_one_turned_off_or_renamed(tmp_path):
    path = tmp_path / "helpdesk.yml"
    path.write_text("reactions: {claim: false, solve: ':heavy_check_mark:'}\n")
    reactions = load_policy(path).reactions
    assert (reactions.ticket, reactions.claim, reactions.solve) == (
        "ticket", None, "heavy_check_mark",
    )  # fmt: skip
    assert reactions.action_of("heavy_check_mark") == "solve"
    assert reactions.action_of("eyes") is None
    assert load_policy(None).reactions.action_of("eyes") == "claim"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("sla:\n  normal: {first_response: soon}\n", "policy key sla.normal.first_response='soon'"),
        ("timezone: Mars/Olympus\n", "policy key timezone='Mars/Olympus' is invalid"),
        ("business_hours: {weekdays: '09:00-18:00'}\n", "day range 'weekdays'"),
        ("business_hours: {mon-fri: '18:00-09:00'}\n", "end before they start"),
        ("business_hours: {mon-fri: '09:00-18:00', wed: '10:00-12:00'}\n", "wed is in both"),
        ("business_hours: {fri-mon: '09:00-18:00'}\n", "runs backwards"),
        ("sla:\n  normal: {first_response: 0m}\n", "more than zero"),
        ("business_hours: {}\n", "no day is open"),
        ("business_hours: {mon: '09:00-24:30'}\n", "expected HH:MM-HH:MM"),
        ("holidays: ['2026-13-40']\n", "expected a date such as 2026-12-25"),
        ("sla:\n  critical: {first_response: 1h}\n", "policy key sla.critical"),
        ("digest: {channel: '#support'}\n", "expected a Slack channel ID"),
        ("escalation:\n  tiers:\n    - {channel: C0TIER2}\n", "policy key escalation.tiers.0.name"),
        ("surprise: true\n", "policy key surprise"),
        ("sla: [unclosed\n", "is not valid YAML at line"),
        ("connect_channels: ['#shared']\n", "policy key connect_channels.0='#shared' is invalid"),
        ("reactions: {claim: 👀}\n", "policy key reactions.claim='👀' is invalid"),
        ("reactions: {react: eyes}\n", "policy key reactions.react"),
    ],
)
def test_bad_policy_names_the_key(tmp_path, yaml_text, expected):
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        load_policy(path)
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN='xox…' is invalid"),
        ("HELPDESK_HTTP_PORT", "eighty", "HELPDESK_HTTP_PORT='eighty' is invalid"),
        ("HELPDESK_SMTP_LISTEN", "2525", "expected host:port"),
        ("DATABASE_URL", "mysql://x/y", "expected sqlite:///path.db"),
        ("HELPDESK_SUPPORT_ADDRESS", "support", "expected a plain address"),
        ("HELPDESK_LOG_FORMAT", "xml", "HELPDESK_LOG_FORMAT='xml' is invalid: Input should be "),
    ],
)
def test_bad_setting_names_the_variable(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert expected in str(error.value)


def test_postgres_url_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings(_env_file=None).database_url == "postgresql+psycopg://u@h/db"


def _run_cli(tmp_path, *args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HELPDESK_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_token_stops_with_one_line(tmp_path):
    result = _run_cli(tmp_path, "serve", DATABASE_URL=f"sqlite:///{tmp_path}/h.db")
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_with_bad_policy_stops_with_one_line(tmp_path):
    (tmp_path / "helpdesk.yml").write_text("sla:\n  warn_at: 3\n")
    result = _run_cli(tmp_path, "serve", SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    assert "policy key sla.warn_at='3' is invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("HELPDESK_HTTP_PORT=not-a-port\n")
    result = _run_cli(tmp_path, "serve")
    assert "HELPDESK_HTTP_PORT='not-a-port' is invalid" in result.stderr


def test_every_command_has_help(tmp_path):
    for command in ("serve", "check", "migrate"):
        result = _run_cli(tmp_path, command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


def test_without_tiers_there_is_one_tier_posting_to_the_escalation_channel():
    from bot.config import Policy
    from bot.core.escalation import tiers_of

    [tier] = tiers_of(Policy(), "C0ESCALATE")
    assert (tier.index, tier.channel) == (0, "C0ESCALATE")
    assert tiers_of(Policy(), "C0ESCALATE")[0].notify == ()
