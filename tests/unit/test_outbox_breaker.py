"""The outbox's per-service circuit breaker: first as pure logic on a fake clock, then inside
the worker, on SQLite with the real deliverers, the fake Slack and a real SMTP port, passes run
one by one on a clock the test moves."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core import tickets
from bot.core.replies import Agent, reply_to_customer
from bot.deliverers.customer_email import UNREACHABLE_GIVE_UP_AFTER, email_deliverers
from bot.deliverers.slack_posts import slack_deliverers
from bot.deliverers.smtp_sender import SmtpSender
from bot.delivery.contract import OUTBOUND_SMTP, SLACK_API
from bot.delivery.worker import Breaker, OutboxWorker
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import OutboxItem, OutboxStatus, Source, Ticket, utcnow
from tests.conftest import free_port
from tests.core.builders import desk_of, policy
from tests.e2e.harness import CHANNEL, SUPPORT

# --- the breaker on its own -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock) -> Breaker:
    return Breaker("Slack Web API", clock, first_pause=1, max_pause=8)


def test_closed_lets_every_row_through(breaker):
    assert breaker.allowance() is None
    assert breaker.state == "closed"
    token = breaker.claimed()
    assert breaker.succeeded(token) is None  # nothing to close
    assert breaker.allowance() is None


def test_a_failure_holds_the_service_then_lets_one_probe_through(breaker, clock):
    assert breaker.failed(breaker.claimed()) == "opened"
    assert breaker.state == "open" and breaker.allowance() == 0
    clock.now += 0.999
    assert breaker.allowance() == 0
    clock.now += 0.001
    assert breaker.allowance() == 1
    probe = breaker.claimed()
    assert breaker.state == "probing" and breaker.allowance() == 0  # one probe at a time
    clock.now += 60  # however long the probe takes
    assert breaker.allowance() == 0
    assert breaker.succeeded(probe) == pytest.approx(61)
    assert breaker.state == "closed" and breaker.allowance() is None


def test_failed_probes_double_the_pause_up_to_the_cap(breaker, clock):
    breaker.failed(breaker.claimed())
    pauses = []
    for _ in range(6):
        pauses.append(breaker.pause)
        clock.now += breaker.pause
        assert breaker.allowance() == 1
        assert breaker.failed(breaker.claimed()) == "reopened"
        assert breaker.allowance() == 0
    assert pauses == [1, 2, 4, 8, 8, 8]


def test_closing_starts_the_next_outage_from_the_first_pause(breaker, clock):
    breaker.failed(breaker.claimed())
    for _ in range(3):
        clock.now += breaker.pause
        breaker.failed(breaker.claimed())
    assert breaker.pause == 8
    clock.now += breaker.pause
    breaker.succeeded(breaker.claimed())
    assert breaker.failed(breaker.claimed()) == "opened"
    assert breaker.pause == 1


def test_outcomes_of_rows_claimed_before_the_breaker_opened_change_nothing(breaker, clock):
    in_flight = [breaker.claimed() for _ in range(4)]  # a pass of four rows, Slack goes down
    assert breaker.failed(in_flight[0]) == "opened"
    assert breaker.failed(in_flight[1]) is None  # not a second opening, nor a longer pause
    assert breaker.succeeded(in_flight[2]) is None  # a late answer doesn't close it either
    breaker.inconclusive(in_flight[3])
    assert breaker.state == "open" and breaker.pause == 1 and breaker.allowance() == 0
    clock.now += 1
    probe = breaker.claimed()
    assert breaker.failed(in_flight[0]) is None  # still stale while the probe is out
    assert breaker.state == "probing"
    assert breaker.failed(probe) == "reopened" and breaker.pause == 2


def test_a_probe_that_says_nothing_about_the_service_lets_the_next_row_probe(breaker, clock):
    breaker.failed(breaker.claimed())
    clock.now += 1
    probe = breaker.claimed()
    breaker.inconclusive(probe)  # e.g. "the ticket's root message is not in Slack yet"
    assert breaker.state == "open" and breaker.allowance() == 1 and breaker.pause == 1


def test_retry_after_holds_the_service_longer_than_the_pause(breaker, clock):
    breaker.failed(breaker.claimed(), retry_after=30)
    clock.now += 29.9
    assert breaker.allowance() == 0
    clock.now += 0.1
    assert breaker.allowance() == 1


# --- the breaker in the worker ----------------------------------------------------------------


@dataclass
class Bench:
    engine: object
    slack: FakeSlack
    worker: OutboxWorker
    skipped: list  # how far the worker's clock is ahead of the wall clock

    def later(self, seconds: float) -> None:
        self.skipped[0] += timedelta(seconds=seconds)

    def now(self) -> datetime:
        return utcnow() + self.skipped[0]

    def ticket(self, text: str) -> int:
        with transaction(self.engine) as session:
            customer = tickets.customer_for(session, "jane@customer.example", "Jane Doe")
            new = tickets.NewMessage(Source.EMAIL, customer.email, "Jane Doe", text)
            ticket, _ = tickets.open_ticket(
                session,
                desk_of(policy()),
                customer=customer,
                subject=text,
                channel=CHANNEL,
                source=Source.EMAIL,
                first_message=new,
            )
            return ticket.id

    def reply(self, ticket_id: int, text: str) -> None:
        with transaction(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            reply_to_customer(session, desk_of(policy()), ticket, Agent("U0AGENT1", "Alex"), text)

    def rows(self) -> list[OutboxItem]:
        with Session(self.engine) as session:
            return list(session.exec(select(OutboxItem).order_by(OutboxItem.id)).all())

    def pending(self) -> list[OutboxItem]:
        return [row for row in self.rows() if row.status == OutboxStatus.PENDING]

    def posts(self) -> int:
        return len(self.slack.calls("chat.postMessage"))


@pytest.fixture
def bench(tmp_path) -> Iterator[Bench]:
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        # Nothing listens there: the mail server is down for the whole test.
        sender = SmtpSender(f"smtp://127.0.0.1:{free_port()}")
        deliverers = {
            **slack_deliverers(client, []),
            **email_deliverers(sender, SUPPORT, None, "http://localhost"),
        }
        skipped = [timedelta(0)]
        worker = OutboxWorker(
            engine,
            deliverers,
            clock=lambda: utcnow() + skipped[0],
            breaker_first_pause=1,
            breaker_max_pause=15,
        )
        try:
            yield Bench(engine, slack, worker, skipped)
        finally:
            worker.stop()
            engine.dispose()


def test_a_slack_outage_holds_slack_rows_and_one_probe_reopens_the_flow(bench, caplog):
    caplog.set_level(logging.INFO, logger="bot.delivery.worker")
    for n in range(3):
        bench.ticket(f"ticket {n}")
    bench.slack.set_outage(True, 500)
    assert bench.worker.run_once() == 1  # one post a pass in a channel: the first root fails
    assert bench.posts() == 1
    assert bench.worker.breaker(SLACK_API).state == "open"

    # Held: the other roots are due, and a new ticket's too, but Slack is not called at all...
    bench.ticket("ticket 3")
    assert bench.worker.run_once() == 0
    assert len(bench.slack.requests) == 1
    # ...until the pause is over, and then by one probe per pause, whichever row is due.
    for pause in (1, 2, 4, 8, 15, 15):
        bench.later(pause)
        calls = len(bench.slack.requests)
        assert bench.worker.run_once() == 1
        assert len(bench.slack.requests) == calls + 1
        assert bench.worker.run_once() == 0

    bench.slack.set_outage(False)
    bench.later(15)
    assert bench.worker.run_once() == 1  # the probe, which goes through
    assert bench.worker.breaker(SLACK_API).state == "closed"
    bench.later(15)  # every row's own backoff is over by now (at most the longest pause)
    while bench.worker.run_once():
        pass
    assert bench.pending() == []
    texts = sorted(m["text"] for m in bench.slack.messages_in(CHANNEL))
    assert texts == sorted(
        [f"#{n + 1} ticket {n}" for n in range(4)] + [f"ticket {n}" for n in range(4)]
    )
    # Said once each, not per row nor per probe.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("Slack Web API is failing" in w for w in warnings) == 1
    assert sum("Slack Web API is back" in w for w in warnings) == 1


def test_rows_the_service_failed_back_off_no_longer_than_the_longest_pause(bench):
    for n in range(2):
        bench.ticket(f"ticket {n}")
    bench.slack.add_channel("C0OTHER", "other")
    with transaction(bench.engine) as session:
        for row in session.exec(select(OutboxItem)):
            row.attempts = 8  # on its own, a ninth failure would wait 128 s or more
        # In two channels, so that both roots go in one pass.
        session.exec(select(Ticket).order_by(Ticket.id.desc())).first().channel = "C0OTHER"
    bench.slack.fail_next("chat.postMessage", status=500)
    bench.slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert bench.worker.run_once() == 2
    # Which of the two concurrent posts meets which answer is up to the threads.
    failed = {row.last_error: row for row in bench.pending() if row.attempts == 9}
    down, refused = failed["Slack HTTP 500"], failed["Slack error: channel_not_found"]
    now = bench.now()
    assert down.next_attempt_at - now <= timedelta(seconds=15)
    assert refused.next_attempt_at - now >= timedelta(seconds=128)


def test_the_mail_server_down_holds_emails_while_slack_rows_keep_flowing(bench):
    first, second = bench.ticket("first"), bench.ticket("second")
    while bench.worker.run_once():  # roots and messages are in Slack
        pass
    bench.reply(first, "An answer the mail server can't take")
    assert bench.worker.run_once() == 1  # the email: connection refused
    assert bench.worker.breaker(OUTBOUND_SMTP).state == "open"
    [email] = emails(bench)
    assert email.last_error.startswith("could not reach the mail server")

    # Another reply waits, while a new ticket reaches Slack.
    bench.reply(second, "Another answer")
    bench.ticket("third")
    posted = bench.posts()
    assert bench.worker.run_once() == 1 and bench.posts() == posted + 1  # its root
    assert bench.worker.run_once() == 1 and bench.posts() == posted + 2  # its message
    assert [row.attempts for row in emails(bench)] == [1, 0]

    # One email probes per pause; tries spent on a server that isn't there don't wear the
    # replies out (three answered refusals would), so they stay pending, their thread copies
    # behind them.
    for _ in range(6):
        bench.later(16)
        assert bench.worker.run_once() == 1
    assert sum(row.attempts for row in emails(bench)) == 7
    assert [row.status for row in emails(bench)] == [OutboxStatus.PENDING] * 2
    assert bench.worker.breaker(OUTBOUND_SMTP).state == "open"


def test_the_mail_server_away_past_the_limit_fails_the_reply_for_the_agent(bench):
    first = bench.ticket("first")
    while bench.worker.run_once():
        pass
    bench.reply(first, "Sent into the void")
    with transaction(bench.engine) as session:
        [email] = session.exec(select(OutboxItem).where(OutboxItem.kind == "email.send"))
        email.created_at -= UNREACHABLE_GIVE_UP_AFTER
    assert bench.worker.run_once() == 1
    [email] = emails(bench)
    assert email.status == OutboxStatus.SENT and "failed" in email.result
    # The mail server never answered: its breaker opened, though the row is done.
    assert bench.worker.breaker(OUTBOUND_SMTP).state == "open"


def emails(bench: Bench) -> list[OutboxItem]:
    return [row for row in bench.rows() if row.kind == "email.send"]


def test_a_rate_limited_channel_does_not_hold_up_the_others(bench):
    """Slack's 429 pauses one channel; its backlog, however long, must not fill the claim
    window while another channel's rows wait behind it."""
    for n in range(20):  # more than a pass looks at
        bench.ticket(f"busy {n}")
    bench.slack.fail_next("chat.postMessage", status=429, retry_after=30)
    assert bench.worker.run_once() == 1  # one post a pass in a channel; it is rate limited
    assert bench.posts() == 1

    bench.slack.add_channel("C0OTHER", "other")
    quiet = bench.ticket("quiet")
    with transaction(bench.engine) as session:
        session.get(Ticket, quiet).channel = "C0OTHER"
    assert bench.worker.run_once() == 1
    assert [m["text"] for m in bench.slack.messages_in("C0OTHER")] == ["#21 quiet"]
    assert bench.slack.messages_in(CHANNEL) == []  # still paused
