"""What the benchmarks share: their sizes (full or quick), the real `helpdesk serve` as a
subprocess, its memory, the tickets it posted to the fake Slack, a throwaway PostgreSQL
database, percentiles, the lines of `make bench`'s closing summary, and the exit status that
says whether a run found a wrong result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import quantiles
from typing import TypeVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.devtools.fake_slack import FakeSlack
from tests.conftest import POSTGRES_URL
from tests.e2e.harness import CHANNEL

PROJECT = Path(__file__).resolve().parents[1]
# `BENCH_QUICK=1 make bench`: every benchmark at small sizes, so that CI runs them all in a few
# minutes and a benchmark that breaks fails there, not at the next full run.
QUICK = os.environ.get("BENCH_QUICK") == "1"

Size = TypeVar("Size", int, float, str)


def size(variable: str, full: Size, quick: Size) -> Size:
    """A benchmark's size: the environment variable's value, else the quick or the full one."""
    return type(full)(os.environ.get(variable, quick if QUICK else full))


def verdict(problems: list[str]) -> int:
    """The run's exit status: 1 if it found a wrong result (a lost or doubled message, a bad
    request accepted, figures that differ from the baseline's), naming each. Speed is never
    a problem here: the benchmarks measure it, and the tables say it."""
    for problem in problems:
        print(f"BROKEN: {problem}", file=sys.stderr)
    return 1 if problems else 0


@contextmanager
def served(
    env: dict[str, str], cwd: str | None = None, command: tuple[str, ...] = ("-m", "bot", "serve")
) -> Iterator[subprocess.Popen]:
    """`helpdesk serve` (or another Python `command` serving HTTP on HELPDESK_HTTP_PORT) with
    this environment, up and answering `/healthz`, then stopped."""
    server = subprocess.Popen(
        [sys.executable, *command], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(int(env["HELPDESK_HTTP_PORT"]), server)
        yield server
    finally:
        server.terminate()
        server.wait(30)


def wait_until_up(port: int, server: subprocess.Popen | None = None) -> None:
    # Start-up takes seconds, more on a loaded machine: a minute, as the tests' harness waits.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"helpdesk serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("helpdesk serve did not come up within a minute")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile99(values: list[float]) -> float:
    return quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


def tickets_in_slack(slack: FakeSlack, count: int) -> dict[int, tuple[int, str]]:
    """Once `count` tickets are posted in the support channel: number -> (ticket id, root ts)."""

    def roots() -> list[dict]:
        return [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]

    slack.wait_for(lambda: len(roots()) >= count, timeout=600)
    found = {}
    for message in roots():
        number = int(message["text"].split()[0][1:])
        block = next(b for b in message["blocks"] if b.get("type") == "actions")
        found[number] = (int(block["block_id"].split(":")[1]), message["ts"])
    return found


def postgres_database():
    """A new database on TEST_POSTGRES_URL's server: its URL, and the function that drops it."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def both_databases(folder: str | Path) -> list[tuple[str, str, Callable[[], None]]]:
    """(name, URL, cleanup) of SQLite in `folder` and, when its server answers, a new
    PostgreSQL database on TEST_POSTGRES_URL's (skipped with a line on stderr otherwise)."""
    databases = [("SQLite", f"sqlite:///{folder}/bench.db", lambda: None)]
    try:
        databases.append(("PostgreSQL", *postgres_database()))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
    return databases


def record(benchmark: str, measured: str, result: str, baseline: str, compared: str) -> None:
    """A headline figure for `make bench`'s closing summary (`bench/summary.py`), which
    collects them in the file BENCH_RESULTS names; run alone, a benchmark records nothing."""
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as results:
            row = [benchmark, measured, result, baseline, compared]
            results.write(json.dumps(row) + "\n")
