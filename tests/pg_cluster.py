"""A private PostgreSQL cluster, for tests that stop and start the server under the helpdesk.

The shared server at TEST_POSTGRES_URL serves every other test, in parallel, so it is never
restarted. `PgCluster` runs Debian's `initdb` (`/usr/lib/postgresql/<version>/bin`) into a
throw-away directory and `pg_ctl` on a free loopback port, with its socket in that directory
and `trust` authentication for the `postgres` role. PostgreSQL refuses to run as root, so as
root the tools run as the `postgres` OS user (`runuser`), which then owns the directory.

Needs the PostgreSQL server package (`apt-get install -y postgresql`): without it the tests
are skipped, or fail when `CI` is set.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import free_port

BIN_GLOB = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"


def server_binaries() -> Path:
    """The newest installed version's bin directory; skips (fails under CI) without one."""
    found = sorted(
        (Path(p) for p in glob.glob(BIN_GLOB) if Path(p, "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    problem = None
    if not found:
        problem = f"no PostgreSQL server binaries at {BIN_GLOB} (apt-get install -y postgresql)"
    elif os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            problem = f"running as root, and there is no {OS_USER!r} OS user to run PostgreSQL"
        if shutil.which("runuser") is None:
            problem = "running as root, and runuser is missing (util-linux)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return found[-1]


class PgCluster:
    def __init__(self) -> None:
        self.bin = server_binaries()
        # Short: the socket's path must fit in 107 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam(OS_USER)
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as_user = ["runuser", "-u", OS_USER, "--"]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip

    def start(self) -> None:
        # fsync off: only the machine crashing could lose what was written, and it doesn't.
        # synchronous_commit stays on: `stop("immediate")` would lose acknowledged commits.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session and shuts down cleanly; `immediate` is a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        with suppress(subprocess.CalledProcessError):
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as_user, str(self.bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, f"{done.stderr}\n{self.server_log()}"
            )


@contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """A running cluster of its own, removed afterwards."""
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.close()
