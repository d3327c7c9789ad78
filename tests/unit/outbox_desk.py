"""A helpdesk's outbox worker delivering to the fake Slack over HTTP, on SQLite: for tests of
what the real Slack deliverers post."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.core import tickets
from bot.deliverers.slack_posts import slack_deliverers
from bot.delivery.worker import OutboxWorker
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine, transaction
from bot.storage.migrate import upgrade
from bot.storage.models import Source
from tests.core.builders import desk_of, policy
from tests.e2e.harness import CHANNEL


@contextmanager
def running_desk(
    tmp_path: Path, *other_channels: str, lease: timedelta
) -> Iterator[tuple[Engine, FakeSlack]]:
    """The support channel and `other_channels` exist; the worker runs until the end."""
    engine = make_engine(f"sqlite:///{tmp_path / 'helpdesk.db'}")
    upgrade(engine)
    with FakeSlack() as slack:
        for channel in (CHANNEL, *other_channels):
            slack.add_channel(channel, channel.lower())
        client = WebClient(token=slack.bot_token, base_url=slack.url, retry_handlers=[])
        worker = OutboxWorker(engine, slack_deliverers(client, []), lease=lease)
        worker.start()
        try:
            yield engine, slack
        finally:
            slack.release_responses()
            worker.stop()
            engine.dispose()


def open_ticket(engine: Engine, who: str, channel: str = CHANNEL) -> int:
    with transaction(engine) as session:
        customer = tickets.customer_for(session, f"{who}@customer.example", who)
        first = tickets.NewMessage(Source.EMAIL, customer.email, who, f"Hello from {who}")
        ticket, _ = tickets.open_ticket(
            session, desk_of(policy()), customer=customer, subject=f"{who}'s question",
            channel=channel, source=Source.EMAIL, first_message=first,
        )  # fmt: skip
        return ticket.id
