"""How far a mailbox has been read, kept in the database (`ImapCursor`), never in its flags:
the folder's UIDVALIDITY and the last UID handled."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.handlers.email.imap_connection import ImapSession
from bot.handlers.email.imap_errors import database_errors
from bot.handlers.email.imap_url import ImapUrl
from bot.storage.db import reader, transaction
from bot.storage.models import ImapCursor, utcnow

log = logging.getLogger(__name__)


class CursorStore:
    """The cursor of one mailbox. Raises DatabaseUnavailable when the database does not answer."""

    def __init__(self, engine: Engine, url: ImapUrl):
        self._engine = engine
        self._url = url

    def read(self) -> ImapCursor | None:
        with database_errors(), transaction(reader(self._engine)) as session:
            return session.get(ImapCursor, self._url.key)

    def begin(self, session: ImapSession, *, announce: bool = True) -> None:
        """The first connection to a mailbox: the cursor starts at its newest message, so mail
        already there is left alone (`announce` says so in the log)."""
        highest = session.highest_uid()
        try:
            with database_errors(), transaction(self._engine) as db:
                db.add(
                    ImapCursor(
                        mailbox=self._url.key,
                        uid_validity=session.uid_validity,
                        last_uid=highest,
                    )
                )
        except IntegrityError:
            return  # another process started the same mailbox just now
        if announce:
            log.info(
                "IMAP %s: first connection; left the %d message(s) already in %s alone; "
                "`helpdesk import-mail --since DATE` imports them",
                self._url.key,
                session.exists,
                self._url.folder,
            )
        else:
            log.info("IMAP %s: new mail is read from UID %d on", self._url.key, highest + 1)

    def advance(self, uid_validity: int, last_uid: int, *, replace: bool = False) -> None:
        """Moves the cursor on to `last_uid`: never back under the same UIDVALIDITY, unless
        `replace`."""
        with database_errors(), transaction(self._engine) as db:
            cursor = db.exec(
                select(ImapCursor).where(ImapCursor.mailbox == self._url.key).with_for_update()
            ).first()
            if cursor is None:
                db.add(
                    ImapCursor(mailbox=self._url.key, uid_validity=uid_validity, last_uid=last_uid)
                )
                return
            if replace or cursor.uid_validity != uid_validity:
                cursor.uid_validity, cursor.last_uid = uid_validity, last_uid
            else:
                cursor.last_uid = max(cursor.last_uid, last_uid)
            cursor.updated_at = utcnow()
            db.add(cursor)
