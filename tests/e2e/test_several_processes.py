"""Three `helpdesk serve` processes on one PostgreSQL database, under a storm of Slack 429s.

Mail arrives at each process's SMTP server in turn and agents' clicks reach each process's
`/slack/events` in turn (a Reply button pressed on one, its modal submitted to the next), while
the fake Slack takes about a post a second per channel and answers 429 with `Retry-After`
besides. Every post and reply must happen once, in order in its thread; and once Slack has
answered 429 for the channel, no process may post there before the `Retry-After` is over,
which the fake Slack's log of requests shows. Run with the state shared through PostgreSQL,
then through Redis (REDIS_URL).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from itertools import cycle

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Ticket
from tests.conftest import free_port, fresh_postgres_database
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    MailSink,
    SlackAgent,
    customer_mail,
    eventually,
    smtp_send,
    start_serve,
)

PROCESSES = 3
CUSTOMERS = 4
CHAT_REQUESTS_PER_MINUTE = 6
POLICY = f"""
agents: [{AGENT["id"]}]
chat: {{ip_requests_per_minute: {CHAT_REQUESTS_PER_MINUTE}}}
"""
# Slack's methods that write into the channel, which the outbox paces.
POSTS = ("chat.postMessage", "chat.update")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_postgres_database()


@pytest.mark.postgres
@pytest.mark.timeout(300)
@pytest.mark.parametrize("shared_through", ["postgres", "redis"])
def test_three_processes_do_everything_once_and_respect_slacks_pauses_together(
    shared_through, postgres_url, tmp_path, request
):
    extra = {}
    if shared_through == "redis":
        extra["REDIS_URL"] = request.getfixturevalue("redis_url")
    (tmp_path / "helpdesk.yml").write_text(POLICY)
    with FakeSlack() as slack, MailSink() as sink:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        slack.set_rate_limit("chat.postMessage", per_second=1, burst=2)
        slack.fail_next("chat.postMessage", status=429, retry_after=2, count=3)
        smtp_ports = [free_port() for _ in range(PROCESSES)]
        http_ports = [free_port() for _ in range(PROCESSES)]
        processes = [
            start_serve(
                postgres_url,
                slack,
                smtp_port,
                tmp_path,
                HELPDESK_HTTP_PORT=str(http_port),
                HELPDESK_CONFIG=str(tmp_path / "helpdesk.yml"),
                OUTBOUND_SMTP_URL=sink.url,
                **extra,
            )
            for smtp_port, http_port in zip(smtp_ports, http_ports, strict=True)
        ]
        try:
            expected = run_the_day(slack, cycle(smtp_ports), cycle(http_ports), postgres_url)
            assert eventually(lambda: threads(slack) == expected, timeout=120), threads(slack)
            time.sleep(1)  # long enough for a wrongly repeated post to show up
            chat_answers = [
                ChatVisitor(port).request("GET", "/chat/api/config").status
                for port, _ in zip(cycle(http_ports), range(12))
            ]
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            exit_codes = [process.wait(15) for process in processes]

        assert exit_codes == [0] * PROCESSES
        assert threads(slack) == expected  # every message once, in order, in its own thread
        roots = [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
        assert len(roots) == CUSTOMERS
        replies = sink.parsed()
        assert sorted(m["To"] for m in replies) == sorted(customer(c) for c in range(CUSTOMERS))
        assert_no_post_within_a_pause(slack)
        # One limit for the address across the processes, not one per process.
        assert chat_answers.count(200) == CHAT_REQUESTS_PER_MINUTE
        assert set(chat_answers[CHAT_REQUESTS_PER_MINUTE:]) == {429}


def customer(c: int) -> str:
    return f"customer{c}@customer.example"


def run_the_day(slack: FakeSlack, smtp_ports, http_ports, database_url: str) -> dict:
    """Mail and clicks, each to the next process; returns each thread's expected texts."""
    firsts = {}
    for c in range(CUSTOMERS):
        mail = customer_mail(f"c{c} mail 1", subject=f"Order {c}", sender=customer(c))
        assert smtp_send(next(smtp_ports), mail)[0] == 250
        firsts[c] = mail["Message-ID"]

    def follow_up(c: int, n: int) -> None:
        mail = customer_mail(f"c{c} mail {n}", subject=f"Re: Order {c}", sender=customer(c))
        mail["In-Reply-To"] = firsts[c]
        assert smtp_send(next(smtp_ports), mail)[0] == 250

    for n in (2, 3):
        for c in range(CUSTOMERS):
            follow_up(c, n)
    engine = create_engine(database_url)
    try:
        for c in range(CUSTOMERS):
            ticket_id, root_ts = posted_ticket(engine, slack, f"Order {c}")
            clicks = SlackAgent(next(http_ports), slack)
            submits = SlackAgent(next(http_ports), slack)  # the modal comes back elsewhere
            clicks.reply(ticket_id, root_ts, f"c{c} answer", submit_via=submits)
    finally:
        engine.dispose()
    for c in range(CUSTOMERS):
        follow_up(c, 4)
    texts = (
        "c{} mail 1",
        "c{} mail 2",
        "c{} mail 3",
        "Sent to the customer: c{} answer",
        "c{} mail 4",
    )
    return {f"Order {c}": [text.format(c) for text in texts] for c in range(CUSTOMERS)}


def posted_ticket(engine, slack: FakeSlack, subject: str) -> tuple[int, str]:
    """The ticket's id and root ts, once its root is in Slack."""

    def root() -> tuple[int, str] | None:
        with Session(engine) as session:
            ticket = session.exec(select(Ticket).where(Ticket.subject == subject)).first()
        return (ticket.id, ticket.thread_ts) if ticket and ticket.thread_ts else None

    assert eventually(lambda: root() is not None, timeout=60), f"no root for {subject!r}"
    return root()


def threads(slack: FakeSlack) -> dict[str, list[str]]:
    """Each thread's messages after the root, by the subject its root names."""
    found = {}
    for message in slack.messages_in(CHANNEL):
        if message.get("thread_ts") not in (None, message["ts"]):
            continue
        subject = next(f"Order {c}" for c in range(CUSTOMERS) if f"Order {c}" in message["text"])
        found[subject] = [m["text"] for m in slack.thread(CHANNEL, message["ts"])[1:]]
    return found


def assert_no_post_within_a_pause(slack: FakeSlack) -> None:
    """After each 429 in the channel, Slack saw no post there until its Retry-After was over."""
    posts = [r for r in slack.requests if r.method in POSTS and r.args.get("channel") == CHANNEL]
    limited = [r for r in posts if r.status == 429]
    assert len(limited) >= 3  # the storm: 3 injected, and Slack's pace
    for answer in limited:
        too_soon = [
            f"{r.method} {r.time - answer.time:.3f}s after"
            for r in posts
            if answer.time < r.time < answer.time + answer.retry_after
        ]
        assert not too_soon, f"{answer.method} answered 429 for {answer.retry_after}s: {too_soon}"
