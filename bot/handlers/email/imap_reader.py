"""Reads given messages of a mailbox into the helpdesk. For each message, in this order:

1. `BODY.PEEK[]` is fetched (peeking never sets `\\Seen`);
2. `MailIngest.accept` stores it and commits;
3. the cursor is advanced in the database (when the caller asks);
4. the message is marked `\\Seen`, or moved to the policy's `mail.imap_move_to` folder.

A crash between any two steps re-fetches the message next time at worst, and ingest recognises
the mail it already has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from imapclient import DELETED, SEEN
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError
from sqlalchemy import Engine

from bot.handlers.email.imap_connection import ImapConnection, ImapSession
from bot.handlers.email.imap_cursor import CursorStore
from bot.handlers.email.imap_errors import DatabaseUnavailable, describe, is_outage
from bot.handlers.email.imap_url import ImapUrl
from bot.handlers.email.ingest import MailIngest

log = logging.getLogger(__name__)

# A fetch brings at most this many messages, or this many bytes, whichever comes first.
BATCH_MESSAGES = 20
BATCH_BYTES = 8 * 1024 * 1024
# UIDs per RFC822.SIZE fetch, to keep command lines short.
SIZE_CHUNK = 500


@dataclass(frozen=True)
class ImapMailbox:
    """A mailbox to read and where its mail goes: what the poller and an import share."""

    url: ImapUrl
    engine: Engine
    ingest: MailIngest
    move_to: str | None
    max_bytes: int  # HELPDESK_MAX_MESSAGE_BYTES
    recipients: list[str]  # given to ingest as the addresses the mail was sent to
    timeout: float

    @property
    def key(self) -> str:
        return self.url.key


@dataclass(frozen=True)
class ImportResult:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0


@dataclass
class Tally:
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


class MailboxReader:
    """Reads one mailbox over its own connection (`connection`), moving its cursor."""

    def __init__(self, mailbox: ImapMailbox):
        self.mailbox = mailbox
        self.connection = ImapConnection(mailbox.url, mailbox.timeout, mailbox.move_to)
        self.cursor = CursorStore(mailbox.engine, mailbox.url)
        self._pending: _Pending | None = None

    def open(self) -> ImapSession:
        """Connects, and first settles the flags a cut connection left owed."""
        session = self.connection.connect()
        pending = self._pending
        if pending is not None and pending.uid_validity == session.uid_validity:
            self._finish(session, pending.handled, pending.oversized)
        self._pending = None  # under another UIDVALIDITY those UIDs name other mail
        return session

    def read(
        self,
        session: ImapSession,
        uids: list[int],
        tally: Tally,
        *,
        advance: bool,
        progress: Callable[[], None] | None = None,
    ) -> None:
        """Fetches, stores and flags `uids` (ascending), batch by batch."""
        client = session.client
        max_bytes = self.mailbox.max_bytes
        for chunk in _chunks(uids, SIZE_CHUNK):
            sizes = {
                uid: int(data[b"RFC822.SIZE"])
                for uid, data in client.fetch(chunk, ["RFC822.SIZE"]).items()
                if b"RFC822.SIZE" in data
            }
            for batch in _batches(chunk, sizes, max_bytes):
                small = [u for u in batch if u in sizes and sizes[u] <= max_bytes]
                bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
                handled: list[int] = []
                oversized: list[int] = []
                for uid in batch:
                    raw = bodies.get(uid, {}).get(b"BODY[]")
                    if uid not in sizes or (raw is None and sizes[uid] <= max_bytes):
                        log.info("IMAP %s UID %d: gone before it was read", self.mailbox.key, uid)
                    elif sizes[uid] > max_bytes:
                        log.warning(
                            "IMAP %s UID %d not imported: %d bytes, above "
                            "HELPDESK_MAX_MESSAGE_BYTES (%d); marked seen",
                            self.mailbox.key,
                            uid,
                            sizes[uid],
                            max_bytes,
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
                    self.cursor.advance(session.uid_validity, max(batch))
                self._pending = _Pending(session.uid_validity, handled, oversized)
                self._finish(session, handled, oversized)
                self._pending = None

    def _accept(self, uid: int, raw: bytes) -> str:
        try:
            result = self.mailbox.ingest.accept(raw, self.mailbox.recipients)
        except Exception as problem:
            if is_outage(problem):
                raise DatabaseUnavailable(describe(problem)) from problem
            log.error(
                "IMAP %s UID %d not imported: %s; left unread in the mailbox",
                self.mailbox.key,
                uid,
                describe(problem),
                exc_info=problem,
            )
            return "refused"
        if result.duplicate:
            return "duplicate"
        if result.ignored:
            log.warning(
                "IMAP %s UID %d not imported: %s; left unread in the mailbox",
                self.mailbox.key,
                uid,
                result.ignored,
            )
            return "refused"
        return "stored"

    def _finish(self, session: ImapSession, handled: list[int], oversized: list[int]) -> None:
        """Marks stored mail seen (or moves it away) and oversized mail seen."""
        client = session.client
        move_to = self.mailbox.move_to
        seen = handled + oversized
        if seen:
            client.add_flags(seen, [SEEN], silent=True)
        if handled and move_to:
            try:
                if session.move:
                    client.move(handled, move_to)
                else:
                    client.copy(handled, move_to)
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
                    self.mailbox.key,
                    _uid_list(handled),
                    move_to,
                    describe(problem),
                )


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
