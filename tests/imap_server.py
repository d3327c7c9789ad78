"""A real IMAP server for the tests: Dovecot from Debian's packages, in a throw-away directory.

`Dovecot()` writes a config of its own (nothing under /etc/dovecot is read), a self-signed
certificate made with `openssl`, and a passwd-file; it listens on 127.0.0.1 on free ports: IMAP
(STARTTLS offered) and IMAPS. Mail is kept in maildirs under the temporary directory. `-F` keeps
it in the foreground, as a child of the test process.

`Mailbox` (one user: `Dovecot.add_user()`) speaks real IMAP through `imaplib` to append mail and
look at flags, and reaches under the server for what a client cannot do: renumber a folder with
a new UIDVALIDITY, kick the user's connections. `TcpProxy` sits between a client and the server
and cuts the connection in the middle of a transfer.

Dovecot is needed: `apt-get install -y dovecot-imapd`. Without it the tests are skipped, or fail
when `CI` is set.
"""

from __future__ import annotations

import email.policy
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import free_port

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
INSTALL = "apt-get install -y dovecot-imapd"
PASSWORD = "s3cret p@ss/word%&"  # needs URL quoting; passwd-file forbids only ':'
PRESET_USERS = 200


def require_dovecot() -> None:
    """Skips (fails under CI) when this machine cannot run the test server."""
    problem = None
    if not Path(DOVECOT).exists() or not Path(DOVEADM).exists():
        problem = f"Dovecot is not installed ({INSTALL})"
    elif shutil.which("openssl") is None:
        problem = "openssl is not installed (needed for the test server's certificate)"
    elif os.geteuid() != 0:
        problem = "the Dovecot test server needs root (it switches to nobody for mail)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


class Dovecot:
    """One Dovecot instance. `capability` replaces the IMAP capabilities announced after login
    (e.g. without MOVE and IDLE); `tls=False` turns TLS off (no STARTTLS, no IMAPS)."""

    def __init__(self, *, tls: bool = True, capability: str | None = None):
        self.tls = tls
        self.dir = Path(tempfile.mkdtemp(prefix="dovecot-"))  # short: socket paths live here
        self.dir.chmod(0o755)  # the mail processes run as nobody
        self.imap_port = free_port()
        self.imaps_port = free_port() if tls else None
        self.cert = self.dir / "cert.pem"
        self.passwd = self.dir / "passwd"
        self.config = self.dir / "dovecot.conf"
        self.log = self.dir / "dovecot.log"
        self._process: subprocess.Popen | None = None
        nobody = pwd.getpwnam("nobody")
        self._uid, self._gid = nobody.pw_uid, nobody.pw_gid
        login_user = "dovenull" if _user_exists("dovenull") else "nobody"
        for name in ("run", "state"):
            (self.dir / name).mkdir()
        for name in ("mail", "home"):
            (self.dir / name).mkdir()
            os.chown(self.dir / name, self._uid, self._gid)
        # Written up front: Dovecot notices a changed passwd-file only a second later.
        self._users = [f"support{n}@shop.example" for n in range(1, PRESET_USERS + 1)]
        self.passwd.write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in self._users))
        if tls:
            self._make_certificate()
        self.config.write_text(self._config_text(login_user, capability))

    def _make_certificate(self) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(self.dir / "key.pem"), "-out", str(self.cert),
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip

    def _config_text(self, login_user: str, capability: str | None) -> str:
        d = self.dir
        imaps = (
            f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.imaps_port}\n"
            "    ssl = yes\n  }\n"
            if self.tls
            else ""
        )
        tls = (
            f"ssl = yes\nssl_cert = <{d}/cert.pem\nssl_key = <{d}/key.pem\n"
            if self.tls
            else "ssl = no\n"
        )
        extra = f"  imap_capability = {capability}\n" if capability else ""
        return (
            "protocols = imap\n"
            "listen = 127.0.0.1\n"
            f"base_dir = {d}/run\n"
            f"state_dir = {d}/state\n"
            f"instance_name = helpdesk-test-{d.name}\n"
            f"log_path = {self.log}\n"
            f"{tls}"
            "disable_plaintext_auth = no\n"
            "auth_mechanisms = plain login\n"
            "first_valid_uid = 0\n"
            "first_valid_gid = 0\n"
            "default_internal_user = root\n"
            "default_internal_group = root\n"
            # imap-login refuses to run as root.
            f"default_login_user = {login_user}\n"
            f"mail_location = maildir:{d}/mail/%u\n"
            "mailbox_idle_check_interval = 1 secs\n"
            "passdb {\n  driver = passwd-file\n"
            f"  args = scheme=PLAIN username_format=%u {self.passwd}\n}}\n"
            # Mail processes may not run as root: the mail belongs to nobody.
            "userdb {\n  driver = static\n"
            f"  args = uid={self._uid} gid={self._gid} home={d}/home/%u\n}}\n"
            "service imap-login {\n"
            f"  inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.imap_port}\n  }}\n"
            f"{imaps}"
            "}\n"
            "protocol imap {\n  mail_max_userip_connections = 100\n"
            f"{extra}"
            "}\n"
        )

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Dovecot:
        log = (self.dir / "stdout.log").open("ab")
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + 15
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"Dovecot exited at start-up:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start listening:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self) -> None:
        """Drops every connection; the mail stays."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def doveadm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DOVEADM, "-c", str(self.config), *args], capture_output=True, text=True, timeout=30
        )

    # -- users ---------------------------------------------------------------------------

    def add_user(self) -> Mailbox:
        """A mailbox no test has used yet, empty."""
        if not self._users:
            raise RuntimeError(f"all {PRESET_USERS} test users are taken")
        return Mailbox(self, self._users.pop(0), PASSWORD)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class Mailbox:
    """One user's mail on a `Dovecot`, reached over real IMAP."""

    def __init__(self, server: Dovecot, user: str, password: str):
        self.server, self.user, self.password = server, user, password

    def url(self, scheme: str = "imaps", folder: str = "INBOX", port: int | None = None) -> str:
        """`IMAP_URL` for this mailbox; the user and password URL-quoted."""
        if port is None:
            port = self.server.imaps_port if scheme == "imaps" else self.server.imap_port
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"{scheme}://{credentials}@127.0.0.1:{port}/{quote(folder)}"

    @contextmanager
    def connect(self) -> Iterator[imaplib.IMAP4]:
        if self.server.tls:
            context = ssl.create_default_context(cafile=str(self.server.cert))
            client = imaplib.IMAP4_SSL(
                "127.0.0.1", self.server.imaps_port, ssl_context=context, timeout=30
            )
        else:
            client = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=30)
        try:
            _ok(client.login(self.user, self.password))
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    def append(
        self,
        mail: EmailMessage | bytes,
        *,
        folder: str = "INBOX",
        date: datetime | None = None,
        flags: str = "",
    ) -> int:
        """APPENDs one message; returns its UID. `date` sets its INTERNALDATE (arrival)."""
        [uid] = self.append_many([mail], folder=folder, date=date, flags=flags)
        return uid

    def append_many(
        self,
        mails: Iterable[EmailMessage | bytes],
        *,
        folder: str = "INBOX",
        date: datetime | None = None,
        flags: str = "",
    ) -> list[int]:
        uids = []
        with self.connect() as client:
            for mail in mails:
                raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=email.policy.SMTP)
                when = imaplib.Time2Internaldate(date) if date else None
                status, data = client.append(_quoted(folder), f"({flags})", when, raw)
                if status != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")
                found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                assert found, data
                uids.append(int(found.group(1)))
        return uids

    def _select(self, client: imaplib.IMAP4, folder: str) -> None:
        _ok(client.select(_quoted(folder), readonly=True))

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as client:
            if client.select(_quoted(folder), readonly=True)[0] != "OK":
                return []
            data = _ok(client.uid("SEARCH", "ALL"))
        return [int(uid) for uid in data[0].split()]

    def unseen(self, folder: str = "INBOX") -> list[int]:
        with self.connect() as client:
            self._select(client, folder)
            data = _ok(client.uid("SEARCH", "UNSEEN"))
        return [int(uid) for uid in data[0].split()]

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        with self.connect() as client:
            self._select(client, folder)
            data = _ok(client.uid("FETCH", str(uid), "(FLAGS)"))
        if not data or data[0] is None:
            raise LookupError(f"no UID {uid} in {folder}")
        found = re.search(rb"FLAGS \(([^)]*)\)", data[0])
        return set(found.group(1).decode().split()) if found else set()

    def seen(self, uid: int, folder: str = "INBOX") -> bool:
        return "\\Seen" in self.flags(uid, folder)

    def set_unseen(self, uid: int, folder: str = "INBOX") -> None:
        with self.connect() as client:
            _ok(client.select(_quoted(folder)))
            _ok(client.uid("STORE", str(uid), "-FLAGS.SILENT", "(\\Seen)"))

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.connect() as client:
            data = _ok(client.status(_quoted(folder), "(UIDVALIDITY)"))
        return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))

    # -- under the server ----------------------------------------------------------------

    def maildir(self, folder: str = "INBOX") -> Path:
        root = self.server.dir / "mail" / self.user
        return root if folder.upper() == "INBOX" else root / f".{folder}"

    def kick(self) -> None:
        """Disconnects every session of this user (as an administrator would)."""
        self.server.doveadm("kick", self.user)

    def renumber(self, folder: str = "INBOX") -> int:
        """What a restored backup or a moved mailbox looks like: the same mail under a new
        UIDVALIDITY, numbered afresh from 1. Connected clients are kicked. Returns the new
        UIDVALIDITY."""
        before = self.uidvalidity(folder)
        self.kick()
        directory = self.maildir(folder)
        for path in directory.iterdir():
            if path.name == "dovecot-uidlist" or path.name.startswith("dovecot.index"):
                path.unlink()
        # Dovecot rebuilds the index on the next access.
        result = self.server.doveadm("mailbox", "status", "-u", self.user, "uidvalidity", folder)
        after = int(re.search(r"uidvalidity=(\d+)", result.stdout).group(1))
        assert after != before, (before, after, result.stderr)
        return after


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(answer: tuple[str, list]) -> list:
    status, data = answer
    if status != "OK":
        raise RuntimeError(f"IMAP answered {status}: {data!r}")
    return data


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a server; `cut_after(n)` closes the next connection once
    `n` more bytes have come from the server, in the middle of whatever it was sending."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.cuts = 0
        self._cut_budget: int | None = None
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    def cut_after(self, server_bytes: int) -> None:
        with self._lock:
            self._cut_budget = server_bytes

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_server:
                    with self._lock:
                        budget = self._cut_budget
                        if budget is not None and len(data) >= budget:
                            self._cut_budget = None
                            self.cuts += 1
                            sink.sendall(data[:budget])
                            break
                        if budget is not None:
                            self._cut_budget = budget - len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for end in self._sockets:
            with suppress(OSError):
                end.close()
