"""Raw mail in, committed ticket messages out: shared by the SMTP server and the IMAP poller."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.context import Desk
from bot.core.intake import IntakeResult, receive_email
from bot.mail.parse import parse_email
from bot.storage.db import transaction

log = logging.getLogger(__name__)


class MailIngest:
    def __init__(self, engine: Engine, desk: Desk):
        self._engine = engine
        self._desk = desk

    def accept(self, raw: bytes, recipients: list[str]) -> IntakeResult:
        """Stores the mail; returns only once it is committed. Database errors propagate."""
        mail = parse_email(raw)
        for attempt in (1, 2):
            try:
                with transaction(self._engine) as session:
                    result = receive_email(
                        session, mail, raw, recipients=recipients, desk=self._desk
                    )
                break
            except IntegrityError:
                # The same mail committed concurrently by another connection: the second
                # pass sees it and reports a duplicate.
                if attempt == 2:
                    raise
        if result.ticket_number is not None and not result.duplicate:
            log.info(
                "mail %s stored on ticket #%s%s",
                mail.message_id,
                result.ticket_number,
                " (new)" if result.created else "",
            )
        return result
