"""The built-in inbound SMTP server (aiosmtpd).

A message is committed before `250` is answered (by `GroupCommit`, together with the mail other
sessions finished meanwhile); when the database is away, or the message could not be stored,
the answer is a temporary `451`, so the sending server keeps the mail and tries again. Mail
accepted, and every refusal by its reply code, are counted for `/metrics`.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.core.threading import reply_token_in
from bot.handlers.email.ingest import GroupCommit
from bot.mail.auto_submitted import with_null_sender_marked
from bot.monitoring.counters import Counters

log = logging.getLogger(__name__)


class InboundMailHandler:
    def __init__(
        self,
        writer: GroupCommit,
        accepted_addresses: set[str],
        support_address: str,
        counters: Counters,
    ):
        self.writer = writer
        self._counters = counters
        self._accepted = {a.lower() for a in accepted_addresses}
        self._support_address = support_address

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        if address.lower() not in self._accepted and not reply_token_in(
            [address], self._support_address
        ):
            log.info("refused recipient %s from %s", address, session.peer)
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = with_null_sender_marked(envelope.original_content or b"", envelope.mail_from)
        try:
            result = await asyncio.wrap_future(self.writer.submit(raw, list(envelope.rcpt_tos)))
        except Exception:
            log.exception("could not store mail from %s; asked the sender to retry", session.peer)
            return "451 4.3.0 Temporary failure storing the message, please try again later"
        self._counters.mail_accepted()
        if result.ignored:
            return f"250 2.0.0 Accepted, not turned into a ticket: {result.ignored}"
        if result.duplicate:
            return "250 2.0.0 Already received"
        return f"250 2.0.0 Accepted as ticket #{result.ticket_number}"


class CountingSMTP(SMTP):
    """aiosmtpd's protocol, counting each refusal it answers: the handler's (550, 451) and
    aiosmtpd's own (552 over the size limit, 5xx for broken or out-of-order commands)."""

    def __init__(self, handler, counters: Counters, **kwargs):
        super().__init__(handler, **kwargs)
        self._counters = counters

    async def push(self, status: str | bytes) -> None:
        line = status.decode("utf-8", "replace") if isinstance(status, bytes) else status
        # The last line of a reply carries a space after its code; refusals are 4xx and 5xx.
        if line[:1] in ("4", "5") and line[3:4] in ("", " "):
            self._counters.mail_refused(line[:3])
        await super().push(status)


class _CountingController(Controller):
    def __init__(self, handler, counters: Counters, **kwargs):
        super().__init__(handler, **kwargs)
        self._counters = counters

    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, self._counters, **self.SMTP_kwargs)

    def _run(self, ready_event: threading.Event) -> None:
        super()._run(ready_event)
        # aiosmtpd signals ready only once listening, so a port it could not listen on kept
        # `start` waiting out the whole ready_timeout before saying so: wake it at once, and
        # `_trigger_server` raises the error.
        ready_event.set()

    def _trigger_server(self) -> None:
        if self._thread_exception is not None:
            raise self._thread_exception
        super()._trigger_server()


class InboundSmtpServer:
    def __init__(
        self,
        handler: InboundMailHandler,
        host: str,
        port: int,
        max_bytes: int,
        counters: Counters,
    ):
        self._handler = handler
        self._controller = _CountingController(
            handler,
            counters,
            hostname=host,
            port=port,
            data_size_limit=max_bytes,
            # Keeps the original bytes: the stored copy and its hash must be what was sent.
            decode_data=False,
            server_hostname="helpdesk",
            ready_timeout=10,
        )

    @property
    def writer(self) -> GroupCommit:
        """Stores the mail received; how much waits on it."""
        return self._handler.writer

    @property
    def port(self) -> int:
        return self._controller.server.sockets[0].getsockname()[1]

    def start(self) -> None:
        self._handler.writer.start()
        try:
            self._controller.start()
        except Exception:
            self._handler.writer.stop()
            raise

    def stop(self) -> None:
        """Stops listening, then answers the mail already received once it is stored."""
        loop = self._controller.loop
        if loop.is_running():
            self._controller.stop()  # its thread closes the loop as it ends
        elif not loop.is_closed():
            # Never started, or could not listen: aiosmtpd leaves the loop it made open,
            # and the loop's finaliser then fails with a traceback at exit.
            loop.close()
        self._handler.writer.stop()
