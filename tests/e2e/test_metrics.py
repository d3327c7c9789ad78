"""`GET /metrics` as Prometheus scrapes it: mail over SMTP, a Slack outage and its recovery,
an SLA breach and a chat stream, each read back from the text format with prometheus_client's
own parser and checked against the database."""

from __future__ import annotations

import smtplib
import urllib.request
from collections import Counter
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session, select

from bot.config import Policy, SlaPolicy, SlaTarget
from bot.delivery.contract import CHAT_BUS, OUTBOUND_SMTP, SLACK_API
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import OutboxItem, OutboxStatus, SlaAlert
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import CHANNEL, customer_mail, eventually, running_helpdesk, smtp_send


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


MAX_BYTES = 5000
# A first response due two seconds after a ticket opens, checked every second.
POLICY = Policy(
    sla=SlaPolicy(
        normal=SlaTarget(first_response=timedelta(seconds=2)), sweep_every=timedelta(seconds=1)
    )
)


class Scrape:
    def __init__(self, port: int):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            self.content_type = answer.headers["Content-Type"]
            text = answer.read().decode()
        self.samples = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def value(self, name: str, default: float | None = None, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())), default)

    def labels(self, name: str, label: str) -> set[str]:
        return {dict(labels)[label] for sample, labels in self.samples if sample == name}


def sent_rows_by_service(helpdesk) -> Counter:
    with Session(helpdesk.engine) as session:
        kinds = session.exec(
            select(OutboxItem.kind).where(OutboxItem.status == OutboxStatus.SENT)
        ).all()
    return Counter(helpdesk.outbox.service_of(kind) for kind in kinds)


def alerts(helpdesk) -> Counter:
    with Session(helpdesk.engine) as session:
        return Counter(session.exec(select(SlaAlert.kind)).all())


def test_mail_deliveries_breakers_and_sla_alerts_are_counted(database_url):
    with (
        FakeSlack() as slack,
        running_helpdesk(database_url, slack, POLICY, helpdesk_max_message_bytes=MAX_BYTES) as desk,
    ):
        slack.add_channel(CHANNEL, "support")
        port = desk.http_port
        first = Scrape(port)
        assert first.content_type == "text/plain; version=0.0.4; charset=utf-8"
        assert first.value("helpdesk_database_up") == 1
        assert first.labels("helpdesk_outbox_pending", "service") == {
            SLACK_API,
            OUTBOUND_SMTP,
            CHAT_BUS,
        }
        assert first.value("helpdesk_outbox_breaker_state", service=SLACK_API, state="closed") == 1

        slack.set_outage(True, 503)
        smtp = desk.smtp.port
        assert smtp_send(smtp, customer_mail("Where is my parcel?"))[0] == 250
        assert smtp_send(smtp, customer_mail(), recipients=["nobody@shop.example"])[0] == 550
        assert smtp_send(smtp, customer_mail("x" * MAX_BYTES * 2))[0] == 552
        with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as client:
            assert client.docmd("FOO")[0] == 500

        # Slack is down: its rows wait behind the open breaker, and the failures are counted.
        def held() -> bool:
            scrape = Scrape(port)
            closed = scrape.value(
                "helpdesk_outbox_breaker_state", service=SLACK_API, state="closed"
            )
            retried = scrape.value(
                "helpdesk_outbox_delivery_failures_total", service=SLACK_API, outcome="retry"
            )
            return closed == 0 and retried >= 1

        assert eventually(held)
        down = Scrape(port)
        assert down.value("helpdesk_outbox_pending", service=SLACK_API) >= 1
        assert down.value("helpdesk_outbox_oldest_pending_seconds", service=SLACK_API) > 0
        assert down.value("helpdesk_outbox_pending", service=OUTBOUND_SMTP) == 0
        assert down.value("helpdesk_outbox_deliveries_total", service=SLACK_API) == 0

        slack.set_outage(False)

        # Back: everything is delivered, the breach included, and each figure is the database's.
        def settled() -> bool:
            scrape = Scrape(port)
            sent = sent_rows_by_service(desk)
            return (
                alerts(desk)["breach"] == 1
                and scrape.value("helpdesk_outbox_pending", service=SLACK_API) == 0
                and scrape.value("helpdesk_outbox_deliveries_total", service=SLACK_API)
                == sent[SLACK_API]
                and scrape.value("helpdesk_sla_breaches_total") == 1
            )

        assert eventually(settled, timeout=30)
        after = Scrape(port)
        assert after.value("helpdesk_smtp_accepted_total") == 1
        assert after.value("helpdesk_smtp_refused_total", code="550") == 1
        assert after.value("helpdesk_smtp_refused_total", code="552") == 1
        assert after.value("helpdesk_smtp_refused_total", code="500") == 1
        assert after.value("helpdesk_sla_warnings_total") == alerts(desk)["warning"]
        assert after.value("helpdesk_outbox_oldest_pending_seconds", service=SLACK_API) == 0
        assert after.value("helpdesk_outbox_breaker_state", service=SLACK_API, state="closed") == 1
        assert after.value("helpdesk_outbox_breaker_state", service=SLACK_API, state="open") == 0
        failed = after.value(
            "helpdesk_outbox_delivery_failures_total", service=SLACK_API, outcome="failed"
        )
        assert failed == 0


def test_open_chat_streams_are_gauged(database_url):
    with FakeSlack() as slack, running_helpdesk(database_url, slack) as desk:
        slack.add_channel(CHANNEL, "support")
        visitor = ChatVisitor(desk.http_port)
        assert visitor.start("Hello?", email="jane@customer.example").status == 201

        def streams() -> float:
            return Scrape(desk.http_port).value("helpdesk_chat_streams_open")

        assert streams() == 0
        with visitor.stream():
            assert eventually(lambda: streams() == 1)
        assert eventually(lambda: streams() == 0)
