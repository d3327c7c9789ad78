"""A scrape while the database is away still answers, and says so."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.chat_bus import ChatBus
from bot.delivery.worker import OutboxWorker
from bot.monitoring.state import HelpdeskState


def test_an_unreachable_database_is_reported_not_raised():
    # Nothing listens on port 1: the connection is refused at once.
    engine = create_engine("postgresql+psycopg://helpdesk@127.0.0.1:1/helpdesk")
    worker = OutboxWorker(engine, {})
    registry = CollectorRegistry()
    registry.register(HelpdeskState(engine, worker, ChatBus()))
    try:
        text = generate_latest(registry).decode()
    finally:
        worker.stop()
    families = {family.name: family for family in text_string_to_metric_families(text)}
    assert families["helpdesk_database_up"].samples[0].value == 0
    assert "helpdesk_outbox_pending" not in families
    assert families["helpdesk_chat_streams_open"].samples[0].value == 0
