"""`helpdesk import-mail --since DATE`: older mail of a mailbox read once, on request.

It reads over a connection of its own (a `MailboxReader` of its own), so it may run while the
poller of the same mailbox runs, in this process or another. It does not move the cursor (it
only starts one before the first poll ever): mail after the cursor is the poller's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

from imapclient.exceptions import IMAPClientError

from bot.handlers.email.imap_connection import BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS
from bot.handlers.email.imap_errors import ImapError, describe
from bot.handlers.email.imap_reader import ImapMailbox, ImportResult, MailboxReader, Tally

log = logging.getLogger(__name__)

IMPORT_ATTEMPTS = 5


def import_since(
    mailbox: ImapMailbox, since: date, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Imports every message of the folder that arrived on or after `since` (the server's
    INTERNALDATE), once: mail the helpdesk already has counts as a duplicate. Calls
    `progress(done, total)` as it goes. A dropped connection is resumed a few times, a
    database outage raises."""
    reader = MailboxReader(mailbox)
    tally = Tally()
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
                session = reader.open()
                if uid_validity is None:
                    if reader.cursor.read() is None:
                        # Before the first poll ever: mail after this is the poller's.
                        reader.cursor.begin(session, announce=False)
                    uids = sorted(session.client.search(["SINCE", since]))
                    uid_validity = session.uid_validity
                    log.info(
                        "IMAP %s: importing %d message(s) received since %s",
                        mailbox.key,
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
                    reader.read(session, remaining, tally, advance=False, progress=step)
                return tally.result()
            except (OSError, IMAPClientError, EOFError) as problem:
                # Resumed only once it has begun: a wrong password or certificate at the
                # start is reported at once.
                if uid_validity is None or attempt + 1 >= IMPORT_ATTEMPTS:
                    raise ImapError(f"IMAP {mailbox.key}: {describe(problem)}") from None
                reader.connection.drop()
                wait = min(BACKOFF_FIRST_SECONDS * 2**attempt, BACKOFF_CAP_SECONDS)
                attempt += 1
                log.warning(
                    "IMAP %s: %s; resuming the import in %g s",
                    mailbox.key,
                    describe(problem),
                    wait,
                )
                time.sleep(wait)
    finally:
        reader.connection.logout()
