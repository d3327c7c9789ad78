"""Which delivery failures heal by waiting, and the thread's note about a row given up."""

from __future__ import annotations

import errno
import http.client
import smtplib
import socket
import ssl
import urllib.error

import pytest
from sqlalchemy.exc import DataError, OperationalError

from bot.jobs.delivery import GiveUp, RetryLater, ServiceDown, is_transient
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
