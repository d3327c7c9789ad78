"""Mail arriving together is stored in one transaction (`GroupCommit`), through real SMTP
sessions: each lands once, in order, threaded as alone; a mail the database refuses is refused
alone; a database lost in the middle of a group answers every mail of it 451 and keeps none.

The tests hold the database's write lock (SQLite) or the ticket counter (PostgreSQL) so that
the mail they send queues behind the transaction in progress, and release it once the writer
shows it has taken what it should have: which mails share a transaction is then known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import EmailMessage

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.handlers.email.ingest import GroupCommit
from bot.storage.db import make_engine
from bot.storage.models import Message, OutboxItem, Ticket
from tests.e2e.harness import CHANNEL, customer_mail, eventually, running_helpdesk, smtp_send
from tests.e2e.test_metrics import Scrape

CONVERSATIONS = 6
FOLLOW_UPS = 2
THREE_CUSTOMERS = [[f"conversation {n}, mail 0"] for n in range(3)]  # first_mail(0..2), alone


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support")
        yield fake


@contextmanager
def writes_held(database_url: str) -> Iterator[None]:
    """Until the block ends, the helpdesk's next transaction that opens a ticket waits."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:  # BEGIN IMMEDIATE on SQLite: the write lock
            if engine.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE counters IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def first_mail(n: int, body: str = "") -> EmailMessage:
    return customer_mail(
        body or f"conversation {n}, mail 0",
        sender=f"customer{n}@customer.example",
        subject=f"Question {n}",
    )


def follow_up(previous: EmailMessage, n: int, index: int) -> EmailMessage:
    return customer_mail(
        f"conversation {n}, mail {index}",
        sender=f"customer{n}@customer.example",
        subject=f"Re: Question {n}",
        in_reply_to=previous["Message-ID"],
    )


def send_together(port: int, writer: GroupCommit, mails: list[EmailMessage]) -> list[tuple]:
    """Sends the mails at once; returns once the writer has queued all of them for its next
    group (the caller holds the writes), their answers as futures' results afterwards."""
    pool = ThreadPoolExecutor(len(mails))
    futures = [pool.submit(smtp_send, port, mail) for mail in mails]
    assert eventually(lambda: writer.queued == len(mails)), writer.queued
    pool.shutdown(wait=False)
    return futures


def lead(port: int, writer: GroupCommit) -> object:
    """A first mail that the writer takes alone and holds in its transaction: what is sent
    next queues for the following group."""
    pool = ThreadPoolExecutor(1)
    future = pool.submit(smtp_send, port, first_mail(99, "the leader"))
    assert eventually(lambda: writer.waiting == 1 and writer.queued == 0)
    pool.shutdown(wait=False)
    return future


def stored_as_one_group(database_url: str, helpdesk, mails: list[EmailMessage]) -> list[int]:
    """Sends the mails so that they are stored in one transaction of their own (behind the
    leader's); their answers' codes."""
    port, writer = helpdesk.smtp.port, helpdesk.smtp.writer
    with writes_held(database_url):
        leader = lead(port, writer)
        sent = send_together(port, writer, mails)
        # What operators see of it: every sender waits on a commit, the group on the next.
        scrape = Scrape(helpdesk.http_port)
        assert scrape.value("helpdesk_smtp_mail_uncommitted") == len(mails) + 1
        assert scrape.value("helpdesk_smtp_mail_queued") == len(mails)
    assert leader.result()[0] == 250
    return [future.result()[0] for future in sent]


def bodies_by_ticket(engine) -> dict[int, list[str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(Ticket.number, Message.body)
            .join(Message, Message.ticket_id == Ticket.id)
            .order_by(Message.id)
        ).all()
    found: dict[int, list[str]] = {}
    for number, body in rows:
        found.setdefault(number, []).append(body)
    return found


def test_mail_sent_together_lands_once_each_in_order_per_conversation(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        port, writer = helpdesk.smtp.port, helpdesk.smtp.writer
        firsts = [first_mail(n) for n in range(CONVERSATIONS)]
        with writes_held(database_url):
            leader = lead(port, writer)
            # The first mail twice: a redelivery arriving while the original is being stored.
            sent = send_together(port, writer, [*firsts, firsts[0]])
        answers = [future.result() for future in [leader, *sent]]
        assert [code for code, _ in answers] == [250] * (CONVERSATIONS + 2), answers
        original, copy = answers[1][1], answers[-1][1]
        assert sorted(answer.split(b" ")[1] for answer in (original, copy)) == [
            b"Accepted",
            b"Already",
        ]

        def converse(n: int) -> list[int]:
            codes, previous = [], firsts[n]
            for index in range(1, FOLLOW_UPS + 1):
                previous = follow_up(previous, n, index)
                codes.append(smtp_send(port, previous)[0])
            return codes

        with ThreadPoolExecutor(CONVERSATIONS) as pool:
            codes = list(pool.map(converse, range(CONVERSATIONS)))
        assert codes == [[250] * FOLLOW_UPS] * CONVERSATIONS

        stored = bodies_by_ticket(helpdesk.engine)
        expected = [
            [f"conversation {n}, mail {i}" for i in range(FOLLOW_UPS + 1)]
            for n in range(CONVERSATIONS)
        ]
        assert sorted(stored.values()) == sorted([["the leader"], *expected])
        with Session(helpdesk.engine) as session:
            posts = session.exec(
                select(OutboxItem.message_id).where(OutboxItem.kind == "slack.post_message")
            ).all()
        assert len(posts) == len(set(posts)) == 1 + CONVERSATIONS * (FOLLOW_UPS + 1)

        def threads() -> list[list[tuple[str, str]]]:
            """Each thread's conversation and mail numbers, in the order they were posted."""
            roots = [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
            return [
                [
                    found
                    for reply in slack.thread(CHANNEL, root["ts"])[1:]
                    for found in re.findall(r"conversation (\d+), mail (\d+)", reply["text"])
                ]
                for root in roots
            ]

        def every_mail_posted() -> bool:
            return sum(map(len, threads())) == CONVERSATIONS * (FOLLOW_UPS + 1)

        assert slack.wait_for(every_mail_posted, timeout=30)
        in_order = [[(str(n), str(i)) for i in range(FOLLOW_UPS + 1)] for n in range(CONVERSATIONS)]
        assert sorted(thread for thread in threads() if thread) == in_order


def refuse_in_database(engine, word: str) -> None:
    """The database refuses to store a message whose text has `word`, as a bug or a broken
    constraint would: an error about that mail, not an outage."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON messages "
                f"WHEN instr(NEW.body, '{word}') > 0 "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                f"IF strpos(NEW.body, '{word}') > 0 THEN "
                "RAISE EXCEPTION 'refused by the test'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON messages "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )


def test_a_mail_the_database_refuses_in_a_group_is_refused_alone(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        refuse_in_database(helpdesk.engine, "poison")
        mails = [first_mail(n) for n in range(3)]
        mails.insert(1, first_mail(7, "this one is poison"))
        assert stored_as_one_group(database_url, helpdesk, mails) == [250, 451, 250, 250]
        stored = bodies_by_ticket(helpdesk.engine)
        assert sorted(stored.values()) == [*THREE_CUSTOMERS, ["the leader"]]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_database_lost_during_a_group_answers_each_451_and_keeps_none(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        with helpdesk.engine.begin() as connection:
            # The server ends the writer's connection in the middle of storing the group.
            connection.exec_driver_sql(
                "CREATE FUNCTION lose() RETURNS trigger AS $$ BEGIN "
                "IF strpos(NEW.body, 'lost') > 0 THEN "
                "PERFORM pg_terminate_backend(pg_backend_pid()); "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER lose AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION lose()"
            )
        mails = [first_mail(n) for n in range(3)]
        mails.insert(2, first_mail(7, "the connection is lost here"))
        assert stored_as_one_group(database_url, helpdesk, mails) == [451] * len(mails)
        assert list(bodies_by_ticket(helpdesk.engine).values()) == [["the leader"]]

        with helpdesk.engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER lose ON messages")
        # The senders try again: each mail is stored once.
        with ThreadPoolExecutor(len(mails)) as pool:
            codes = pool.map(lambda mail: smtp_send(helpdesk.smtp.port, mail)[0], mails)
            assert list(codes) == [250] * len(mails)
        stored = bodies_by_ticket(helpdesk.engine)
        expected = [*THREE_CUSTOMERS, ["the connection is lost here"], ["the leader"]]
        assert sorted(stored.values()) == expected
