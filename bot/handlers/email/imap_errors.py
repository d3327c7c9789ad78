"""What can go wrong reading a mailbox, worded for the person running the helpdesk."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.storage.problems import first_line


class ImapError(Exception):
    """An IMAP problem worded for the person running the helpdesk."""


class DatabaseUnavailable(Exception):
    """The database did not answer: nothing after this point was done; retried next poll."""


class database_errors:
    """Turns the database's absence into DatabaseUnavailable; other errors pass as they are."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, value, traceback) -> bool:
        if value is not None and is_outage(value):
            raise DatabaseUnavailable(describe(value)) from value
        return False


def is_outage(problem: BaseException) -> bool:
    if isinstance(problem, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(problem, DBAPIError) and problem.connection_invalidated


def describe(problem: BaseException) -> str:
    if isinstance(problem, DBAPIError):
        return first_line(problem)
    text = str(problem).strip()
    if isinstance(problem, ImapError | DatabaseUnavailable):
        return text
    return f"{type(problem).__name__}: {text}" if text else type(problem).__name__
