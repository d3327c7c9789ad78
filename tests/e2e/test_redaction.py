"""Secrets in bad settings never reach the terminal whole, from `check` or `serve`.

The CLI runs as a subprocess, as a person would run it; each message must still name the
setting, with a prefix of the value recognisable enough to tell which one is meant.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.devtools.fake_slack import FakeSlack
from tests.e2e.harness import CHANNEL, serve_environment

SECRET = "Zq8SuperSecretPart1234567890"


def run_cli(tmp_path, command: str, **settings: str) -> subprocess.CompletedProcess:
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        env = serve_environment(f"sqlite:///{tmp_path}/helpdesk.db", slack, COLUMNS="200")
        return subprocess.run(
            [sys.executable, "-m", "bot", command],
            cwd=tmp_path,
            env={**env, **settings},
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.mark.parametrize("command", ["check", "serve"])
@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("SLACK_BOT_TOKEN", f"xapp-1-{SECRET}", "'xapp-1-…'"),
        ("SLACK_APP_TOKEN", f"xoxb-1-{SECRET}", "'xoxb-1-…'"),
        ("HELPDESK_SECRET_KEY", SECRET[:15], "'Zq8…'"),
        ("DATABASE_URL", f"mysql://helpdesk:{SECRET}@db.example/helpdesk",
         "'mysql://helpdesk:***@db.example/helpdesk'"),
    ],
)  # fmt: skip
def test_an_invalid_secret_is_named_and_shown_only_by_its_prefix(
    tmp_path, command, setting, value, shown
):
    result = run_cli(tmp_path, command, **{setting: value})
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert SECRET[:15] not in output
    assert f"{setting}={shown} is invalid" in " ".join(output.split())


def test_serve_never_shows_a_password_in_slacks_url(tmp_path):
    # A proxy's password in SLACK_API_URL: the one line that says Slack is away names the
    # setting, not its value (slack_sdk's own lines about each retry are held back then).
    result = run_cli(tmp_path, "serve", SLACK_API_URL=f"http://proxy:{SECRET}@127.0.0.1:9/api/")
    assert result.returncode == 1  # the setting is valid; the server behind it is away
    assert "Slack could not be reached at SLACK_API_URL" in result.stderr
    assert SECRET[:15] not in result.stdout + result.stderr
