"""Engine and sessions. Built by the composition root; nothing here is module-level state
(the session listeners below are registered once, and read what they need from the engine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and breaks row locking; take it over
        # so that every transaction starts with BEGIN IMMEDIATE and writers queue politely.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pool_pre_ping: connections that died with a restarted server are replaced on checkout.
    # connect_timeout: an unreachable server is an error within seconds, not minutes of TCP
    # retries, so a mail being received gets its 451 before the sender's client gives up.
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 10}
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


def engine_apart(engine: Engine, name: str) -> Engine:
    """A second engine on `engine`'s database for a table whose writes must never wait for
    the main ones: on SQLite a database file of its own beside the main one (`-name`
    appended to its path), whose writer lock is its own; on PostgreSQL, where writers don't
    lock each other out, the same database through a pool of its own."""
    url = engine.url
    if url.get_backend_name() != "sqlite":
        return make_engine(url.render_as_string(hide_password=False))
    if url.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database has no file to put another beside")
    return make_engine(url.set(database=f"{url.database}-{name}").render_as_string())


# An execution option of the engine: what to call after a commit that wrote outbox rows.
_ON_OUTBOX_COMMIT = "helpdesk_on_outbox_commit"
# Set in a session's `info` by a change to outbox rows, until its transaction ends.
_OUTBOX_WRITTEN = "helpdesk_outbox_written"


def on_outbox_commit(engine: Engine, callback: Callable[[], None]) -> None:
    """Calls `callback` after each commit, on `engine`, of a transaction that wrote outbox rows.

    The composition root passes the outbox worker's wake, so rows go as soon as they are
    committed (not at the worker's next idle look), whichever session committed them. Kept on
    the engine, not in this module, because tests build several apps in one process.
    """
    engine.update_execution_options(**{_ON_OUTBOX_COMMIT: callback})


def outbox_written(session: Session) -> None:
    """Notes that this session's transaction added or requeued outbox rows (`bot.core.outbox`)."""
    session.info[_OUTBOX_WRITTEN] = True


@event.listens_for(Session, "after_commit")
def _wake_outbox(session: Session) -> None:
    if session.info.pop(_OUTBOX_WRITTEN, False):
        callback = session.get_bind().get_execution_options().get(_ON_OUTBOX_COMMIT)
        if callback is not None:
            callback()


@event.listens_for(Session, "after_rollback")
def _forget_outbox_rows(session: Session) -> None:
    session.info.pop(_OUTBOX_WRITTEN, None)


# What the next transaction this thread commits must also write (`first_commit_also`).
_FIRST_COMMIT_ALSO: ContextVar[Callable[[Session], None] | None] = ContextVar(
    "helpdesk_first_commit_also", default=None
)
# Set in a session's `info` once it wrote that, until its transaction ends.
_WROTE_FIRST_COMMIT = "helpdesk_wrote_first_commit"


@contextmanager
def first_commit_also(write: Callable[[Session], None]) -> Iterator[Callable[[], bool]]:
    """Has the first transaction this thread commits inside the block, whichever code opens
    it, also run `write`: so a record that work was done commits with the work itself.

    Yields a function telling whether that happened (False when no transaction committed, or
    every one rolled back). A thread-local hook because the work is Bolt's listeners, which
    open their own transactions and can't be handed a session.
    """
    token = _FIRST_COMMIT_ALSO.set(write)
    try:
        yield lambda: _FIRST_COMMIT_ALSO.get() is None
    finally:
        _FIRST_COMMIT_ALSO.reset(token)


@event.listens_for(Session, "before_commit")
def _write_with_first_commit(session: Session) -> None:
    write = _FIRST_COMMIT_ALSO.get()
    if write is not None and not session.info.get(_WROTE_FIRST_COMMIT):
        session.info[_WROTE_FIRST_COMMIT] = True
        write(session)


@event.listens_for(Session, "after_commit")
def _first_commit_done(session: Session) -> None:
    if session.info.pop(_WROTE_FIRST_COMMIT, False):
        _FIRST_COMMIT_ALSO.set(None)


@event.listens_for(Session, "after_rollback")
def _first_commit_undone(session: Session) -> None:
    session.info.pop(_WROTE_FIRST_COMMIT, None)


def reader(engine: Engine) -> Engine:
    """The same database for work that only reads, such as rendering what the outbox sends.

    On SQLite its transactions don't take the write lock, so a slow network call made while
    reading doesn't hold up every writer (mail intake, Slack requests, chat) meanwhile.
    """
    return engine.execution_options(read_only=True)


def durable(engine: Engine) -> Engine:
    """The same database for transactions whose commit promises someone the data is kept,
    such as mail answered `250`: the sending server deletes its copy then.

    Other transactions on SQLite commit with `synchronous=NORMAL`: in WAL mode that survives
    the process being killed, but a power cut or an operating system crash can undo the last
    commits before the next checkpoint. These commit with `synchronous=FULL`, each synced to
    disk before it returns (a few milliseconds; mail intake shares one among a group of mails,
    see `bot.handlers.email.ingest.GroupCommit`). PostgreSQL syncs every commit already
    (`synchronous_commit` on).
    """
    return engine.execution_options(durable=True)


_SYNCHRONOUS = "helpdesk_synchronous"  # in a pooled SQLite connection's info: its setting now


def _sqlite_begin(connection) -> None:
    options = connection.get_execution_options()
    synchronous = "FULL" if options.get("durable", False) else "NORMAL"
    if connection.info.get(_SYNCHRONOUS) != synchronous:
        connection.exec_driver_sql(f"PRAGMA synchronous={synchronous}")
        connection.info[_SYNCHRONOUS] = synchronous
    connection.exec_driver_sql("BEGIN" if options.get("read_only", False) else "BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    record.info[_SYNCHRONOUS] = "NORMAL"
    # Overwrites what a change frees with zeros, so erased customer data (`helpdesk customer
    # erase`) doesn't linger in free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def flush_log(engine: Engine) -> bool:
    """On SQLite, moves the write-ahead log into the database and empties it, so the old
    page images it holds are gone; False when readers kept it from finishing."""
    if engine.dialect.name != "sqlite":
        return True
    # Outside any transaction, which a checkpoint can't run in: the raw connection autocommits.
    connection = engine.raw_connection()
    try:
        busy, _, _ = connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    return not busy


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
