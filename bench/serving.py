"""What every benchmark of `helpdesk serve` needs: the real server as a subprocess, its
memory, and the percentiles the tables report."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import quantiles

PROJECT = Path(__file__).resolve().parents[1]


@contextmanager
def served(env: dict[str, str], cwd: str) -> Iterator[subprocess.Popen]:
    """`helpdesk serve` with this environment, up and answering `/healthz`, then stopped."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until_up(int(env["HELPDESK_HTTP_PORT"]), server)
        yield server
    finally:
        server.terminate()
        server.wait(30)


def wait_until_up(port: int, server: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"helpdesk serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("helpdesk serve did not come up within 30 s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile99(values: list[float]) -> float:
    return quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]
