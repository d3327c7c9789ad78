"""Polls the IMAP mailbox of `IMAP_URL` and hands new mail to `MailIngest`.

Each pass reads the mail after the cursor (`imap_cursor.py`) through a `MailboxReader`
(`imap_reader.py`, which says in what order a message is stored, the cursor advanced and the
message flagged); in between it waits in IDLE where the server offers it, else polls every
`IMAP_POLL_SECONDS`. The first connection to a mailbox imports nothing: the cursor starts at
the newest message, and `helpdesk import-mail --since DATE` (`imap_import.py`) imports older
mail on request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta

from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy import Engine

from bot.handlers.email import imap_import
from bot.handlers.email.imap_connection import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_FIRST_SECONDS,
    COMMAND_TIMEOUT_SECONDS,
    ImapSession,
)
from bot.handlers.email.imap_errors import DatabaseUnavailable, ImapError, describe
from bot.handlers.email.imap_idle import wait_for_mail
from bot.handlers.email.imap_reader import ImapMailbox, ImportResult, MailboxReader, Tally
from bot.handlers.email.imap_url import ImapUrl
from bot.handlers.email.ingest import MailIngest
from bot.storage.models import ImapCursor

log = logging.getLogger(__name__)


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
        parsed = ImapUrl.parse(url)
        recipient = parsed.user if "@" in parsed.user else address
        self._mailbox = ImapMailbox(
            url=parsed,
            engine=engine,
            ingest=ingest,
            move_to=move_to or None,
            max_bytes=max_bytes,
            recipients=[recipient] if recipient else [],
            timeout=timeout,
        )
        self._poll_seconds = poll_seconds
        self._reader = MailboxReader(self._mailbox)
        self._connection = self._reader.connection
        self._cursor = self._reader.cursor
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def mailbox(self) -> str:
        return self._mailbox.key

    def import_since(
        self, since: date, progress: Callable[[int, int], None] | None = None
    ) -> ImportResult:
        """`imap_import.import_since` for this poller's mailbox, over its own connection."""
        return imap_import.import_since(self._mailbox, since, progress)

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
                self._connection.interrupt()
                thread.join(timeout / 2)
            if thread.is_alive():
                log.warning("IMAP %s: the poller did not stop in time", self.mailbox)
                return
        self._connection.logout()

    def _run(self) -> None:
        backoff = BACKOFF_FIRST_SECONDS
        while not self._stopping.is_set():
            try:
                self._poll()
                backoff = BACKOFF_FIRST_SECONDS
                wait_for_mail(self._connection.session, self._stopping, self._poll_seconds)
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
                self._connection.drop()
                self._log_connection_problem(problem, backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_CAP_SECONDS)
        self._connection.logout()

    def _log_connection_problem(self, problem: Exception, backoff: float) -> None:
        if isinstance(problem, LoginError):
            log.error(
                "IMAP %s: login refused (%s); check the user and password in IMAP_URL; "
                "trying again in %g s",
                self.mailbox,
                describe(problem),
                backoff,
            )
        elif isinstance(problem, OSError | IMAPClientError | ImapError | EOFError):
            log.warning(
                "IMAP %s: %s; reconnecting in %g s", self.mailbox, describe(problem), backoff
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
            self._connection.drop()
            raise

    def _poll(self) -> ImportResult:
        session = self._connection.session
        if session is None:
            session = self._reader.open()
        else:
            # A session sees new mail only once the server has told it (EXISTS); NOOP asks.
            session.client.noop()
        cursor = self._cursor.read()
        if cursor is None:
            self._cursor.begin(session)
            return ImportResult()
        if cursor.uid_validity != session.uid_validity:
            return self._revalidate(session, cursor)
        found = session.client.search(["UID", f"{cursor.last_uid + 1}:*"])
        # `N:*` always matches the newest message, even when its UID is below N.
        uids = sorted(uid for uid in found if uid > cursor.last_uid)
        tally = Tally()
        if uids:
            self._reader.read(session, uids, tally, advance=True)
        return tally.result()

    def _revalidate(self, session: ImapSession, cursor: ImapCursor) -> ImportResult:
        since = cursor.updated_at.date() - timedelta(days=1)
        log.warning(
            "IMAP %s: UIDVALIDITY changed from %d to %d (the mailbox was rebuilt or "
            "replaced); reading again the mail that arrived since %s",
            self.mailbox,
            cursor.uid_validity,
            session.uid_validity,
            since.isoformat(),
        )
        highest = session.highest_uid()
        uids = sorted(session.client.search(["SINCE", since]))
        tally = Tally()
        if uids:
            self._reader.read(session, uids, tally, advance=False)
        self._cursor.advance(session.uid_validity, max(highest, tally.done_uid), replace=True)
        log.info(
            "IMAP %s: re-read %d message(s): %d new, %d already stored, %d not imported",
            self.mailbox,
            len(uids),
            tally.stored,
            tally.duplicates,
            tally.refused,
        )
        return tally.result()
