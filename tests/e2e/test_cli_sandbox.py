"""`helpdesk --sandbox …`: the commands read the running sandbox's database, not DATABASE_URL's."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date

from tests.e2e.harness import eventually, run_helpdesk, running_sandbox
from tests.e2e.test_sandbox import Page, support_threads


def helpdesk(data_dir, *args: str) -> subprocess.CompletedProcess:
    outside = ("SLACK_", "HELPDESK_", "DATABASE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outside)}
    # DATABASE_URL is somewhere else entirely: only --sandbox finds the sandbox's tickets.
    env.update(HELPDESK_DATA_DIR=str(data_dir), DATABASE_URL=f"sqlite:///{data_dir}/production.db")
    return run_helpdesk(list(args), env, data_dir)


def test_sandbox_option_points_commands_at_the_sandbox_database(tmp_path):
    export = ["export", "--since", f"{date.today():%Y-%m-01}", "--format", "json"]
    with running_sandbox(tmp_path) as (running, sandbox):
        page = Page(running, sandbox)
        status, sent = page.call("/sample-email", {})
        assert (status, sent["code"]) == (200, 250)
        assert eventually(lambda: support_threads(page.state()))

        exported = helpdesk(tmp_path, "--sandbox", *export)
        assert exported.returncode == 0, exported.stderr
        [ticket] = json.loads(exported.stdout)
        assert ticket["number"] == 1

        elsewhere = helpdesk(tmp_path, *export)
        assert elsewhere.returncode == 1  # production.db: no tables
        assert "run `helpdesk migrate`" in elsewhere.stderr


def test_sandbox_option_without_a_sandbox_says_how_to_start_one(tmp_path):
    result = helpdesk(tmp_path, "--sandbox", "sla")
    assert result.returncode == 2
    assert "no sandbox database in" in result.stderr
    assert "helpdesk serve --sandbox on" in " ".join(result.stderr.split())
