"""scripts/install and scripts/start, run as a server runs them: in a fresh copy of the tree,
into a fresh virtualenv, then `helpdesk serve` (sandbox off) against the fake Slack, on SQLite
and on PostgreSQL. The Makefile, deploy/helpdesk.service and the Dockerfile call these same
scripts (tests/deploy/test_deploy_files.py checks that), so this is what they would run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from bot.devtools.fake_slack import FakeSlack
from tests.conftest import fresh_postgres_database
from tests.e2e.harness import CHANNEL, serve_environment, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
# Variables that would make the copy run this checkout's code or virtualenv instead of its own.
NOT_INHERITED = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")


def copy_of_tree(target: Path) -> Path:
    """The files a checkout of this tree has (tracked or new, not ignored), as they are now."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def without_this_checkout(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in NOT_INHERITED}


@contextmanager
def started(tree: Path, workdir: Path, env: dict[str, str]):
    """`scripts/start` in `workdir`; yields the process and its /healthz answer, then stops it
    with SIGTERM as systemd and docker do, and checks that it stopped cleanly."""
    process = subprocess.Popen(
        [tree / "scripts" / "start"],
        cwd=workdir,
        env=without_this_checkout(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield process, wait_until_healthy(process, env["HELPDESK_HTTP_PORT"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        finally:
            # Whatever outlived it (a serve the signal didn't reach) would hold stderr open.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    # scripts/start execs serve, so the signal reached serve itself and it shut down in order.
    assert code == 0, process.stderr.read().decode()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{env['HELPDESK_HTTP_PORT']}/healthz", timeout=1)


@pytest.mark.timeout(900)
def test_scripts_install_then_start_serve_on_sqlite_and_postgres(tmp_path):
    tree = copy_of_tree(tmp_path / "helpdesk")
    # What pip is told by the machine's own configuration (index, find-links) still applies.
    # Except byte-compiling every module installed: it can't fail an install (pip only warns),
    # Python compiles what a start imports anyway, and the test spent 37 s of CPU with it, 30
    # without.
    installed = subprocess.run(
        ["scripts/install"],
        cwd=tree,
        env={**without_this_checkout(dict(os.environ)), "PIP_COMPILE": "0"},
        capture_output=True,
        text=True,
        timeout=800,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    python = tree / ".venv" / "bin" / "python"
    imported = subprocess.run(
        [python, "-c", "import bot; print(bot.__file__)"],
        cwd=tmp_path,
        env=without_this_checkout(dict(os.environ)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # A regular install: the package is in the virtualenv, not read from the tree.
    assert Path(imported.strip()).is_relative_to(tree / ".venv")

    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")

        # SQLite by default, in the working directory, as the systemd unit and the image use it.
        sqlite_dir = tmp_path / "var-lib-helpdesk"
        sqlite_dir.mkdir()
        env = serve_environment("unused", slack)
        del env["DATABASE_URL"]
        with started(tree, sqlite_dir, env) as (_, health):
            assert health["status"] == "ok" and health["database"] == "ok"
            assert (sqlite_dir / "helpdesk.db").is_file()

        with contextmanager(fresh_postgres_database)() as postgres_url:
            postgres_dir = tmp_path / "postgres-workdir"
            postgres_dir.mkdir()
            env = serve_environment(postgres_url, slack)
            with started(tree, postgres_dir, env) as (_, health):
                assert health["status"] == "ok" and health["database"] == "ok"
            assert not (postgres_dir / "helpdesk.db").exists()
