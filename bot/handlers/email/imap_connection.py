"""One connection to the folder of `IMAP_URL`: TLS or STARTTLS, login, capabilities, SELECT.

The poller and the import each hold their own `ImapConnection`; after a failure they drop it
and connect again, waiting `BACKOFF_FIRST_SECONDS`, doubled each time up to
`BACKOFF_CAP_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError

from bot.handlers.email.imap_errors import ImapError, describe
from bot.handlers.email.imap_url import ImapUrl

log = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 15.0
COMMAND_TIMEOUT_SECONDS = 60.0


@dataclass
class ImapSession:
    """One logged-in connection with the folder selected."""

    client: IMAPClient
    uid_validity: int
    uid_next: int | None  # as SELECT reported it: every later message has a UID at least this
    exists: int
    idle: bool
    move: bool
    uidplus: bool

    def highest_uid(self) -> int:
        if self.uid_next is not None:
            return max(self.uid_next - 1, 0)
        return max(self.client.search(["ALL"]), default=0)


class ImapConnection:
    """Connects to `url`'s folder on demand; `session` is the open connection, if any.

    `move_to`, when given, is a folder created on connecting if the server lacks it."""

    def __init__(self, url: ImapUrl, timeout: float, move_to: str | None):
        self.url = url
        self.session: ImapSession | None = None
        self._timeout = SocketTimeout(connect=min(CONNECT_TIMEOUT_SECONDS, timeout), read=timeout)
        self._move_to = move_to
        self._warned_plain = False

    def connect(self) -> ImapSession:
        url = self.url
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
                        url.key,
                    )
            client.login(url.user, url.password)
            capabilities = set(client.capabilities())
            try:
                selected = client.select_folder(url.folder)
            except IMAPClientError as problem:
                raise ImapError(
                    f"cannot open the folder {url.folder!r} ({describe(problem)}); "
                    "check the path of IMAP_URL"
                ) from None
            if self._move_to and not client.folder_exists(self._move_to):
                client.create_folder(self._move_to)
                log.info("IMAP %s: created the folder %r", url.key, self._move_to)
            take_exists(client)  # SELECT's own count is no news
        except BaseException:
            _close(client)
            raise
        self.session = ImapSession(
            client=client,
            uid_validity=int(selected[b"UIDVALIDITY"]),
            uid_next=int(selected[b"UIDNEXT"]) if b"UIDNEXT" in selected else None,
            exists=int(selected.get(b"EXISTS", 0)),
            idle=b"IDLE" in capabilities,
            move=b"MOVE" in capabilities,
            uidplus=b"UIDPLUS" in capabilities,
        )
        return self.session

    def drop(self) -> None:
        """Closes the socket without a word to the server: after a failure."""
        session, self.session = self.session, None
        if session is not None:
            _close(session.client)

    def logout(self) -> None:
        session = self.session
        if session is not None:
            try:
                session.client.logout()
            except Exception:
                _close(session.client)
            finally:
                self.session = None

    def interrupt(self) -> None:
        """Cuts the socket under a command blocked on the network, from another thread."""
        session = self.session
        if session is not None:
            with contextlib.suppress(OSError):
                session.client.socket().shutdown(socket.SHUT_RDWR)


def take_exists(client: IMAPClient) -> bool:
    """Whether the server reported new messages (untagged EXISTS) alongside earlier commands'
    answers, forgetting what it sent. imaplib keeps those answers; imapclient does not expose
    them, hence the private attribute, read defensively."""
    responses = getattr(getattr(client, "_imap", None), "untagged_responses", None)
    if not isinstance(responses, dict):
        return False
    found = "EXISTS" in responses
    responses.clear()
    return found


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()
