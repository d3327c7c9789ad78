"""What a database error means for the person running a command, in one line with the fix.

Every `helpdesk` command reaches the database through SQLAlchemy, so its errors arrive here
(from `bot.cli.main` and `helpdesk check`) instead of as a traceback.
"""

from __future__ import annotations

from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError

# PostgreSQL's undefined_table and undefined_column: a schema never or not fully migrated.
_MISSING_SCHEMA_SQLSTATES = frozenset({"42P01", "42703"})
_MISSING_SCHEMA_SQLITE = ("no such table", "no such column")
_DETAIL_LIMIT = 160


def explain(error: SQLAlchemyError) -> str:
    detail = first_line(error)
    if _schema_missing(error, detail):
        return (
            f"the database has no helpdesk tables, or older ones ({detail}): "
            "run `helpdesk migrate`, or check DATABASE_URL names the right database"
        )
    if isinstance(error, ArgumentError):
        return (
            f"DATABASE_URL can't be used ({detail}): check DATABASE_URL; expected "
            "sqlite:///path.db or postgresql://user@host/db"
        )
    if "unable to open database file" in detail:
        return (
            f"the SQLite database file can't be opened ({detail}): check DATABASE_URL; "
            "the file's directory must exist and be writable"
        )
    if "database is locked" in detail:
        return (
            f"the database is busy ({detail}): another process kept it locked for "
            "30 seconds; try again"
        )
    if isinstance(error, OperationalError | InterfaceError):
        return (
            f"the database can't be reached ({detail}): check DATABASE_URL and that the "
            "database server is running"
        )
    return (
        f"the database refused the command ({detail}): check DATABASE_URL, and run "
        "`helpdesk migrate` if the schema may be old"
    )


def first_line(error: BaseException) -> str:
    """The driver's own first line, for logs and people: SQLAlchemy's adds the statement, its
    parameters (customers' data) and a link; drivers add hints on further lines."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    first = " ".join(lines[0].split())
    return first if len(first) <= _DETAIL_LIMIT else first[: _DETAIL_LIMIT - 1] + "…"


def _schema_missing(error: SQLAlchemyError, detail: str) -> bool:
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return sqlstate in _MISSING_SCHEMA_SQLSTATES or detail.startswith(_MISSING_SCHEMA_SQLITE)
