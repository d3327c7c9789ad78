"""Faults under the running helpdesk: PostgreSQL restarted, Slack answering 500 for a while,
the outbound mail server gone for a while. Each time nothing is lost, nothing doubled, each
thread stays in order, and the backlog goes out soon after the service is back.

The outages are real (`OUTAGE_SECONDS`): the tests mostly sleep. What matters is that an
outage outlasts the outbox's whole backoff: its circuit breaker's pauses double up to the
longest (`MAX_PAUSE`, shortened here through HELPDESK_OUTBOX_MAX_PAUSE_SECONDS from its 15 s)
and stay there for most of the outage, as they would in a minute at the default. How soon the
backlog goes afterwards is bounded by that longest pause, and checked with generous waits
rather than timings.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Delivery, Direction, Message, OutboxItem, OutboxStatus, Ticket
from bot.views import ids
from tests.conftest import free_port
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    SlackAgent,
    answer_values,
    customer_mail,
    eventually,
    running_helpdesk,
    serve_environment,
    smtp_send,
)
from tests.pg_cluster import PgCluster, private_cluster

# The breaker pauses 1, 2 and 4 s, then 5 s for the rest of the outage.
MAX_PAUSE = 5
OUTAGE_SECONDS = 4 * MAX_PAUSE
# After the service is back, the next probe comes within the breaker's longest pause, and
# rows the outage failed are due again by then too (their own backoff is no longer): twice
# that is room to spare. Without the breaker, rows backed off for a minute or more.
DRAIN_SECONDS = 2 * MAX_PAUSE
# PostgreSQL stays away this long: several of the outbox's passes fail meanwhile.
DATABASE_AWAY_SECONDS = 5
# Every test here sleeps through an outage; pytest's default limit (120 s) is too close.
pytestmark = pytest.mark.timeout(OUTAGE_SECONDS + 150)


def roots(slack: FakeSlack) -> list[dict]:
    return [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]


def threads(slack: FakeSlack) -> dict[str, list[str]]:
    """Each root's text, with the texts of the messages in its thread, oldest first."""
    return {
        root["text"]: [m["text"] for m in slack.thread(CHANNEL, root["ts"])[1:]]
        for root in roots(slack)
    }


def pending_rows(engine) -> list[OutboxItem]:
    with Session(engine) as session:
        return list(
            session.exec(select(OutboxItem).where(OutboxItem.status != OutboxStatus.SENT)).all()
        )


def sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


# --- PostgreSQL restarted under `helpdesk serve` ----------------------------------------------


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    with private_cluster() as running:
        yield running


@contextmanager
def serving(database_url: str, slack: FakeSlack, smtp_port: int, folder: Path):
    """`helpdesk serve` as a subprocess; its log goes to a file (a pipe nobody reads would
    fill up and stall it while the database is away). Stopped with SIGTERM, which must
    succeed."""
    env = serve_environment(
        database_url,
        slack,
        HELPDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        HELPDESK_OUTBOX_LEASE_SECONDS="5",
    )
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    http_port = int(env["HELPDESK_HTTP_PORT"])
    try:
        healthy = eventually(lambda: _healthy(http_port) or process.poll() is not None, 30)
        if not healthy or process.poll() is not None:
            pytest.fail(f"serve did not come up:\n{log.read_text(errors='replace')}")
        yield http_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait(5)
        assert code == 0, f"serve exited with {code}:\n{log.read_text(errors='replace')}"


def _healthy(http_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.postgres
def test_postgres_restarted_under_serve_loses_and_doubles_nothing(cluster, tmp_path):
    database_url = cluster.create_database("helpdesk")
    first = customer_mail("before 1")
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        smtp_port = free_port()
        with serving(database_url, slack, smtp_port, tmp_path) as http_port:
            assert smtp_send(smtp_port, first)[0] == 250
            slack.wait_for(lambda: list(threads(slack).values()) == [["before 1"]], 15)
            [root] = roots(slack)
            agent = SlackAgent(http_port, slack)
            # Still on its way to Slack when the database goes, perhaps.
            before = customer_mail("before 2", in_reply_to=first["Message-ID"])
            assert smtp_send(smtp_port, before)[0] == 250

            cluster.stop("immediate")  # a crash: every session cut, recovery on start
            try:
                during = customer_mail("during", in_reply_to=first["Message-ID"])
                # smtp_send's socket gives up after 30 s: a hang fails here too.
                code, answer = smtp_send(smtp_port, during)
                assert code == 451, answer  # the sender keeps it and tries again
                # An agent's click is still acknowledged in time, and since no modal can open
                # without the ticket, the agent is told why; the process lives on.
                assert agent.click(1, root["ts"], ids.TICKET_REPLY).status == 200
                slack.wait_for(
                    lambda: any(
                        "can't reach its database" in call.args.get("text", "")
                        and call.args["user"] == AGENT["id"]
                        for call in slack.calls("chat.postEphemeral")
                    ),
                    10,
                )
                time.sleep(DATABASE_AWAY_SECONDS)
            finally:
                cluster.start()

            # The same mail again, as the sender retries: the pool reconnects by itself.
            assert smtp_send(smtp_port, during)[0] == 250
            after = customer_mail("after", in_reply_to=first["Message-ID"])
            assert smtp_send(smtp_port, after)[0] == 250
            expected = ["before 1", "before 2", "during", "after"]
            slack.wait_for(lambda: sum(map(len, threads(slack).values())) >= 4, DRAIN_SECONDS)
            time.sleep(1)  # long enough for a wrongly repeated post to show up
            assert list(threads(slack).values()) == [expected]
            engine = create_engine(database_url)
            try:
                assert eventually(lambda: pending_rows(engine) == [], DRAIN_SECONDS)
            finally:
                engine.dispose()
        assert len(roots(slack)) == 1


# --- Slack answering 500 for a while -----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_slack_500_for_a_while_delays_but_loses_and_doubles_nothing(database_url):
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        with running_helpdesk(
            database_url, slack, helpdesk_outbox_max_pause_seconds=MAX_PAUSE
        ) as helpdesk:
            port = helpdesk.smtp.port
            started: dict[str, EmailMessage] = {}  # each ticket's first mail, by letter
            expected: dict[str, list[str]] = {}

            def mail(letter: str, n: int) -> None:
                text = f"{letter}{n}"
                first = started.get(letter)
                sent = customer_mail(
                    text,
                    subject=f"Ticket {letter}",
                    sender=f"{letter} <{letter.lower()}@customer.example>",
                    in_reply_to=first["Message-ID"] if first else None,
                )
                code, answer = smtp_send(port, sent)
                assert code == 250, (text, answer)  # accepted even though Slack is down
                started.setdefault(letter, sent)
                expected.setdefault(letter, []).append(text)

            mail("A", 1)
            slack.wait_for(lambda: threads(slack) == {"#1 Ticket A": ["A1"]}, 15)

            slack.set_outage(True, 500)
            outage_began = time.monotonic()
            # New tickets and follow-ups, to threads Slack has and to ones it doesn't yet; at
            # these seconds of a minute, spread over the outage alike.
            arrivals = [(0, "A", 2), (5, "B", 1), (10, "A", 3), (15, "C", 1), (20, "B", 2),
                        (30, "C", 2), (40, "A", 4), (45, "B", 3), (55, "D", 1)]  # fmt: skip
            for at, letter, n in arrivals:
                sleep_until(outage_began + at / 60 * OUTAGE_SECONDS)
                mail(letter, n)
            sleep_until(outage_began + OUTAGE_SECONDS)
            assert threads(slack) == {"#1 Ticket A": ["A1"]}
            failed = [call for call in slack.requests if call.status == 500]
            slack.set_outage(False)

            # Held by the breaker, the rows didn't each try Slack on their own schedule (that
            # made about 20 tries): the first rows in flight, then one probe per pause.
            assert 1 <= len(failed) <= 12, len(failed)
            numbers = {letter: n for n, letter in enumerate("ABCD", 1)}
            want = {f"#{numbers[k]} Ticket {k}": texts for k, texts in expected.items()}
            total = sum(map(len, want.values()))
            slack.wait_for(lambda: sum(map(len, threads(slack).values())) >= total, DRAIN_SECONDS)
            time.sleep(1)  # long enough for a wrongly repeated post to show up
            assert threads(slack) == want
            assert len(roots(slack)) == len(want)
            assert eventually(lambda: pending_rows(helpdesk.engine) == [], DRAIN_SECONDS)
            with Session(helpdesk.engine) as session:
                assert all(session.exec(select(Message.slack_ts)).all())


# --- the outbound mail server down for a while -------------------------------------------------


class OutboundServer:
    """The team's mail provider (a MailSink), which can go away (its port closed) and come
    back on the same port."""

    def __init__(self, sink: MailSink):
        self.sink = sink
        self._controller: Controller | None = None

    def up(self) -> None:
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.sink.port)
        self._controller.start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def reply_with_status(agent: SlackAgent, ticket: Ticket, text: str, status: str) -> None:
    """The Reply modal, answering and setting the ticket's status at once."""
    opened = len(agent.slack.calls("views.open"))
    assert agent.click(ticket.id, ticket.thread_ts, ids.TICKET_REPLY).status == 200
    view = agent.opened_view(after=opened)
    answer = agent.submit(view, answer_values(view, text, status))
    assert answer.status == 200 and answer.body in ("", "{}"), answer.body


def test_outbound_smtp_down_for_a_while_sends_each_reply_once_threaded(tmp_path):
    sink = MailSink()
    server = OutboundServer(sink)
    database_url = f"sqlite:///{tmp_path / 'helpdesk.db'}"
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        server.up()
        try:
            with running_helpdesk(
                database_url,
                slack,
                outbound_smtp_url=sink.url,
                helpdesk_outbox_max_pause_seconds=MAX_PAUSE,
            ) as helpdesk:
                port = helpdesk.smtp.port
                jane = customer_mail("Where is my parcel?", sender="Jane <jane@customer.example>")
                omar = customer_mail("Refund please", subject="Refund", sender="omar@x.example")
                for mail in (jane, omar):
                    assert smtp_send(port, mail)[0] == 250
                slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 4, 15)
                with Session(helpdesk.engine) as session:
                    first, second = session.exec(select(Ticket).order_by(Ticket.id)).all()
                agent = SlackAgent(helpdesk.http_port, slack)

                server.down()
                outage_began = time.monotonic()
                agent.reply(first.id, first.thread_ts, "It left our warehouse today.")
                reply_with_status(agent, second, "Your refund is on its way.", "solved")
                # Slack keeps getting news meanwhile: a new customer's ticket shows at once.
                sleep_until(outage_began + OUTAGE_SECONDS / 6)
                assert smtp_send(port, customer_mail("Hello?", sender="kim@x.example"))[0] == 250
                slack.wait_for(lambda: len(roots(slack)) == 3, 15)
                sleep_until(outage_began + OUTAGE_SECONDS / 3)
                agent.reply(first.id, first.thread_ts, "Tracking number: 123.")
                sleep_until(outage_began + OUTAGE_SECONDS)
                assert sink.messages == []
                server.up()

                assert eventually(lambda: len(sink.messages) >= 3, DRAIN_SECONDS)
                assert eventually(lambda: pending_rows(helpdesk.engine) == [], DRAIN_SECONDS)
                time.sleep(1)  # long enough for a wrongly repeated email to show up
                with Session(helpdesk.engine) as session:
                    replies = session.exec(
                        select(Message)
                        .where(Message.direction == Direction.OUTBOUND)
                        .order_by(Message.id)
                    ).all()
                    second = session.get(Ticket, second.id)
                    shown = [
                        [m["text"] for m in slack.thread(CHANNEL, t.thread_ts)]
                        for t in (first, second)
                    ]
                    [root_after] = [m for m in roots(slack) if m["ts"] == second.thread_ts]
        finally:
            server.down()

    # Each reply once, in the order written (per ticket and overall), threaded on the
    # customer's mail and on the replies before it.
    received = sink.parsed()
    assert [m["Message-ID"].strip("<>") for m in received] == [r.email_message_id for r in replies]
    assert [r.delivery for r in replies] == [Delivery.SENT] * 3
    one, refund, two = received
    assert one["In-Reply-To"] == two["In-Reply-To"] == jane["Message-ID"]
    assert refund["In-Reply-To"] == omar["Message-ID"]
    assert one["Message-ID"] in two["References"].split()
    assert "It left our warehouse today." in one.get_body(("plain",)).get_content()
    assert "Tracking number: 123." in two.get_body(("plain",)).get_content()
    assert [m[0] for m in sink.messages] == [
        ["jane@customer.example"],
        ["omar@x.example"],
        ["jane@customer.example"],
    ]
    # The threads show each reply sent (never "Not delivered"), and the ticket solved.
    jane_thread, omar_thread = shown
    assert [t.startswith("Sent to the customer") for t in jane_thread[2:]] == [True, True]
    assert [t.startswith("Sent to the customer") for t in omar_thread[2:]] == [True]
    assert not any("Not delivered" in t for t in jane_thread + omar_thread)
    assert second.status == "solved"
    assert "Solved" in json.dumps(root_after["blocks"])
