"""Which delivery failures heal by waiting, and the thread's note about a row given up."""

from __future__ import annotations

import errno
import http.client
import smtplib
import socket
import ssl
import urllib.error
from datetime import timedelta

import pytest
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import Session, select

from bot.core import outbox
from bot.delivery.contract import GiveUp, RetryLater, ServiceDown, is_transient
from bot.delivery.worker import POISON_ATTEMPTS, OutboxWorker
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import OutboxItem, OutboxStatus, utcnow
from bot.views.delivery_failure import failed_delivery_text


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError("timed out"),
        socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
        ssl.SSLError("EOF occurred in violation of protocol"),
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        urllib.error.URLError("connection refused"),
        http.client.RemoteDisconnected("Remote end closed connection without response"),
        http.client.IncompleteRead(b"partial"),
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        RetryLater("rate limited"),
        ServiceDown("Slack HTTP 503"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_failures_of_the_way_to_a_service_are_transient(failure):
    assert is_transient(failure)


@pytest.mark.parametrize(
    "failure",
    [
        ValueError("Header values may not contain linefeed or carriage return characters"),
        UnicodeEncodeError("ascii", "é", 0, 1, "ordinal not in range(128)"),
        KeyError("ts"),
        TypeError("'NoneType' object is not subscriptable"),
        FileNotFoundError(errno.ENOENT, "No such file or directory"),
        DataError("INSERT", {}, Exception("invalid byte sequence for encoding UTF8: 0x00")),
        GiveUp("Slack refused the message: msg_too_long"),
    ],
    ids=lambda failure: type(failure).__name__,
)
def test_failures_of_the_row_itself_are_not(failure):
    assert not is_transient(failure)


def test_the_note_names_the_row_and_escapes_the_reason():
    text = failed_delivery_text(42, "slack.attachments", "ValueError: <!channel> `x`\r\nsecond")
    assert "the customer's files" in text and "helpdesk outbox retry 42" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "\n" not in text and "`x`" not in text


class Scripted:
    """A deliverer that fails as told, then delivers."""

    service = None
    posts_to_channel = False

    def __init__(self, failures: list[Exception]):
        self.failures = failures

    def send(self, session, item, in_doubt) -> dict:
        if self.failures:
            raise self.failures.pop(0)
        return {"delivered": True}

    def record(self, session, item, result) -> None:
        pass


def delivered_after(tmp_path, failures: list[Exception]) -> OutboxItem:
    """Runs one row through a real worker on SQLite until nothing is due; the row then."""
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    now = [utcnow()]
    worker = OutboxWorker(engine, {"test.scripted": Scripted(failures)}, clock=lambda: now[0])
    try:
        with transaction(engine) as session:
            outbox.enqueue(session, "test.scripted", ticket_id=None)
        for _ in range(30):
            worker.run_once()
            now[0] += timedelta(minutes=10)  # past any backoff
        with Session(engine) as session:
            return session.exec(select(OutboxItem)).one()
    finally:
        worker.stop()
        engine.dispose()


def test_an_outage_s_retries_do_not_count_towards_giving_a_row_up(tmp_path):
    """Six tries while the network was away, then a bug that is fixed after four tries: the
    row goes (it used to fail for good on its first raise, past five tries of any kind)."""
    outage = [ConnectionResetError(errno.ECONNRESET, "reset")] * 6
    row = delivered_after(tmp_path, [*outage, *[ValueError("bad header")] * (POISON_ATTEMPTS - 1)])
    assert row.status == OutboxStatus.SENT
    assert (row.attempts, row.raised) == (6 + POISON_ATTEMPTS, POISON_ATTEMPTS - 1)


def test_a_row_that_keeps_raising_is_given_up(tmp_path):
    row = delivered_after(tmp_path, [ValueError("bad header")] * POISON_ATTEMPTS)
    assert row.status == OutboxStatus.FAILED
    assert row.last_error == f"ValueError: bad header (raised {POISON_ATTEMPTS} times)"
