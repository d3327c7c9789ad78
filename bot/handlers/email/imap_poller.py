"""Polls the IMAP mailbox of `IMAP_URL` and hands new mail to `MailIngest`.

How far the mailbox has been read is kept in the database (`ImapCursor`: UIDVALIDITY and the
last UID handled), never in the mailbox's flags. For each new message, in this order:

1. `BODY.PEEK[]` is fetched (peeking never sets `\\Seen`);
2. `MailIngest.accept` stores it and commits;
3. the cursor is advanced in the database;
4. the message is marked `\\Seen`, or moved to the policy's `mail.imap_move_to` folder.

A crash between any two steps re-fetches the message next time at worst, and ingest recognises
the mail it already has. The first connection to a mailbox imports nothing: the cursor starts at
the newest message, and `helpdesk import-mail --since DATE` (`ImapPoller.import_since`) imports
older mail on request.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import unquote, urlsplit

from imapclient import DELETED, SEEN, IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlmodel import select

from bot.config import ConfigError
from bot.handlers.email.ingest import MailIngest
from bot.storage.db import reader, transaction
from bot.storage.models import ImapCursor, utcnow

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "INBOX"
# RFC 2177: clients should re-issue IDLE at least every 29 minutes.
IDLE_RENEW_SECONDS = 25 * 60
# How often a wait in IDLE looks up to see whether the poller is being stopped.
IDLE_CHECK_SECONDS = 0.5
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 15.0
COMMAND_TIMEOUT_SECONDS = 60.0
# A fetch brings at most this many messages, or this many bytes, whichever comes first.
BATCH_MESSAGES = 20
BATCH_BYTES = 8 * 1024 * 1024
# UIDs per RFC822.SIZE fetch, to keep command lines short.
SIZE_CHUNK = 500
IMPORT_ATTEMPTS = 5


class ImapError(Exception):
    """An IMAP problem worded for the person running the helpdesk."""


class DatabaseUnavailable(Exception):
    """The database did not answer: nothing after this point was done; retried next poll."""


@dataclass(frozen=True)
class ImportResult:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0


@dataclass(frozen=True)
class ImapUrl:
    """`imaps://user:pass@host:993/INBOX` or `imap://user:pass@host:143/INBOX`, decoded."""

    secure: bool
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str

    @classmethod
    def parse(cls, url: str) -> ImapUrl:
        parts = urlsplit(url.strip())
        shown = _without_password(url)
        if parts.scheme not in ("imap", "imaps"):
            raise ConfigError(
                f"IMAP_URL={shown!r}: expected imaps://user:password@host:993/INBOX "
                "(or imap://… for port 143 with STARTTLS)"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"IMAP_URL={shown!r}: the port is not a number") from None
        if not parts.hostname:
            raise ConfigError(f"IMAP_URL={shown!r}: the host name is missing")
        if not parts.username:
            raise ConfigError(
                f"IMAP_URL={shown!r}: the user name is missing (imaps://user:password@host/INBOX)"
            )
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            host=parts.hostname,
            port=port or (993 if secure else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.strip("/")) or DEFAULT_FOLDER,
        )

    @property
    def key(self) -> str:
        """The cursor's key: `user@host/folder`."""
        return f"{self.user}@{self.host}/{self.folder}"


def _without_password(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass
class _Session:
    """One logged-in connection with the folder selected."""

    client: IMAPClient
    uid_validity: int
    uid_next: int | None  # as SELECT reported it: every later message has a UID at least this
    exists: int
    idle: bool
    move: bool
    uidplus: bool


@dataclass
class _Tally:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    done_uid: int = 0  # the highest UID dealt with, in the order they were handled

    def result(self) -> ImportResult:
        return ImportResult(self.stored, self.duplicates, self.refused)


@dataclass
class _Pending:
    """Flags owed to the server for mail already committed, kept across a reconnection."""

    uid_validity: int
    handled: list[int]
    oversized: list[int]


class ImapPoller:
    """Reads new mail from one IMAP folder into the helpdesk, on its own thread.

    `start()`/`stop()` run it in the background; `poll_once()` does one pass on the caller's
    thread (not while started). `import_since()` opens its own connection and may run while
    a poller is started, in this process or another.
    """

    def __init__(
        self,
        url: str,
        poll_seconds: float,
        engine: Engine,
        ingest: MailIngest,
        move_to: str | None = None,
        *,
        max_bytes: int = 25 * 1024 * 1024,
        address: str | None = None,
        timeout: float = COMMAND_TIMEOUT_SECONDS,
    ):
        """`url` is `IMAP_URL`; `max_bytes` is `HELPDESK_MAX_MESSAGE_BYTES`; `address` is the
        address mail in this mailbox was sent to, given to ingest as the recipient (by default
        the user name when it is an address)."""
        self._url = ImapUrl.parse(url)
        self._poll_seconds = poll_seconds
        self._engine = engine
        self._ingest = ingest
        self._move_to = move_to or None
        self._max_bytes = max_bytes
        self._timeout = SocketTimeout(connect=min(CONNECT_TIMEOUT_SECONDS, timeout), read=timeout)
        recipient = self._url.user if "@" in self._url.user else address
        self._recipients = [recipient] if recipient else []
        self._session: _Session | None = None
        self._pending: _Pending | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned_plain = False

    @property
    def mailbox(self) -> str:
        return self._url.key

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="imap-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout / 2)
            if thread.is_alive():
                # Blocked on the network (a large fetch, a slow server): cut the socket.
                self._interrupt()
                thread.join(timeout / 2)
            if thread.is_alive():
                log.warning("IMAP %s: the poller did not stop in time", self.mailbox)
                return
        self._disconnect()

    def _run(self) -> None:
        backoff = BACKOFF_FIRST_SECONDS
        while not self._stopping.is_set():
            try:
                self._poll()
                backoff = BACKOFF_FIRST_SECONDS
                self._wait_for_mail()
            except DatabaseUnavailable as problem:
                log.warning(
                    "IMAP %s: the database is unavailable (%s); trying again in %g s",
                    self.mailbox,
                    problem,
                    self._poll_seconds,
                )
                self._stopping.wait(self._poll_seconds)
            except Exception as problem:
                if self._stopping.is_set():
                    break
                self._drop()
                self._log_connection_problem(problem, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP_SECONDS)
        self._disconnect()

    def _log_connection_problem(self, problem: Exception, backoff: float) -> None:
        if isinstance(problem, LoginError):
            log.error(
                "IMAP %s: login refused (%s); check the user and password in IMAP_URL; "
                "trying again in %g s",
                self.mailbox,
                _describe(problem),
                backoff,
            )
        elif isinstance(problem, OSError | IMAPClientError | ImapError | EOFError):
            log.warning(
                "IMAP %s: %s; reconnecting in %g s", self.mailbox, _describe(problem), backoff
            )
        else:
            log.error(
                "IMAP %s: unexpected error; reconnecting in %g s",
                self.mailbox,
                backoff,
                exc_info=problem,
            )

    def poll_once(self) -> int:
        """One pass over new mail; returns how many messages were stored. Raises when the
        server or the database fails (the next pass picks up where this one stopped)."""
        try:
            return self._poll().stored
        except DatabaseUnavailable:
            raise
        except Exception:
            self._drop()
            raise

    def _poll(self) -> ImportResult:
        session = self._session
        if session is None:
            session = self._open()
        else:
            # A session sees new mail only once the server has told it (EXISTS); NOOP asks.
            session.client.noop()
        cursor = self._read_cursor()
        if cursor is None:
            self._first_sync(session)
            return ImportResult()
        if cursor.uid_validity != session.uid_validity:
            return self._revalidate(session, cursor)
        found = session.client.search(["UID", f"{cursor.last_uid + 1}:*"])
        # `N:*` always matches the newest message, even when its UID is below N.
        uids = sorted(uid for uid in found if uid > cursor.last_uid)
        tally = _Tally()
        if uids:
            self._process(session, uids, tally, advance=True)
        return tally.result()

    # -- waiting -------------------------------------------------------------------------

    def _wait_for_mail(self) -> None:
        session = self._session
        if session is None or not session.idle:
            self._stopping.wait(self._poll_seconds)
            return
        if _take_exists(session.client):
            return  # mail arrived while the last pass was talking to the server
        client = session.client
        client.idle()
        # Renewed every IMAP_POLL_SECONDS (at most 25 minutes) with a poll in between: a
        # safety net for an EXISTS that came in the same packet as IDLE's "+", which imaplib
        # buffers where imapclient's idle_check() does not look.
        period = min(IDLE_RENEW_SECONDS, self._poll_seconds)
        started = time.monotonic()
        while not self._stopping.is_set():
            left = period - (time.monotonic() - started)
            if left <= 0:
                break
            asked = time.monotonic()
            responses = client.idle_check(timeout=min(IDLE_CHECK_SECONDS, left))
            if any(_is_bye(r) for r in responses):
                raise ImapError("the server closed the connection")
            if any(_is_exists(r) for r in responses):
                break
            if not responses and time.monotonic() - asked < IDLE_CHECK_SECONDS / 2:
                # Woken with nothing to read: usually the connection closing. DONE tells.
                break
        client.idle_done()

    # -- connecting ----------------------------------------------------------------------

    def _open(self) -> _Session:
        session = self._connect()
        self._session = session
        pending = self._pending
        if pending is not None and pending.uid_validity == session.uid_validity:
            self._finish(session, pending.handled, pending.oversized)
        self._pending = None  # under another UIDVALIDITY those UIDs name other mail
        return session

    def _connect(self) -> _Session:
        url = self._url
        context = ssl.create_default_context()
        if url.secure:
            client = IMAPClient(
                url.host, port=url.port, ssl=True, ssl_context=context, timeout=self._timeout
            )
        else:
            client = IMAPClient(url.host, port=url.port, ssl=False, timeout=self._timeout)
        try:
            if not url.secure:
                if client.has_capability("STARTTLS"):
                    client.starttls(context)
                elif not self._warned_plain:
                    self._warned_plain = True
                    log.warning(
                        "IMAP %s: the server offers no STARTTLS; the password and mail travel "
                        "unencrypted (use imaps:// if the server has it)",
                        self.mailbox,
                    )
            client.login(url.user, url.password)
            capabilities = set(client.capabilities())
            try:
                selected = client.select_folder(url.folder)
            except IMAPClientError as problem:
                raise ImapError(
                    f"cannot open the folder {url.folder!r} ({_describe(problem)}); "
                    "check the path of IMAP_URL"
                ) from None
            if self._move_to and not client.folder_exists(self._move_to):
                client.create_folder(self._move_to)
                log.info("IMAP %s: created the folder %r", self.mailbox, self._move_to)
            _take_exists(client)  # SELECT's own count is no news
        except BaseException:
            _close(client)
            raise
        return _Session(
            client=client,
            uid_validity=int(selected[b"UIDVALIDITY"]),
            uid_next=int(selected[b"UIDNEXT"]) if b"UIDNEXT" in selected else None,
            exists=int(selected.get(b"EXISTS", 0)),
            idle=b"IDLE" in capabilities,
            move=b"MOVE" in capabilities,
            uidplus=b"UIDPLUS" in capabilities,
        )

    def _drop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            _close(session.client)

    def _disconnect(self) -> None:
        session = self._session
        if session is not None:
            try:
                session.client.logout()
            except Exception:
                _close(session.client)
            finally:
                self._session = None

    def _interrupt(self) -> None:
        session = self._session
        if session is not None:
            with contextlib.suppress(OSError):
                session.client.socket().shutdown(socket.SHUT_RDWR)

    # -- the cursor ----------------------------------------------------------------------

    def _read_cursor(self) -> ImapCursor | None:
        with _database(), transaction(reader(self._engine)) as session:
            return session.get(ImapCursor, self.mailbox)

    def _first_sync(self, session: _Session, *, announce: bool = True) -> None:
        highest = self._highest_uid(session)
        try:
            with _database(), transaction(self._engine) as db:
                db.add(
                    ImapCursor(
                        mailbox=self.mailbox,
                        uid_validity=session.uid_validity,
                        last_uid=highest,
                    )
                )
        except IntegrityError:
            return  # another process started the same mailbox just now
        if announce:
            log.info(
                "IMAP %s: first connection; left the %d message(s) already in %s alone; "
                "`helpdesk import-mail --since DATE` imports them",
                self.mailbox,
                session.exists,
                self._url.folder,
            )
        else:
            log.info("IMAP %s: new mail is read from UID %d on", self.mailbox, highest + 1)

    def _highest_uid(self, session: _Session) -> int:
        if session.uid_next is not None:
            return max(session.uid_next - 1, 0)
        return max(session.client.search(["ALL"]), default=0)

    def _advance(self, uid_validity: int, last_uid: int, *, replace: bool = False) -> None:
        with _database(), transaction(self._engine) as db:
            cursor = db.exec(
                select(ImapCursor).where(ImapCursor.mailbox == self.mailbox).with_for_update()
            ).first()
            if cursor is None:
                db.add(
                    ImapCursor(mailbox=self.mailbox, uid_validity=uid_validity, last_uid=last_uid)
                )
                return
            if replace or cursor.uid_validity != uid_validity:
                cursor.uid_validity, cursor.last_uid = uid_validity, last_uid
            else:
                cursor.last_uid = max(cursor.last_uid, last_uid)
            cursor.updated_at = utcnow()
            db.add(cursor)

    def _revalidate(self, session: _Session, cursor: ImapCursor) -> ImportResult:
        since = cursor.updated_at.date() - timedelta(days=1)
        log.warning(
            "IMAP %s: UIDVALIDITY changed from %d to %d (the mailbox was rebuilt or "
            "replaced); reading again the mail that arrived since %s",
            self.mailbox,
            cursor.uid_validity,
            session.uid_validity,
            since.isoformat(),
        )
        highest = self._highest_uid(session)
        uids = sorted(session.client.search(["SINCE", since]))
        tally = _Tally()
        if uids:
            self._process(session, uids, tally, advance=False)
        self._advance(session.uid_validity, max(highest, tally.done_uid), replace=True)
        log.info(
            "IMAP %s: re-read %d message(s): %d new, %d already stored, %d not imported",
            self.mailbox,
            len(uids),
            tally.stored,
            tally.duplicates,
            tally.refused,
        )
        return tally.result()

    # -- reading mail --------------------------------------------------------------------

    def _process(
        self,
        session: _Session,
        uids: list[int],
        tally: _Tally,
        *,
        advance: bool,
        progress: Callable[[], None] | None = None,
    ) -> None:
        """Fetches, stores and flags `uids` (ascending), batch by batch."""
        client = session.client
        for chunk in _chunks(uids, SIZE_CHUNK):
            sizes = {
                uid: int(data[b"RFC822.SIZE"])
                for uid, data in client.fetch(chunk, ["RFC822.SIZE"]).items()
                if b"RFC822.SIZE" in data
            }
            for batch in _batches(chunk, sizes, self._max_bytes):
                small = [u for u in batch if u in sizes and sizes[u] <= self._max_bytes]
                bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
                handled: list[int] = []
                oversized: list[int] = []
                for uid in batch:
                    raw = bodies.get(uid, {}).get(b"BODY[]")
                    if uid not in sizes or (raw is None and sizes[uid] <= self._max_bytes):
                        log.info("IMAP %s UID %d: gone before it was read", self.mailbox, uid)
                    elif sizes[uid] > self._max_bytes:
                        log.warning(
                            "IMAP %s UID %d not imported: %d bytes, above "
                            "HELPDESK_MAX_MESSAGE_BYTES (%d); marked seen",
                            self.mailbox,
                            uid,
                            sizes[uid],
                            self._max_bytes,
                        )
                        oversized.append(uid)
                        tally.refused += 1
                    else:
                        outcome = self._accept(uid, raw)
                        if outcome == "refused":
                            tally.refused += 1
                        else:
                            handled.append(uid)
                            if outcome == "stored":
                                tally.stored += 1
                            else:
                                tally.duplicates += 1
                    tally.done_uid = max(tally.done_uid, uid)
                    if progress is not None:
                        progress()
                if advance:
                    self._advance(session.uid_validity, max(batch))
                self._pending = _Pending(session.uid_validity, handled, oversized)
                self._finish(session, handled, oversized)
                self._pending = None

    def _accept(self, uid: int, raw: bytes) -> str:
        try:
            result = self._ingest.accept(raw, self._recipients)
        except Exception as problem:
            if _is_outage(problem):
                raise DatabaseUnavailable(_describe(problem)) from problem
            log.error(
                "IMAP %s UID %d not imported: %s; left unread in the mailbox",
                self.mailbox,
                uid,
                _describe(problem),
                exc_info=problem,
            )
            return "refused"
        if result.duplicate:
            return "duplicate"
        if result.ignored:
            log.warning(
                "IMAP %s UID %d not imported: %s; left unread in the mailbox",
                self.mailbox,
                uid,
                result.ignored,
            )
            return "refused"
        return "stored"

    def _finish(self, session: _Session, handled: list[int], oversized: list[int]) -> None:
        """Marks stored mail seen (or moves it away) and oversized mail seen."""
        client = session.client
        seen = handled + oversized
        if seen:
            client.add_flags(seen, [SEEN], silent=True)
        if handled and self._move_to:
            try:
                if session.move:
                    client.move(handled, self._move_to)
                else:
                    client.copy(handled, self._move_to)
                    client.add_flags(handled, [DELETED], silent=True)
                    if session.uidplus:
                        client.uid_expunge(handled)
                    else:
                        client.expunge()
            except IMAPClientAbortError:
                raise  # the connection is gone: retried after reconnecting
            except IMAPClientError as problem:
                log.error(
                    "IMAP %s: could not move UIDs %s to %r (%s); they stay, marked seen",
                    self.mailbox,
                    _uid_list(handled),
                    self._move_to,
                    _describe(problem),
                )

    # -- importing older mail ------------------------------------------------------------

    def import_since(
        self, since: date, progress: Callable[[int, int], None] | None = None
    ) -> ImportResult:
        """Imports every message of the folder that arrived on or after `since` (the server's
        INTERNALDATE), once: mail the helpdesk already has counts as a duplicate. Calls
        `progress(done, total)` as it goes. Uses its own connection; a dropped connection is
        resumed a few times, a database outage raises."""
        worker = copy.copy(self)
        worker._session = worker._pending = worker._thread = None
        worker._stopping = threading.Event()
        return worker._import(since, progress)

    def _import(self, since: date, progress: Callable[[int, int], None] | None) -> ImportResult:
        tally = _Tally()
        uids: list[int] = []
        uid_validity: int | None = None
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, len(uids))

        attempt = 0
        try:
            while True:
                try:
                    session = self._open()
                    if uid_validity is None:
                        if self._read_cursor() is None:
                            # Before the first poll ever: mail after this is the poller's.
                            self._first_sync(session, announce=False)
                        uids = sorted(session.client.search(["SINCE", since]))
                        uid_validity = session.uid_validity
                        log.info(
                            "IMAP %s: importing %d message(s) received since %s",
                            self.mailbox,
                            len(uids),
                            since.isoformat(),
                        )
                        if progress is not None:
                            progress(0, len(uids))
                    elif session.uid_validity != uid_validity:
                        raise ImapError(
                            "the mailbox's UIDVALIDITY changed during the import; run it again"
                        )
                    remaining = [uid for uid in uids if uid > tally.done_uid]
                    if remaining:
                        self._process(session, remaining, tally, advance=False, progress=step)
                    return tally.result()
                except (OSError, IMAPClientError, EOFError) as problem:
                    # Resumed only once it has begun: a wrong password or certificate at the
                    # start is reported at once.
                    if uid_validity is None or attempt + 1 >= IMPORT_ATTEMPTS:
                        raise ImapError(f"IMAP {self.mailbox}: {_describe(problem)}") from None
                    self._drop()
                    wait = min(BACKOFF_FIRST_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)
                    attempt += 1
                    log.warning(
                        "IMAP %s: %s; resuming the import in %g s",
                        self.mailbox,
                        _describe(problem),
                        wait,
                    )
                    time.sleep(wait)
        finally:
            self._disconnect()


# -- helpers -----------------------------------------------------------------------------


class _database:
    """Turns the database's absence into DatabaseUnavailable; other errors pass as they are."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, value, traceback) -> bool:
        if value is not None and _is_outage(value):
            raise DatabaseUnavailable(_describe(value)) from value
        return False


def _is_outage(problem: BaseException) -> bool:
    if isinstance(problem, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(problem, DBAPIError) and problem.connection_invalidated


def _describe(problem: BaseException) -> str:
    if isinstance(problem, DBAPIError):
        text = str(problem.orig).strip().splitlines()
        return text[0] if text else type(problem.orig).__name__
    text = str(problem).strip()
    if isinstance(problem, ImapError | DatabaseUnavailable):
        return text
    return f"{type(problem).__name__}: {text}" if text else type(problem).__name__


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


def _take_exists(client: IMAPClient) -> bool:
    """Whether the server reported new messages (untagged EXISTS) alongside earlier commands'
    answers, forgetting what it sent. imaplib keeps those answers; imapclient does not expose
    them, hence the private attribute, read defensively."""
    responses = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(responses, dict):
        return False
    found = "EXISTS" in responses
    responses.clear()
    return found


def _is_exists(response) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS"


def _is_bye(response) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(uids: Iterable[int], sizes: dict[int, int], max_bytes: int) -> Iterator[list[int]]:
    """Groups UIDs so that each fetch brings a bounded amount of mail."""
    batch: list[int] = []
    weight = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        size = size if size <= max_bytes else 0  # not fetched
        if batch and (len(batch) >= BATCH_MESSAGES or weight + size > BATCH_BYTES):
            yield batch
            batch, weight = [], 0
        batch.append(uid)
        weight += size
    if batch:
        yield batch


def _uid_list(uids: list[int]) -> str:
    shown = ",".join(str(uid) for uid in uids[:10])
    return shown + ("…" if len(uids) > 10 else "")
