"""Two `helpdesk serve` processes on one PostgreSQL database assign a burst of 50 tickets from
one pool: the pool's turn is one, shared through its locked row, so the tickets go round the
agents in strict turn whichever process picks, and nobody gets more than the pool's limit."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import pytest
from sqlalchemy import create_engine, func
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, TicketEvent
from tests.conftest import free_port, fresh_postgres_database
from tests.e2e.harness import AGENT, CHANNEL, customer_mail, eventually, smtp_send, start_serve

AGENTS = ["U0ANN", "U0BOB", "U0CAT"]
LIMIT = 16  # three agents take 48 of the 50; the last two find nobody
TICKETS = 50
POLICY = f"""
agents: [{AGENT["id"]}]
assignment:
  pools:
    returns: {{agents: [{", ".join(AGENTS)}], max_open: {LIMIT}, channel: C0RETURNS}}
  default_pool: returns
"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from fresh_postgres_database()


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_two_processes_assign_a_burst_in_turn_and_within_the_limit(postgres_url, tmp_path):
    (tmp_path / "helpdesk.yml").write_text(POLICY)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel("C0RETURNS", "returns")
        for agent in AGENTS:
            slack.add_user(agent, agent.lower())
        smtp_ports = [free_port(), free_port()]
        processes = [
            start_serve(
                postgres_url, slack, port, tmp_path, HELPDESK_CONFIG=str(tmp_path / "helpdesk.yml")
            )
            for port in smtp_ports
        ]
        engine = create_engine(postgres_url)
        try:
            burst(smtp_ports)
            assert eventually(lambda: all_picked(engine), timeout=120)
            assert eventually(lambda: slack.messages_in("C0RETURNS"), timeout=30)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            exit_codes = [process.wait(15) for process in processes]
        with Session(engine) as session:
            in_turn = list(
                session.exec(
                    select(TicketEvent.data)
                    .where(TicketEvent.kind == "assigned")
                    .order_by(TicketEvent.id)
                )
            )
            assignees = Counter(session.exec(select(Ticket.assignee)))
        engine.dispose()

    assert exit_codes == [0, 0]
    # Whichever process picked, each ticket went to the next agent in turn.
    assert [event["new"] for event in in_turn] == AGENTS * LIMIT
    assert assignees == {**{agent: LIMIT for agent in AGENTS}, None: TICKETS - 3 * LIMIT}
    # The two tickets nobody could take were told once in the pool's channel.
    assert len(slack.messages_in("C0RETURNS")) == 1


def burst(smtp_ports: list[int]) -> None:
    """The mails all at once, over eight connections at a time, to both processes in turn."""
    ports = cycle(smtp_ports)
    mails = [
        (
            next(ports),
            customer_mail(f"Return {n}", subject=f"Return {n}", sender=f"c{n}@customer.example"),
        )
        for n in range(TICKETS)
    ]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda sent: smtp_send(*sent)[0], mails))
    assert answers == [250] * TICKETS


def all_picked(engine) -> bool:
    """Every ticket is in, and nothing waits in the outbox (pools' picks and their posts)."""
    with Session(engine) as session:
        tickets = session.exec(select(func.count()).select_from(Ticket)).one()
        waiting = session.exec(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.status == OutboxStatus.PENDING)
        ).one()
    return tickets == TICKETS and waiting == 0
