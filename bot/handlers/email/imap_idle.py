"""Waiting for new mail between the poller's passes: in IMAP IDLE where the server offers it
(RFC 2177), else simply `IMAP_POLL_SECONDS`."""

from __future__ import annotations

import threading
import time

from bot.handlers.email.imap_connection import ImapSession, take_exists
from bot.handlers.email.imap_errors import ImapError

# RFC 2177: clients should re-issue IDLE at least every 29 minutes.
IDLE_RENEW_SECONDS = 25 * 60
# How often a wait in IDLE looks up to see whether the poller is being stopped.
IDLE_CHECK_SECONDS = 0.5


def wait_for_mail(
    session: ImapSession | None, stopping: threading.Event, poll_seconds: float
) -> None:
    """Returns when new mail may have come, `poll_seconds` have passed or `stopping` is set."""
    if session is None or not session.idle:
        stopping.wait(poll_seconds)
        return
    if take_exists(session.client):
        return  # mail arrived while the last pass was talking to the server
    client = session.client
    client.idle()
    # Renewed every IMAP_POLL_SECONDS (at most 25 minutes) with a poll in between: a
    # safety net for an EXISTS that came in the same packet as IDLE's "+", which imaplib
    # buffers where imapclient's idle_check() does not look.
    period = min(IDLE_RENEW_SECONDS, poll_seconds)
    started = time.monotonic()
    while not stopping.is_set():
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


def _is_exists(response) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS"


def _is_bye(response) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"
