"""Raw mail in, committed ticket messages out: shared by the SMTP server and the IMAP poller.

The SMTP server hands its mail to `GroupCommit`: one thread storing all the mail that arrived
while it was busy in one transaction, each sender answered once that transaction is committed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from bot.core import outbox
from bot.core.context import Desk
from bot.core.intake import IntakeResult, receive_email
from bot.mail.parse import ParsedEmail, parse_email
from bot.storage.db import durable, transaction

log = logging.getLogger(__name__)

# The database is unreachable, locked past its timeout, or lost the connection: storing the
# mail again one by one would only fail again, once per mail.
DATABASE_AWAY = (OperationalError, InterfaceError)


class MailIngest:
    def __init__(self, engine: Engine, desk: Desk):
        self._engine = engine
        self._desk = desk

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """Each commit here tells a sending server it may forget the mail: made durable. The
        engine's options are read now, not when the ingest was made (the outbox's wake). The
        outbox rows of all its mail go in one INSERT at its end, in the order enqueued."""
        with transaction(durable(self._engine)) as session, outbox.batch(session):
            yield session

    def accept(self, raw: bytes, recipients: list[str]) -> IntakeResult:
        """Stores the mail; returns only once it is committed. Database errors propagate."""
        return self._store(parse_email(raw), raw, recipients)

    def accept_group(self, mails: list[tuple[bytes, list[str]]]) -> list[IntakeResult | Exception]:
        """Stores the mails in one transaction, in their order, as if one after another: a
        later one sees what the earlier ones stored (threads into their tickets, is their
        duplicate). Returns each mail's result, or the error that kept it from being stored.

        A mail that can't be parsed fails alone. When storing the group fails for another
        reason than the database being away (one mail tripping over a bug or a constraint, a
        conflict with another process), nothing of it was committed and each mail is stored
        again in its own transaction, so one bad mail can't refuse the others.
        """
        outcomes: list[IntakeResult | Exception | None] = [None] * len(mails)
        parsed: list[tuple[int, ParsedEmail, bytes, list[str]]] = []
        for index, (raw, recipients) in enumerate(mails):
            try:
                parsed.append((index, parse_email(raw), raw, recipients))
            except Exception as exc:
                outcomes[index] = exc
        try:
            with self._transaction() as session:
                stored = [
                    (
                        index,
                        mail,
                        receive_email(session, mail, raw, recipients=recipients, desk=self._desk),
                    )
                    for index, mail, raw, recipients in parsed
                ]
        except DATABASE_AWAY as exc:
            for index, *_ in parsed:
                outcomes[index] = exc
        except Exception:
            log.warning("storing %d mails together failed; storing each alone", len(parsed))
            for index, mail, raw, recipients in parsed:
                try:
                    outcomes[index] = self._store(mail, raw, recipients)
                except Exception as exc:
                    outcomes[index] = exc
        else:
            for index, mail, result in stored:
                _log_stored(mail, result)
                outcomes[index] = result
        return outcomes

    def _store(self, mail: ParsedEmail, raw: bytes, recipients: list[str]) -> IntakeResult:
        for attempt in (1, 2):
            try:
                with self._transaction() as session:
                    result = receive_email(
                        session, mail, raw, recipients=recipients, desk=self._desk
                    )
                break
            except IntegrityError:
                # The same mail committed concurrently by another connection: the second
                # pass sees it and reports a duplicate.
                if attempt == 2:
                    raise
        _log_stored(mail, result)
        return result


def _log_stored(mail: ParsedEmail, result: IntakeResult) -> None:
    if result.ticket_number is not None and not result.duplicate:
        log.info(
            "mail %s stored on ticket #%s%s",
            mail.message_id,
            result.ticket_number,
            " (new)" if result.created else "",
        )


class GroupCommit:
    """One thread storing the SMTP server's mail: each time it is free, it takes every mail
    waiting (up to `most`) and stores them in one transaction (`MailIngest.accept_group`).

    A transaction costs the same whether it holds one mail or fifty: the write lock and a sync
    to disk on SQLite, a WAL flush and the round trips of BEGIN and COMMIT on PostgreSQL. Mail
    arriving together shares that cost (and one INSERT of its outbox rows), and no longer
    queues mail by mail for SQLite's write lock, each sleeping and retrying. A lone mail is
    stored at once, with no wait for company.
    """

    def __init__(self, ingest: MailIngest, most: int = 50):
        self._ingest = ingest
        self._most = most
        self._queue: queue.SimpleQueue[tuple[bytes, list[str], Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._waiting = 0
        self._queued = 0

    @property
    def waiting(self) -> int:
        """Mail handed in and not yet answered: being stored, or queued behind that."""
        return self._waiting

    @property
    def queued(self) -> int:
        """Mail handed in and not yet taken into a group: it joins the next one."""
        return self._queued

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mail-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stores what was handed in before, then ends the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def submit(self, raw: bytes, recipients: list[str]) -> Future[IntakeResult]:
        """The mail's result once it is committed, or the error that kept it from that."""
        future: Future[IntakeResult] = Future()
        with self._lock:
            self._waiting += 1
            self._queued += 1
        self._queue.put((raw, recipients, future))
        return future

    def _run(self) -> None:
        stopping = False
        while not stopping:
            group = []
            item = self._queue.get()
            while item is not None:
                group.append(item)
                if len(group) == self._most:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            with self._lock:
                self._queued -= len(group)
            if group:
                self._store(group)

    def _store(self, group: list[tuple[bytes, list[str], Future]]) -> None:
        # A session that ended meanwhile (the server stopping) got no answer: its sender keeps
        # the mail and sends it again, so it isn't stored now.
        live = [item for item in group if item[2].set_running_or_notify_cancel()]
        try:
            outcomes = self._ingest.accept_group([(raw, rcpts) for raw, rcpts, _ in live])
        except Exception as exc:  # a bug here must not leave senders waiting forever
            outcomes = [exc] * len(live)
        with self._lock:
            self._waiting -= len(group)
        for (_, _, future), outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
