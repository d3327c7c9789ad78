"""`HELPDESK_LOG_FORMAT=json`: everything `helpdesk serve` writes is one JSON object per line.

Run as a person (or a container's log collector) would run it: a subprocess against the fake
Slack, with mail, a Slack outage and bad requests making the helpdesk, uvicorn and aiosmtpd log.
"""

from __future__ import annotations

import json
import signal
import smtplib
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

from bot.devtools.fake_slack import FakeSlack
from tests.e2e.harness import (
    CHANNEL,
    customer_mail,
    serve_environment,
    smtp_send,
    wait_until_healthy,
)

FIELDS = {"time", "level", "logger", "message"}
LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


def test_every_line_serve_writes_is_a_json_object(tmp_path):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        env = serve_environment(
            f"sqlite:///{tmp_path}/helpdesk.db", slack, HELPDESK_LOG_FORMAT="json"
        )
        smtp_port = int(env["HELPDESK_SMTP_LISTEN"].rpartition(":")[2])
        out, err = (tmp_path / "stdout").open("w+"), (tmp_path / "stderr").open("w+")
        serve = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stdout=out, stderr=err
        )
        try:
            wait_until_healthy(serve, env["HELPDESK_HTTP_PORT"], tmp_path / "stderr")
            slack.set_outage(True, 503)  # the outbox logs the breaker opening
            assert smtp_send(smtp_port, customer_mail("first"))[0] == 250
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                assert client.docmd("FOO")[0] == 500  # aiosmtpd's own logger warns
            with socket.create_connection(("127.0.0.1", int(env["HELPDESK_HTTP_PORT"]))) as raw:
                raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # so does uvicorn's
                assert raw.recv(100).startswith(b"HTTP/1.1 400")
            time.sleep(2)  # long enough for the outbox to try Slack and hold its rows
            slack.set_outage(False)
            assert slack.wait_for(lambda: len(slack.messages_in(CHANNEL)) == 1, timeout=30)
        finally:
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(15) == 0
        out.seek(0)
        err.seek(0)
        lines = out.read() + err.read()

    entries = [json.loads(line) for line in lines.splitlines()]
    for entry in entries:
        assert set(entry) >= FIELDS, entry
        assert entry["time"].endswith("Z") and entry["level"] in LEVELS
        assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    loggers = {entry["logger"] for entry in entries}
    assert {"uvicorn.error", "mail.log", "bot.delivery.worker"} <= loggers, loggers
    messages = [entry["message"] for entry in entries]
    assert any(m.startswith("helpdesk running: Slack over HTTP mode") for m in messages)
    assert any("Slack Web API is failing" in m for m in messages)
    assert "stopping…" in messages
