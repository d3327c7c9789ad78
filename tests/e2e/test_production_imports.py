"""`helpdesk serve` without --sandbox never loads the test stand-ins (fake Slack, fake shop) or
the sandbox, nor the clients of what it isn't configured for: run as a subprocess against the
fake Slack, with Python listing every import."""

from __future__ import annotations

import signal
import subprocess
import sys

from bot.devtools.fake_slack import FakeSlack
from tests.e2e.harness import CHANNEL, serve_environment, wait_until_healthy

STAND_INS = ("bot.devtools", "bot.sandbox")
# Heavy clients a helpdesk loads only when configured for them (the policy's `ai`, Socket
# Mode's SLACK_APP_TOKEN): a quarter of the CPU `helpdesk serve` spent starting.
UNCONFIGURED = ("openai", "slack_bolt.adapter.socket_mode")


def test_serve_imports_neither_the_sandbox_nor_the_devtools(tmp_path):
    with FakeSlack() as slack, (tmp_path / "imports").open("w+") as imports:
        slack.add_channel(CHANNEL, "support")
        env = serve_environment(f"sqlite:///{tmp_path}/helpdesk.db", slack)
        # -X importtime writes one line per module imported to stderr: a file, as it is long.
        serve = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "bot", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=imports,
        )
        try:
            assert wait_until_healthy(serve, env["HELPDESK_HTTP_PORT"])["status"] == "ok"
        finally:
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(15) == 0
        imports.seek(0)
        loaded = [line.rpartition("|")[2].strip() for line in imports if "|" in line]

    assert {"bot.app", "bot.cli", "bot.handlers.slack", "bot.delivery.worker"} <= set(loaded)
    assert [name for name in loaded if name.startswith(STAND_INS)] == []
    assert [name for name in loaded if name.startswith(UNCONFIGURED)] == []
