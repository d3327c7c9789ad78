"""Mail polled from a real IMAP server (Dovecot) becoming tickets, on both databases.

The first test goes through the helpdesk's own poller (`IMAP_URL`); the others build
`ImapPoller` from the running helpdesk's engine and `MailIngest` as `create_app` does, so that
they can poll step by step, or watch and break what it talks to.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.app import Helpdesk
from bot.config import ConfigError
from bot.devtools.fake_slack import FakeSlack
from bot.handlers.email.imap_errors import DatabaseUnavailable
from bot.handlers.email.imap_poller import ImapPoller
from bot.handlers.email.imap_reader import ImportResult
from bot.handlers.email.imap_url import ImapUrl
from bot.storage.models import ImapCursor, Message, Ticket
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import CHANNEL, customer_mail, eventually, running_helpdesk
from tests.imap_server import Dovecot, Mailbox, TcpProxy, require_dovecot


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


# The poller, its connection, cursor, reader and the import log under their own modules.
POLLER_LOG = "bot.handlers.email"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    require_dovecot()
    server = Dovecot().start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[Dovecot]:
    """A server without TLS, IDLE or MOVE: the poller's fallbacks."""
    require_dovecot()
    server = Dovecot(tls=False, capability="IMAP4rev1 LITERAL+ SASL-IR UIDPLUS").start()
    yield server
    server.close()


@pytest.fixture
def mailbox(dovecot, monkeypatch) -> Mailbox:
    # The poller verifies certificates with the default context, which honours SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    return dovecot.add_user()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support")
        yield fake


@pytest.fixture
def helpdesk(database_url, slack, tmp_path) -> Iterator[Helpdesk]:
    with running_helpdesk(database_url, slack, helpdesk_data_dir=tmp_path / "data") as running:
        yield running


@pytest.fixture(autouse=True)
def poller_logs(caplog) -> None:
    caplog.set_level(logging.INFO, logger=POLLER_LOG)


def poller_for(helpdesk: Helpdesk, url: str, **options) -> ImapPoller:
    return ImapPoller(
        url,
        options.pop("poll_seconds", 600),
        helpdesk.engine,
        helpdesk.ingest,
        options.pop("move_to", None),
        max_bytes=options.pop("max_bytes", helpdesk.settings.helpdesk_max_message_bytes),
        **options,
    )


@contextmanager
def running(poller: ImapPoller) -> Iterator[ImapPoller]:
    poller.start()
    try:
        yield poller
    finally:
        poller.stop()


def cursor_of(helpdesk: Helpdesk, poller: ImapPoller) -> ImapCursor | None:
    with Session(helpdesk.engine) as session:
        return session.get(ImapCursor, poller.mailbox)


def stored_message_ids(helpdesk: Helpdesk) -> list[str]:
    with Session(helpdesk.engine) as session:
        return list(session.exec(select(Message.email_message_id)))


def ticket_count(helpdesk: Helpdesk) -> int:
    with Session(helpdesk.engine) as session:
        return session.exec(select(func.count()).select_from(Ticket)).one()


def bare(message_id: str) -> str:
    return message_id.strip("<>")


def thread_texts(slack: FakeSlack, subject: str) -> list[str]:
    """The texts of the thread whose root names `subject`, root first."""
    for root in slack.messages_in(CHANNEL):
        if subject in root.get("text", "") and root.get("thread_ts") in (None, root["ts"]):
            return [m.get("text", "") for m in slack.thread(CHANNEL, root["ts"])]
    return []


def messages(caplog, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_imap_url_is_decoded_with_defaults():
    url = ImapUrl.parse("imaps://help%40shop.example:p%40ss%2Fw%20rd@mail.example")
    assert (url.secure, url.host, url.port, url.folder) == (True, "mail.example", 993, "INBOX")
    assert (url.user, url.password) == ("help@shop.example", "p@ss/w rd")
    assert url.key == "help@shop.example@mail.example/INBOX"
    plain = ImapUrl.parse("imap://me:pw@127.0.0.1:1143/Support%20Mail")
    assert (plain.secure, plain.port, plain.folder) == (False, 1143, "Support Mail")
    for wrong in ("pop3://me:pw@host/", "imaps://host/INBOX", "imaps://me:pw@host:99999/"):
        with pytest.raises(ConfigError) as problem:
            ImapUrl.parse(wrong)
        assert "IMAP_URL" in str(problem.value) and ":pw@" not in str(problem.value)


def test_first_sync_leaves_old_mail_alone_and_new_mail_becomes_a_thread(
    database_url, slack, mailbox, tmp_path, caplog
):
    old = customer_mail("An old question", subject="Old question")
    old_uid = mailbox.append(old)
    # Through the helpdesk's own poller; IMAP_POLL_SECONDS far away: only IDLE brings the new
    # mail in time.
    with running_helpdesk(
        database_url,
        slack,
        imap_url=mailbox.url("imaps"),
        imap_poll_seconds=600,
        helpdesk_data_dir=tmp_path / "data",
    ) as helpdesk:
        poller = helpdesk.imap
        assert eventually(lambda: cursor_of(helpdesk, poller) is not None)
        # Said once the cursor is stored, so a moment after it can be seen.
        assert eventually(lambda: messages(caplog, "first connection"))
        [note] = messages(caplog, "first connection")
        assert "left the 1 message(s)" in note and "helpdesk import-mail --since DATE" in note

        new = customer_mail("Hi,\n\nmy parcel never came.\n\nJane", subject="Where is my parcel?")
        new_uid = mailbox.append(new)
        assert slack.wait_for(lambda: len(thread_texts(slack, "Where is my parcel?")) >= 2, 15)
        assert eventually(lambda: mailbox.seen(new_uid))
        assert stored_message_ids(helpdesk) == [bare(new["Message-ID"])]
        assert cursor_of(helpdesk, poller).last_uid == new_uid

    root, reply = thread_texts(slack, "Where is my parcel?")
    assert "#1" in root
    assert "my parcel never came." in reply
    assert not mailbox.seen(old_uid)


@ON_BOTH_DATABASES
def test_a_restarted_poller_imports_nothing_twice(helpdesk, slack, mailbox):
    url = mailbox.url("imap")  # STARTTLS
    first = poller_for(helpdesk, url)
    assert first.poll_once() == 0
    question = customer_mail("Where is my order?")
    question_uid = mailbox.append(question)
    assert first.poll_once() == 1
    first.stop()

    again = poller_for(helpdesk, url)
    assert again.poll_once() == 0
    # A crash after the commit and before the cursor moved: the next run reads the mail again.
    with Session(helpdesk.engine) as session:
        cursor = session.get(ImapCursor, again.mailbox)
        cursor.last_uid = question_uid - 1
        session.add(cursor)
        session.commit()
    mailbox.set_unseen(question_uid)
    after_crash = poller_for(helpdesk, url)
    assert after_crash.poll_once() == 0
    assert mailbox.seen(question_uid)
    assert stored_message_ids(helpdesk) == [bare(question["Message-ID"])]

    follow_up = customer_mail(
        "Any news?", subject="Re: Where is my order?", in_reply_to=question["Message-ID"]
    )
    mailbox.append(follow_up)
    assert after_crash.poll_once() == 1
    after_crash.stop()
    assert ticket_count(helpdesk) == 1
    assert slack.wait_for(lambda: len(thread_texts(slack, "Where is my order?")) == 3, 15)


def test_a_new_uidvalidity_rereads_recent_mail_once(helpdesk, slack, mailbox, caplog):
    url = mailbox.url("imaps")
    mailbox.append(
        customer_mail("From long ago", subject="Ancient"),
        date=datetime.now(UTC) - timedelta(days=10),
    )
    poller = poller_for(helpdesk, url)
    assert poller.poll_once() == 0
    before = customer_mail("Before the move", subject="Before")
    mailbox.append(before)
    assert poller.poll_once() == 1
    poller.stop()
    old_validity = cursor_of(helpdesk, poller).uid_validity

    new_validity = mailbox.renumber()  # the same mail, numbered from 1 again
    assert new_validity != old_validity
    after = customer_mail("After the move", subject="After")
    after_uid = mailbox.append(after)

    restarted = poller_for(helpdesk, url)
    assert restarted.poll_once() == 1  # only the new mail; the re-read one is known
    [note] = messages(caplog, "UIDVALIDITY changed")
    assert str(old_validity) in note and str(new_validity) in note
    cursor = cursor_of(helpdesk, restarted)
    assert (cursor.uid_validity, cursor.last_uid) == (new_validity, after_uid)
    assert restarted.poll_once() == 0
    restarted.stop()

    assert sorted(stored_message_ids(helpdesk)) == sorted(
        [bare(before["Message-ID"]), bare(after["Message-ID"])]
    )
    assert ticket_count(helpdesk) == 2
    assert len(mailbox.unseen()) == 1  # the ancient one, renumbered, left alone


def test_dropped_connections_lose_nothing(helpdesk, slack, mailbox, dovecot, caplog):
    proxy = TcpProxy(dovecot.imap_port)
    try:
        url = mailbox.url("imap", port=proxy.port)
        with running(poller_for(helpdesk, url, poll_seconds=600)) as poller:
            assert eventually(lambda: cursor_of(helpdesk, poller) is not None)
            # Cut in the middle of the next big transfer: the message's body.
            proxy.cut_after(64 * 1024)
            large = customer_mail("A long story. " * 80_000, subject="Long story")
            large_uid = mailbox.append(large)
            assert eventually(lambda: bare(large["Message-ID"]) in stored_message_ids(helpdesk), 30)
            assert eventually(lambda: mailbox.seen(large_uid))
            assert proxy.cuts == 1

            # Kicked out while waiting in IDLE.
            mailbox.kick()
            small = customer_mail("A short one", subject="Short")
            small_uid = mailbox.append(small)
            assert eventually(lambda: bare(small["Message-ID"]) in stored_message_ids(helpdesk), 30)
            assert eventually(lambda: mailbox.seen(small_uid))
    finally:
        proxy.close()

    assert sorted(stored_message_ids(helpdesk)) == sorted(
        [bare(large["Message-ID"]), bare(small["Message-ID"])]
    )
    reconnections = messages(caplog, "reconnecting in")
    assert any("FETCH" in line for line in reconnections)  # cut in the middle of the fetch
    assert len(reconnections) >= 2


class WatchedIngest:
    """MailIngest, checking the mail's IMAP flags around each commit; can fail like a
    database that went away."""

    def __init__(self, inner, mailbox: Mailbox):
        self.inner, self.mailbox = inner, mailbox
        self.uid: int | None = None
        self.fail = False
        self.flags_before: list[set[str]] = []
        self.flags_after: list[set[str]] = []

    def accept(self, raw: bytes, recipients: list[str]):
        if self.fail:
            raise OperationalError("INSERT …", {}, Exception("connection refused"))
        self.flags_before.append(self.mailbox.flags(self.uid))
        result = self.inner.accept(raw, recipients)
        self.flags_after.append(self.mailbox.flags(self.uid))
        return result


@ON_BOTH_DATABASES
def test_mail_is_marked_seen_only_once_committed(helpdesk, slack, mailbox):
    watched = WatchedIngest(helpdesk.ingest, mailbox)
    poller = ImapPoller(mailbox.url("imaps"), 600, helpdesk.engine, watched)
    assert poller.poll_once() == 0
    mail = customer_mail("Please call me back")
    watched.uid = mailbox.append(mail)

    # The database is away: nothing is marked, the cursor stays, the next poll retries.
    watched.fail = True
    cursor = cursor_of(helpdesk, poller).last_uid
    with pytest.raises(DatabaseUnavailable):
        poller.poll_once()
    assert not mailbox.seen(watched.uid)
    assert cursor_of(helpdesk, poller).last_uid == cursor

    watched.fail = False
    assert poller.poll_once() == 1
    poller.stop()
    assert "\\Seen" not in watched.flags_before[0]
    # Committed (accept has returned) and still not seen; seen only afterwards.
    assert "\\Seen" not in watched.flags_after[0]
    assert mailbox.seen(watched.uid)
    assert stored_message_ids(helpdesk) == [bare(mail["Message-ID"])]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_database_outage_leaves_the_mail_unseen_until_it_is_stored(
    database_url, helpdesk, slack, mailbox, caplog
):
    from tests.e2e.test_database_outage import set_connections

    with running(poller_for(helpdesk, mailbox.url("imaps"), poll_seconds=1)) as poller:
        assert eventually(lambda: cursor_of(helpdesk, poller) is not None)
        set_connections(database_url, allowed=False)
        try:
            mail = customer_mail("Sent while the database was down")
            uid = mailbox.append(mail)
            assert eventually(lambda: messages(caplog, "the database is unavailable"), 30)
            assert not mailbox.seen(uid)
        finally:
            set_connections(database_url, allowed=True)
        assert eventually(lambda: mailbox.seen(uid), 30)
    assert stored_message_ids(helpdesk) == [bare(mail["Message-ID"])]


def test_import_since_imports_older_mail_once(helpdesk, slack, mailbox, dovecot, caplog):
    now = datetime.now(UTC)
    ancient = customer_mail("Too old", subject="Ancient")
    recent = [customer_mail(f"Question {n} " * (1 + 40_000 * (n == 1)), subject=f"Question {n}")
              for n in range(3)]  # fmt: skip
    mailbox.append(ancient, date=now - timedelta(days=30))
    uids = [
        mailbox.append(mail, date=now - timedelta(days=days))
        for mail, days in zip(recent, (5, 1, 0), strict=True)
    ]
    proxy = TcpProxy(dovecot.imap_port)
    try:
        poller = poller_for(helpdesk, mailbox.url("imap", port=proxy.port))
        assert poller.poll_once() == 0  # the first sync leaves them all alone

        progress: list[tuple[int, int]] = []
        since = date.today() - timedelta(days=7)
        proxy.cut_after(100 * 1024)  # in the middle of the large message: resumed
        result = poller.import_since(since, lambda done, total: progress.append((done, total)))
        assert proxy.cuts == 1 and messages(caplog, "resuming the import")
        assert result == ImportResult(stored=3, duplicates=0, refused=0)
        assert progress[0] == (0, 3) and progress[-1] == (3, 3)
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
        assert all(mailbox.seen(uid) for uid in uids)

        assert poller.import_since(since) == ImportResult(stored=0, duplicates=3, refused=0)
        assert poller.poll_once() == 0
        poller.stop()
    finally:
        proxy.close()
    assert sorted(stored_message_ids(helpdesk)) == sorted(bare(m["Message-ID"]) for m in recent)
    assert slack.wait_for(lambda: all(len(thread_texts(slack, m["Subject"])) == 2 for m in recent))


def test_stored_mail_moves_to_the_folder_set(helpdesk, slack, mailbox):
    poller = poller_for(helpdesk, mailbox.url("imaps"), move_to="Helpdesk")
    assert poller.poll_once() == 0
    mail = customer_mail("Move me")
    mailbox.append(mail)
    assert poller.poll_once() == 1
    poller.stop()
    assert mailbox.uids("INBOX") == []
    [moved] = mailbox.uids("Helpdesk")
    assert mailbox.seen(moved, "Helpdesk")


def test_without_tls_idle_or_move_it_polls_and_copies(helpdesk, slack, plain_dovecot, caplog):
    mailbox = plain_dovecot.add_user()
    poller = poller_for(helpdesk, mailbox.url("imap"), poll_seconds=0.2, move_to="Done")
    with running(poller):
        assert eventually(lambda: cursor_of(helpdesk, poller) is not None)
        mail = customer_mail("Over plain IMAP")
        mailbox.append(mail)
        assert eventually(lambda: mailbox.uids("Done") != [], 15)
    assert mailbox.uids("INBOX") == []  # copied, flagged \Deleted, expunged
    assert mailbox.seen(mailbox.uids("Done")[0], "Done")
    assert stored_message_ids(helpdesk) == [bare(mail["Message-ID"])]
    assert messages(caplog, "offers no STARTTLS")


def test_refused_and_oversized_mail_is_skipped_once(helpdesk, slack, mailbox, caplog):
    poller = poller_for(helpdesk, mailbox.url("imaps"), max_bytes=8_000)
    assert poller.poll_once() == 0
    automatic = customer_mail("I am out of the office", subject="Out of office")
    automatic["Auto-Submitted"] = "auto-replied"
    oversized = customer_mail("x" * 20_000, subject="Huge")
    fine = customer_mail("A normal question", subject="Normal")
    auto_uid, big_uid, fine_uid = (mailbox.append(m) for m in (automatic, oversized, fine))

    assert poller.poll_once() == 1
    [refused] = messages(caplog, f"UID {auto_uid} not imported")
    assert "auto" in refused.lower()
    [too_big] = messages(caplog, f"UID {big_uid} not imported")
    assert "HELPDESK_MAX_MESSAGE_BYTES" in too_big
    assert not mailbox.seen(auto_uid)  # left for a person to look at
    assert mailbox.seen(big_uid) and mailbox.seen(fine_uid)

    caplog.clear()
    assert poller.poll_once() == 0
    poller.stop()
    assert messages(caplog, "not imported") == []  # not retried
    assert stored_message_ids(helpdesk) == [bare(fine["Message-ID"])]


# -- the corpora -------------------------------------------------------------------------

# folder: (.eml files, stored, duplicates, refused). The refusals are ingest's verdicts today:
# bounces, automatic replies, junk, and mail without a usable From address (most of the
# Dovecot "malformed" set); the duplicates are imap_tools' copies of the same messages.
CORPORA_EML = {
    "imap_tools/tests/messages": (113, 97, 6, 10),
    "stalwartlabs-mail-parser/resources/eml": (107, 74, 0, 33),
}


class RecordingIngest:
    """MailIngest, remembering what it answered for each message."""

    def __init__(self, inner):
        self.inner = inner
        self.outcomes: list[tuple[str, str]] = []  # (sha256 of the bytes, outcome)

    def accept(self, raw: bytes, recipients: list[str]):
        digest = hashlib.sha256(raw).hexdigest()
        try:
            result = self.inner.accept(raw, recipients)
        except Exception:
            self.outcomes.append((digest, "error"))
            raise
        if result.duplicate:
            outcome = "duplicate"
        elif result.ignored:
            outcome = "refused"
        else:
            outcome = "stored"
        self.outcomes.append((digest, outcome))
        return result


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("corpus", sorted(CORPORA_EML))
def test_every_corpus_message_becomes_a_ticket_message_or_is_refused(
    corpus, corpora, helpdesk, mailbox, caplog
):
    files = sorted(Path(corpora, corpus).rglob("*.eml"))
    expected = CORPORA_EML[corpus]
    assert len(files) == expected[0]
    recording = RecordingIngest(helpdesk.ingest)
    poller = ImapPoller(mailbox.url("imaps"), 600, helpdesk.engine, recording)
    assert poller.poll_once() == 0
    uids = mailbox.append_many(path.read_bytes() for path in files)

    stored = poller.poll_once()
    assert poller.poll_once() == 0
    poller.stop()

    outcomes = [outcome for _, outcome in recording.outcomes]
    assert len(outcomes) == len(uids)  # each message offered exactly once
    assert "error" not in outcomes, messages(caplog, "not imported")
    counts = (len(files), stored, outcomes.count("duplicate"), outcomes.count("refused"))
    assert counts == expected
    assert stored == outcomes.count("stored") == len(stored_message_ids(helpdesk))
    # Each refusal is logged once, naming its UID and why.
    refusals = messages(caplog, "not imported")
    refused_uids = [u for u, o in zip(uids, outcomes, strict=True) if o == "refused"]
    assert sorted(int(line.split(" UID ")[1].split()[0]) for line in refusals) == refused_uids
    assert all(line.split("not imported: ")[1].strip() for line in refusals)
    # A duplicate is byte for byte a message stored before it.
    stored_digests = {d for d, outcome in recording.outcomes if outcome == "stored"}
    assert all(d in stored_digests for d, o in recording.outcomes if o == "duplicate")
    assert set(mailbox.unseen()) == set(refused_uids)
