"""A customer's own data: `helpdesk customer export` and `helpdesk customer erase`.

A real helpdesk (real SMTP in and out, the chat API over HTTP, the fake Slack over HTTP,
signed Slack requests, survey pages over HTTP) serves two customers; the commands run as the
`helpdesk` program in a subprocess against the same database and data directory.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select as sql_select
from sqlmodel import Session, SQLModel, select

from bot.config import Policy
from bot.core import metrics
from bot.core.escalation import escalate, tiers_of
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import transaction
from bot.storage.models import (
    Attachment,
    Customer,
    Message,
    OutboxItem,
    OutboxStatus,
    Ticket,
    TicketEvent,
    utcnow,
)
from bot.storage.postgres_state import PostgresState
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.core.builders import desk_of
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    serve_environment,
    smtp_send,
)
from tests.e2e.test_csat import LINK, PUBLIC_URL, SECRET_KEY, answer


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Person:
    """A customer whose every piece of data carries a word found nowhere else."""

    word: str

    @property
    def email(self) -> str:
        return f"{self.word.lower()}.mail@{self.word.lower()}-home.example"

    @property
    def name(self) -> str:
        return f"Robin {self.word}son"

    @property
    def subject(self) -> str:
        return f"Subject{self.word} parcel missing"

    def text(self, what: str) -> str:
        return f"{what}-{self.word}-sentinel"

    @property
    def file_name(self) -> str:
        return f"receipt-{self.word.lower()}.pdf"

    @property
    def file_bytes(self) -> bytes:
        return f"%PDF-1.4 scanned receipt of {self.text('file')}\n".encode() * 50

    @property
    def page(self) -> str:
        return f"https://shop.example/orders/{self.word.lower()}-page"

    @property
    def agent(self) -> str:
        return f"Browser{self.word}/1.0"

    def strings(self) -> list[str]:
        """Everything identifying them, as it may appear in the database, on disk or in Slack."""
        return [
            self.email,
            self.name,
            f"Subject{self.word}",
            *(self.text(what) for what in ("body", "reply", "note", "chat", "comment")),
            self.file_name,
            hashlib.sha256(self.file_bytes).hexdigest(),
            self.page,
            self.agent,
        ]


ANN, BOB = Person("Quillon"), Person("Marrowby")


ESCALATIONS, LEAD = "C0ESCALATE", "U0LEAD"
POLICY = Policy.model_validate(
    {"escalation": {"tiers": [{"name": "Leads", "channel": ESCALATIONS, "notify": [LEAD]}]}}
)


class Desk:
    def __init__(self, stack: ExitStack, database_url: str):
        self.database_url = database_url
        self.slack = stack.enter_context(FakeSlack())
        self.slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        self.slack.add_channel(ESCALATIONS, "escalations", members=[LEAD])
        self.slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        self.slack.add_user(LEAD, "lee", real_name="Lee Lead")
        self.sink = stack.enter_context(MailSink())
        self.helpdesk = stack.enter_context(
            running_helpdesk(
                database_url,
                self.slack,
                POLICY,
                outbound_smtp_url=self.sink.url,
                helpdesk_secret_key=SECRET_KEY,
                helpdesk_public_url=PUBLIC_URL,
            )
        )
        self.agent = SlackAgent(self.helpdesk.http_port, self.slack)
        self.data_dir = Path(self.helpdesk.settings.helpdesk_data_dir)

    def session(self) -> Session:
        return Session(self.helpdesk.engine)

    def drained(self) -> bool:
        with self.session() as session:
            pending = select(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING)
            return not session.exec(pending).all()

    def tickets_of(self, person: Person) -> list[Ticket]:
        with self.session() as session:
            query = select(Ticket).join(Customer).where(Customer.email == person.email)
            return list(session.exec(query.order_by(Ticket.id)))

    def helpdesk_command(self, *args: str, answer: str | None = None):
        environment = serve_environment(
            self.database_url,
            self.slack,
            HELPDESK_DATA_DIR=str(self.data_dir),
            PYTHONPATH=str(ROOT),
        )
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=environment,
            cwd=ROOT,
            input=answer or "",
            capture_output=True,
            text=True,
            timeout=120,
        )

    def serve(self, person: Person) -> None:
        """An emailed ticket with a file, answered, noted, solved and rated; and a chat."""
        mail = customer_mail(
            f"Hello,\n{person.text('body')}\nThanks",
            subject=person.subject,
            sender=f"{person.name} <{person.email}>",
        )
        mail.add_attachment(
            person.file_bytes, maintype="application", subtype="pdf", filename=person.file_name
        )
        assert smtp_send(self.helpdesk.smtp.port, mail)[0] == 250
        assert eventually(lambda: self._uploaded(person), timeout=20)
        [ticket] = self.tickets_of(person)

        self.agent.reply(ticket.id, ticket.thread_ts, person.text("reply"))
        assert eventually(lambda: self._mails_to(person, person.text("reply")), timeout=20)

        note_ts = self.slack.add_message(
            CHANNEL, person.text("note"), user=AGENT["id"], thread_ts=ticket.thread_ts
        )
        note = {"type": "message", "channel": CHANNEL, "user": AGENT["id"],
                "text": person.text("note"), "ts": note_ts, "thread_ts": ticket.thread_ts,
                "channel_type": "channel"}  # fmt: skip
        assert self.agent.sender.send_event(note).status == 200

        solved = {"value": None, "selected_option": {"value": "solved"}}
        click = self.agent.click(ticket.id, ticket.thread_ts, ids.TICKET_STATUS_MENU, **solved)
        assert click.status == 200
        assert eventually(lambda: self._mails_to(person, "/csat/"), timeout=20)
        [survey] = self._mails_to(person, "/csat/")
        link = next(link for link in LINK.findall(survey) if link.endswith("rating=4"))
        local = link.replace(PUBLIC_URL, f"http://127.0.0.1:{self.helpdesk.http_port}")
        # The survey page's form records the rating and the comment, as a browser sends it.
        assert answer(local, 4, person.text("comment"))[0] == 200

        visitor = ChatVisitor(self.helpdesk.http_port)
        started = visitor.request(
            "POST",
            "/chat/api/conversations",
            {"message": person.text("chat"), "name": person.name, "email": person.email,
             "page_url": person.page},
            headers={"User-Agent": person.agent},
        )  # fmt: skip
        assert started.status in (200, 201), started.body
        assert eventually(lambda: len(self.tickets_of(person)) == 2)
        assert eventually(self.drained, timeout=30)

    def _uploaded(self, person: Person) -> bool:
        with self.session() as session:
            query = (
                select(Attachment.slack_file_id).join(Message).where(Message.author == person.email)
            )
            return any(session.exec(query).all())

    def _mails_to(self, person: Person, containing: str) -> list[str]:
        found = []
        for recipients, raw in self.sink.messages:
            if recipients == [person.email]:
                mail = self.sink.parsed()[self.sink.messages.index((recipients, raw))]
                text = mail.get_body(("plain",)).get_content()
                if containing in text:
                    found.append(text)
        return found

    def database_text(self) -> str:
        """Every row of every table, as text."""
        lines = []
        with self.helpdesk.engine.connect() as connection:
            for table in SQLModel.metadata.sorted_tables:
                for row in connection.execute(sql_select(table)):
                    lines.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(lines).lower()

    def sqlite_files(self) -> bytes:
        """The database file and its write-ahead log, as bytes: what a copy of the disk holds."""
        path = Path(self.database_url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())

    def data_dir_contents(self) -> list[tuple[str, bytes]]:
        return [
            (str(path.relative_to(self.data_dir)), path.read_bytes())
            for path in sorted(self.data_dir.rglob("*"))
            if path.is_file()
        ]

    def slack_now(self) -> dict:
        """Every conversation as Slack shows it now, less the agents' own notes."""
        shown = self.slack.snapshot()
        for channel in shown["channels"]:
            for message in channel["messages"]:
                message["replies"] = [r for r in message["replies"] if "bot_id" in r]
        return shown

    def figures(self, now) -> metrics.Report:
        zone = ZoneInfo(Policy().timezone)
        with self.session() as session:
            return metrics.report(session, metrics.Period.day(date.today(), zone), now)


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        yield Desk(stack, database_url)


@ON_BOTH_DATABASES
def test_export_writes_everything_held_as_json_and_files(desk, tmp_path):
    desk.serve(ANN)
    target = tmp_path / "ann"
    done = desk.helpdesk_command("customer", "export", ANN.email.upper(), "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert f"exported 2 ticket(s), 4 message(s) and 1 file(s) to {target}" in done.stderr

    held = json.loads((target / "customer.json").read_text(encoding="utf-8"))
    assert held["customer"]["email"] == ANN.email and held["customer"]["name"] == ANN.name
    mailed, chatted = held["tickets"]
    assert mailed["subject"] == ANN.subject and mailed["status"] == "solved"
    bodies = {m["direction"]: m for m in mailed["messages"]}
    assert ANN.text("body") in bodies["inbound"]["full_body"]
    assert bodies["outbound"]["body"] == ANN.text("reply")
    assert bodies["note"]["body"] == ANN.text("note")
    [attachment] = bodies["inbound"]["attachments"]
    assert attachment["filename"] == ANN.file_name
    assert (target / attachment["file"]).read_bytes() == ANN.file_bytes
    [survey] = mailed["csat_surveys"]
    assert survey["rating"] == 4 and survey["comment"] == ANN.text("comment")
    assert {"created", "replied", "status_changed"} <= {e["kind"] for e in mailed["events"]}
    assert chatted["source"] == "chat"
    assert chatted["messages"][0]["body"] == ANN.text("chat")
    conversation = chatted["chat_conversation"]
    assert conversation["visitor_name"] == ANN.name and conversation["page_url"] == ANN.page
    assert conversation["user_agent"] == ANN.agent and "token_hash" not in conversation
    assert held["missing_files"] == []

    again = desk.helpdesk_command("customer", "export", ANN.email, "--output", str(target))
    assert again.returncode == 1 and "not an empty directory" in again.stderr
    unknown = desk.helpdesk_command("customer", "export", "nobody@nowhere.example")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip().splitlines() == [
        "error: no customer with the address nobody@nowhere.example: check it, or it was erased"
    ]


@ON_BOTH_DATABASES
def test_erasure_leaves_nothing_of_the_customer_and_the_figures_unchanged(desk):
    desk.serve(ANN)
    desk.serve(BOB)
    [ann_id] = {ticket.customer_id for ticket in desk.tickets_of(ANN)}
    if desk.database_url.startswith("postgresql"):
        # A Shopify answer about Ann, cached as processes sharing through PostgreSQL keep it.
        PostgresState(desk.helpdesk.engine).put(
            f"shopify:customer:{ANN.email}", json.dumps({"name": ANN.name}), 600
        )
    with transaction(desk.helpdesk.engine) as session:
        # What the thread's Shopify post found of Ann, kept for the root's history line.
        ann = session.get(Customer, ann_id)
        ann.shop_orders_count, ann.shop_total_spent = 3, "987.65 EUR"
    now = utcnow()
    figures = desk.figures(now)
    database = desk.database_text()
    assert all(text.lower() in database for text in ANN.strings() + BOB.strings())
    with desk.session() as session:
        ann_files = session.exec(
            select(Attachment.slack_file_id).join(Message).where(Message.author == ANN.email)
        ).all()
    assert ann_files and all(desk.slack.file_name(f) == ANN.file_name for f in ann_files)

    declined = desk.helpdesk_command("customer", "erase", ANN.email, answer="n\n")
    assert declined.returncode == 1
    assert "To erase for customer" in declined.stderr and "messages" in declined.stderr
    assert desk.database_text() == database

    erased = desk.helpdesk_command("customer", "erase", ANN.email, "--yes", "--by", "U0AGENT1")
    assert erased.returncode == 0, erased.stderr
    assert "erased customer" in erased.stderr and "Traceback" not in erased.stderr
    desk.helpdesk.outbox.wake()
    assert eventually(desk.drained, timeout=60)

    database = desk.database_text()
    left = [text for text in ANN.strings() if text.lower() in database]
    assert left == [], f"still in the database: {left}"
    with desk.session() as session:
        ann = session.get(Customer, ann_id)
        assert (ann.shop_orders_count, ann.shop_total_spent) == (None, None)
    assert all(text.lower() in database for text in BOB.strings())

    if desk.database_url.startswith("sqlite"):
        on_disk = desk.sqlite_files()
        left = [text for text in ANN.strings() if text.encode() in on_disk]
        assert left == [], f"still in the SQLite files: {left}"
    files = desk.data_dir_contents()
    ann_hash = hashlib.sha256(ANN.file_bytes).hexdigest()
    assert not [name for name, data in files if ann_hash in name or ANN.file_bytes in data]
    assert [data for _, data in files if data == BOB.file_bytes]

    shown = json.dumps(desk.slack_now(), ensure_ascii=False).lower()
    left = [text for text in ANN.strings() if text.lower() in shown]
    assert left == [], f"still in Slack: {left}"
    # All of Bob shows, but the file's hash (never posted) and the note (filtered out above).
    kept = {text for text in BOB.strings() if text.lower() in shown}
    assert set(BOB.strings()) - kept == {
        hashlib.sha256(BOB.file_bytes).hexdigest(),
        BOB.text("note"),
    }
    assert all(desk.slack.file_name(f) is None for f in ann_files)
    # An agent's note is their own Slack message, out of the helpdesk's reach: it stays.
    everything = json.dumps(desk.slack.snapshot())
    assert ANN.text("note") in everything

    assert desk.figures(now) == figures
    with desk.session() as session:
        events = session.exec(
            select(TicketEvent).where(TicketEvent.kind == "customer_erased")
        ).all()
        assert len(events) == 2 and {e.actor for e in events} == {"U0AGENT1"}
        assert events[0].data["messages"] == 4 and events[0].data["files_deleted"] == 1
        rows = len(session.exec(select(OutboxItem)).all())

    twice = desk.helpdesk_command("customer", "erase", f"erased-{ann_id}@erased.invalid", "--yes")
    assert twice.returncode == 0, twice.stderr
    assert "nothing left to erase" in twice.stderr
    with desk.session() as session:
        assert len(session.exec(select(OutboxItem)).all()) == rows
    gone = desk.helpdesk_command("customer", "erase", ANN.email, "--yes")
    assert gone.returncode == 1 and "no customer with the address" in gone.stderr


def mail_ticket(desk: Desk, person: Person) -> None:
    mail = customer_mail(person.text("body"), subject=person.subject,
                         sender=f"{person.name} <{person.email}>")  # fmt: skip
    assert smtp_send(desk.helpdesk.smtp.port, mail)[0] == 250
    assert eventually(lambda: desk.tickets_of(person) and desk.tickets_of(person)[0].thread_ts)
    assert eventually(desk.drained, timeout=30)


def escalate_ticket(desk: Desk, person: Person) -> None:
    """Escalated: a post in the tier's channel, a DM to its lead, a notice in the thread."""
    [ticket] = desk.tickets_of(person)
    with transaction(desk.helpdesk.engine) as session:
        escalate(
            session,
            desk_of(POLICY),
            session.get(Ticket, ticket.id),
            tiers=tiers_of(POLICY, CHANNEL),
            actor=AGENT["id"],
            reason=f"{person.name} wants a refund",
        )
    desk.helpdesk.outbox.wake()


def test_escalation_posts_and_direct_messages_are_replaced_after_a_slack_outage(desk):
    mail_ticket(desk, ANN)
    escalate_ticket(desk, ANN)
    assert eventually(desk.drained, timeout=30)
    before = json.dumps(desk.slack.snapshot())
    assert before.count(ANN.name) >= 4 and ANN.text("body") in before  # root, post, DM, notice

    desk.slack.set_outage(True)
    erased = desk.helpdesk_command("customer", "erase", ANN.email, "--yes")
    assert erased.returncode == 0, erased.stderr
    desk.helpdesk.outbox.wake()
    with desk.session() as session:
        waiting = session.exec(
            select(OutboxItem.kind).where(OutboxItem.status == OutboxStatus.PENDING)
        ).all()
    assert {"slack.update_root", "slack.update_escalation", "slack.erase"} <= set(waiting)
    desk.slack.set_outage(False)
    desk.helpdesk.outbox.wake()
    assert eventually(desk.drained, timeout=60)

    shown = json.dumps(desk.slack.snapshot(), ensure_ascii=False).lower()
    left = [text for text in ANN.strings() if text.lower() in shown]
    assert left == [], f"still in Slack: {left}"
    with desk.session() as session:
        failed = session.exec(select(OutboxItem).where(OutboxItem.status == "failed")).all()
    assert failed == []


def test_a_post_on_its_way_during_the_erasure_is_replaced_once_it_lands(desk):
    mail_ticket(desk, ANN)
    desk.slack.hold_responses("chat.postMessage")
    posts = len(desk.slack.calls("chat.postMessage"))
    escalate_ticket(desk, ANN)
    # Slack has the escalation post with Ann's name; the helpdesk hasn't heard back yet.
    desk.slack.wait_for(lambda: len(desk.slack.calls("chat.postMessage")) > posts, timeout=20)
    erased = desk.helpdesk_command("customer", "erase", ANN.email, "--yes")
    assert erased.returncode == 0, erased.stderr
    desk.slack.release_responses()
    desk.helpdesk.outbox.wake()
    assert eventually(desk.drained, timeout=60)

    shown = json.dumps(desk.slack.snapshot(), ensure_ascii=False).lower()
    left = [text for text in ANN.strings() if text.lower() in shown]
    assert left == [], f"still in Slack: {left}"
