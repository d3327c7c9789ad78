"""A customer's files: from a real SMTP delivery to the ticket's thread in the fake Slack.

The first tests run the whole helpdesk (intake calls `bot.core.attachments.keep`, and the
composition root registers `attachment_deliverers`). The others drive the `slack.attachments`
outbox row through the real outbox worker and deliverer, to put failures exactly where an
upload can be doubled: after Slack shared the files, before the helpdesk heard back.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.config import MailPolicy, Policy
from bot.core import tickets
from bot.core.attachments import SLACK_ATTACHMENTS, FileStore, keep
from bot.deliverers.file_upload import AttachmentUpload, attachment_deliverers
from bot.deliverers.slack_posts import SlackDelivery, slack_deliverers
from bot.delivery.worker import OutboxWorker
from bot.devtools.fake_slack import FakeSlack
from bot.mail.files import extract
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import Attachment, Message, OutboxItem, OutboxStatus, Source, Ticket, utcnow
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.core.builders import desk_of
from tests.e2e.harness import CHANNEL, customer_mail, eventually, running_helpdesk, smtp_send


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


LIMIT = 64 * 1024
POLICY = Policy(mail=MailPolicy(max_attachment_bytes=LIMIT))
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(1500)
PDF = b"%PDF-1.4\n" + os.urandom(3000)
# A Windows program: the DOS stub's pointer (at byte 60) leads to the PE signature.
PROGRAM = b"MZ" + bytes(58) + (64).to_bytes(4, "little") + b"PE\x00\x00" + os.urandom(200)


def mail_with_files(*files: tuple[str, str, bytes], body: str = "Photos attached."):
    mail = customer_mail(body)
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail


class Desk:
    def __init__(self, helpdesk, slack: FakeSlack, data_dir: Path):
        self.helpdesk, self.slack, self.data_dir = helpdesk, slack, data_dir

    def send(self, mail) -> None:
        assert smtp_send(self.helpdesk.smtp.port, mail)[0] == 250

    def drained(self, timeout: float = 15) -> None:
        def done() -> bool:
            with Session(self.helpdesk.engine) as session:
                pending = select(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING)
                return not session.exec(pending).all()

        assert eventually(done, timeout=timeout)

    def thread(self) -> list[dict]:
        with Session(self.helpdesk.engine) as session:
            ticket = session.exec(select(Ticket)).one()
        return self.slack.thread(CHANNEL, ticket.thread_ts)

    def attachments(self) -> list[Attachment]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(Attachment).order_by(Attachment.id)).all())


@pytest.fixture
def desk(database_url, tmp_path) -> Iterator[Desk]:
    data_dir = tmp_path / "data"
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        with running_helpdesk(
            database_url, slack, POLICY, helpdesk_data_dir=str(data_dir)
        ) as helpdesk:
            yield Desk(helpdesk, slack, data_dir)


def test_files_follow_the_message_in_its_thread_and_refused_ones_are_listed(desk):
    big = os.urandom(100 * 1024)
    desk.send(
        mail_with_files(
            ("invoice.pdf", "application/pdf", PDF),
            ("../../mug.png", "image/png", PNG),
            ("fix\u202egnp.exe", "application/octet-stream", PROGRAM),
            ("unboxing.mp4", "video/mp4", big),
            body="The mug arrived broken, photos attached.",
        )
    )
    desk.drained()

    root, message, upload, note = desk.thread()
    assert "arrived broken" in message["text"]
    assert upload["text"] == ":paperclip: 2 files from Jane Doe"
    assert [f["name"] for f in upload["files"]] == ["invoice.pdf", "mug.png"]
    assert [desk.slack.file_content(f["id"]) for f in upload["files"]] == [PDF, PNG]
    [complete] = desk.slack.calls("files.completeUploadExternal")
    assert complete.args["channel_id"] == CHANNEL and complete.args["thread_ts"] == root["ts"]

    assert "2 files from Jane Doe not shared in Slack" in note["text"]
    assert "`fixgnp.exe`" in note["text"] and "can run programs" in note["text"]
    assert "`unboxing.mp4` (100 KB): larger than the 64 KB limit" in note["text"]
    assert "\u202e" not in str(note)

    invoice, mug, program, video = desk.attachments()
    assert [invoice.slack_file_id, mug.slack_file_id] == [f["id"] for f in upload["files"]]
    assert (desk.data_dir / invoice.stored_path).read_bytes() == PDF
    assert invoice.sha256 == hashlib.sha256(PDF).hexdigest() and invoice.size == len(PDF)
    assert program.stored_path is None and program.slack_file_id is None and program.refused
    assert video.stored_path is None and video.size == len(big)


def test_an_outlook_message_sent_as_the_body_is_a_note_and_a_file(desk):
    # An Outlook .msg (an OLE compound file naming its property streams) dragged into the
    # body, sent as text/plain.
    head = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "__substg1.0_0037001F".encode("utf-16-le")
    )
    outlook = head + os.urandom(12 * 1024 - len(head))
    desk.send(
        b"From: Jane Doe <jane@customer.example>\r\nTo: support@shop.example\r\n"
        b"Subject: FW: my order\r\nMessage-ID: <msg-body@customer.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(outlook).replace(b"\n", b"\r\n")
    )
    desk.drained()

    _root, message, upload = desk.thread()
    note = "[The message body was a binary file (Outlook .msg, 12 KB) and is kept as an attachment]"
    assert note in message["text"]
    assert [f["name"] for f in upload["files"]] == ["attachment-1.msg"]
    assert desk.slack.file_content(upload["files"][0]["id"]) == outlook


@ON_BOTH_DATABASES
def test_a_mail_delivered_twice_uploads_its_files_once(desk):
    mail = mail_with_files(("invoice.pdf", "application/pdf", PDF))
    desk.send(mail)
    desk.drained()
    desk.send(mail)
    desk.drained()
    assert len(desk.slack.calls("files.completeUploadExternal")) == 1
    assert len(desk.attachments()) == 1


def test_an_upload_whose_answer_was_lost_is_not_repeated(desk):
    # Slack shares the files, then its answer never arrives: the client gives up after its
    # 10 s timeout, and the retry must find the upload in the thread instead of redoing it.
    desk.slack.hold_responses("files.completeUploadExternal")
    try:
        desk.send(mail_with_files(("invoice.pdf", "application/pdf", PDF)))
        desk.slack.wait_for(
            lambda: any(m.get("files") for m in desk.slack.messages_in(CHANNEL)), timeout=15
        )
        desk.drained(timeout=40)
    finally:
        desk.slack.release_responses()
    uploads = [m for m in desk.thread() if m.get("files")]
    assert len(uploads) == 1
    assert len(desk.slack.calls("files.completeUploadExternal")) == 1
    [row] = desk.attachments()
    assert row.slack_file_id == uploads[0]["files"][0]["id"]


def other_customers_question(desk: Desk) -> None:
    """Bob writes while Jane's files are on their way; his message must not wait for them."""
    bob = customer_mail("Is the shop open on Sunday?", subject="Opening hours",
                        sender="Bob Roe <bob@customer.example>")  # fmt: skip
    desk.send(bob)
    desk.slack.wait_for(
        lambda: any("open on Sunday" in m["text"] for m in desk.slack.messages_in(CHANNEL)),
        timeout=8,  # less than the Slack client's 10 s timeout for the held upload
    )


def test_a_slow_upload_holds_up_only_its_own_ticket(desk):
    desk.slack.hold_responses("files.completeUploadExternal")
    try:
        desk.send(mail_with_files(("invoice.pdf", "application/pdf", PDF)))
        desk.slack.wait_for(lambda: desk.slack.calls("files.completeUploadExternal"), timeout=10)
        other_customers_question(desk)
        # Jane's upload is still waiting for Slack's answer meanwhile.
        assert len(desk.slack.calls("files.completeUploadExternal")) == 1
    finally:
        desk.slack.release_responses()
    desk.drained(timeout=40)


def test_a_mail_with_many_files_uploads_the_cap_and_lists_the_rest_in_one_note(desk):
    files = [(f"scan-{n:03d}.png", "image/png", PNG + bytes([n])) for n in range(40)]
    desk.send(mail_with_files(*files, body="All my receipts."))
    other_customers_question(desk)
    desk.drained(timeout=40)

    with Session(desk.helpdesk.engine) as session:
        jane = session.exec(select(Ticket).where(Ticket.subject != "Opening hours")).one()
    _, message, upload, note = desk.slack.thread(CHANNEL, jane.thread_ts)
    assert "All my receipts" in message["text"]
    assert [f["name"] for f in upload["files"]] == [f"scan-{n:03d}.png" for n in range(10)]
    assert len(desk.slack.calls("files.completeUploadExternal")) == 1
    assert "30 files from Jane Doe not shared in Slack" in note["text"]
    assert "`scan-010.png` (1.5 KB): not uploaded" in note["text"]
    assert "first 10 files of a message" in note["text"] and "…and 10 more" in note["text"]
    rows = desk.attachments()
    assert all(row.stored_path and row.refused is None for row in rows)
    assert sum(row.slack_file_id is not None for row in rows) == 10


# --- the outbox row on its own ------------------------------------------------------------


@dataclass
class Bench:
    """A ticket in the fake Slack, and an outbox worker whose clock the test moves."""

    engine: object
    slack: FakeSlack
    client: WebClient
    store: FileStore
    worker: OutboxWorker
    skipped: list  # how far the worker's clock is ahead of the wall clock

    def run(self, rounds: int = 1) -> None:
        for _ in range(rounds):
            self.worker.run_once()

    def later(self, seconds: float = 600) -> None:
        self.skipped[0] += timedelta(seconds=seconds)

    def message_with(self, *files: tuple[str, str, bytes]) -> tuple[int, int]:
        """A customer message on the ticket (new the first time), and its kept files."""
        with transaction(self.engine) as session:
            customer = tickets.customer_for(session, "jane@customer.example", "Jane Doe")
            new = tickets.NewMessage(Source.EMAIL, customer.email, "Jane Doe", "See attached")
            ticket = session.exec(select(Ticket)).first()
            if ticket is None:
                ticket, _ = tickets.open_ticket(
                    session,
                    desk_of(POLICY),
                    customer=customer,
                    subject="Files",
                    channel=CHANNEL,
                    source=Source.EMAIL,
                    first_message=new,
                )
                message = session.exec(select(Message)).one()
            else:
                message = tickets.add_customer_message(session, desk_of(POLICY), ticket, new)
            raw = mail_with_files(*files).as_bytes()
            keep(session, message, extract(raw, max_bytes=LIMIT), self.store, LIMIT)
            return ticket.id, message.id

    def item_for(self, message_id: int) -> OutboxItem:
        with Session(self.engine) as session:
            return session.exec(
                select(OutboxItem).where(
                    OutboxItem.kind == SLACK_ATTACHMENTS, OutboxItem.message_id == message_id
                )
            ).one()

    def uploads(self) -> list[dict]:
        return [m for m in self.slack.messages_in(CHANNEL) if m.get("files")]


# Above Slack's ten files to a message, as a team may set it, so that batching shows.
BENCH_MAX_UPLOADS = 20


@pytest.fixture
def bench(tmp_path) -> Iterator[Bench]:
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        store = FileStore(tmp_path / "data")
        skipped = [timedelta(0)]
        deliverers = {
            **slack_deliverers(client, []),
            **attachment_deliverers(client, store, BENCH_MAX_UPLOADS),
        }
        worker = OutboxWorker(engine, deliverers, clock=lambda: utcnow() + skipped[0])
        try:
            yield Bench(engine, slack, client, store, worker, skipped)
        finally:
            worker.stop()
            engine.dispose()


def test_a_note_that_failed_after_the_upload_does_not_upload_again(bench):
    _, message_id = bench.message_with(
        ("invoice.pdf", "application/pdf", PDF), ("setup.exe", "application/pdf", PROGRAM)
    )
    bench.run(2)  # the root, then the message
    bench.slack.fail_next("chat.postMessage", status=200, error="internal_error")
    bench.run()  # the files go up, the note fails
    item = bench.item_for(message_id)
    assert item.status == OutboxStatus.PENDING and len(bench.uploads()) == 1
    bench.later()
    bench.run()
    assert bench.item_for(message_id).status == OutboxStatus.SENT
    assert len(bench.slack.calls("files.completeUploadExternal")) == 1
    notes = [m for m in bench.slack.messages_in(CHANNEL) if "not shared" in m.get("text", "")]
    assert len(notes) == 1 and "setup.exe" in notes[0]["text"]


def test_a_row_in_doubt_finds_its_upload_and_not_an_earlier_one_of_the_same_name(bench):
    # Signature logos: every mail of the thread carries its own "image001.png".
    logo = ("image001.png", "image/png", PNG)
    bench.message_with(logo)
    bench.run(3)  # root, first message, its logo
    _, second = bench.message_with(logo)
    bench.run()  # the second message
    deliverer = AttachmentUpload(SlackDelivery(bench.client, []), bench.store, BENCH_MAX_UPLOADS)

    with Session(bench.engine) as session:
        item = session.get(OutboxItem, bench.item_for(second).id)
        # In doubt, but nothing was sent: the first message's logo must not be taken for it.
        result = deliverer.send(session, item, in_doubt=True)
    assert len(bench.uploads()) == 2
    [file_id] = result["files"].values()
    assert file_id == bench.uploads()[-1]["files"][0]["id"]

    with Session(bench.engine) as session:
        item = session.get(OutboxItem, bench.item_for(second).id)
        # The same send again, as after a crash before its result was recorded.
        assert deliverer.send(session, item, in_doubt=True) == result
    assert len(bench.uploads()) == 2


def test_a_file_gone_from_the_data_directory_is_listed_not_lost(bench):
    _, message_id = bench.message_with(("invoice.pdf", "application/pdf", PDF))
    with Session(bench.engine) as session:
        [row] = session.exec(select(Attachment)).all()
    bench.store.path(row.stored_path).unlink()
    bench.run(3)
    assert bench.item_for(message_id).status == OutboxStatus.SENT
    assert bench.uploads() == []
    [note] = [m for m in bench.slack.messages_in(CHANNEL) if "not shared" in m.get("text", "")]
    assert "invoice.pdf" in note["text"] and "no longer on the helpdesk's server" in note["text"]
    with Session(bench.engine) as session:
        assert session.get(Attachment, row.id).refused == "no longer on the helpdesk's server"


def test_eleven_files_go_up_as_two_messages(bench):
    files = [(f"photo-{n:02d}.png", "image/png", PNG + bytes([n])) for n in range(11)]
    _, message_id = bench.message_with(*files)
    bench.run(3)
    first, second = bench.uploads()
    assert len(first["files"]) == 10 and len(second["files"]) == 1
    assert first["text"] == ":paperclip: 10 files from Jane Doe"
    assert second["text"] == ":paperclip: 1 file from Jane Doe (continued)"
    with Session(bench.engine) as session:
        rows = session.exec(select(Attachment).order_by(Attachment.id)).all()
    ids = [f["id"] for f in first["files"] + second["files"]]
    assert [r.slack_file_id for r in rows] == ids
    assert bench.item_for(message_id).status == OutboxStatus.SENT
