"""Issue 20: new email tickets acknowledged automatically, through real SMTP both ways, the
fake Slack and the fake Shopify: once per sender per period, threaded, an answer promised in
business hours across a weekend, never to machines, lists or the helpdesk itself, and an
order's status only for the customer's own order."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core import acknowledgements
from bot.devtools.fake_shopify import BOB_EMAIL, FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, TicketEvent
from tests.e2e.harness import (
    CHANNEL,
    SUPPORT,
    MailSink,
    customer_mail,
    eventually,
    run_helpdesk,
    serve_environment,
    smtp_send,
    staffed_helpdesk,
)
from tests.e2e.test_check import migrated, run_check
from tests.e2e.test_shopify_context import TOKEN


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


NEW_YORK = ZoneInfo("America/New_York")
# Friday 27 November 2026, 17:00 in New York: an hour of business left before the weekend.
FRIDAY_EVENING = datetime(2026, 11, 27, 17, 0, tzinfo=NEW_YORK)
RETURNS = "returns@shop.example"
RETURNS_CHANNEL = "C0RETURNS"
POLICY = {
    "timezone": "America/New_York",
    "business_hours": {"mon-fri": "09:00-18:00"},
    "sla": {"normal": {"first_response": "4h"}},
    "acknowledgement": {"once_per": "1d"},
    "inboxes": [
        {
            "address": RETURNS,
            "channel": RETURNS_CHANNEL,
            "acknowledgement": {
                "template": "Hi {{customer.first_name}}, thanks for writing. Your ticket is "
                "#{{ticket.number}}.\nWe'll reply by {{ticket.reply_by}}.\n\n{{order.summary}}",
            },
        }
    ],
}


@contextmanager
def acknowledging_desk(database_url: str, **overrides) -> Iterator[tuple]:
    with staffed_helpdesk(database_url, Policy.model_validate(POLICY), **overrides) as desk:
        desk[1].add_channel(RETURNS_CHANNEL, "returns", members=["U0AGENT1"])
        yield desk


def mail(body: str = "Hello, where is my order?", **fields) -> EmailMessage:
    headers = fields.pop("headers", {})
    message = customer_mail(body, **fields)
    for name, value in headers.items():
        message[name] = value
    return message


def drained(helpdesk) -> bool:
    with Session(helpdesk.engine) as session:
        pending = session.exec(
            select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.PENDING)
        ).all()
    return not pending


def wait_until_delivered(helpdesk, tickets: int) -> None:
    """Until `tickets` tickets are stored and every outbox row of theirs went."""

    def done() -> bool:
        with Session(helpdesk.engine) as session:
            stored = len(session.exec(select(Ticket.id)).all())
        return stored >= tickets and drained(helpdesk)

    assert eventually(done, timeout=30)


def acknowledgements_sent(sink: MailSink) -> list[EmailMessage]:
    return [m for m in sink.parsed() if m["Auto-Submitted"] == "auto-replied"]


def body_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def thread_texts(slack: FakeSlack, channel: str, number: int) -> list[str]:
    roots = [m for m in slack.messages_in(channel) if m["text"].startswith(f"#{number} ")]
    return [m["text"] for m in slack.thread(channel, roots[0]["ts"])[1:]] if roots else []


def events(helpdesk, kind: str) -> list[dict]:
    with Session(helpdesk.engine) as session:
        rows = session.exec(select(TicketEvent).where(TicketEvent.kind == kind)).all()
    return [row.data for row in rows]


def test_friday_evening_mail_is_acknowledged_once_threaded_promising_monday(
    database_url, time_machine
):
    time_machine.move_to(FRIDAY_EVENING, tick=True)
    with acknowledging_desk(database_url) as (helpdesk, slack, sink):
        first = mail("My parcel never came.", sender="Jane Doe <jane@customer.example>")
        assert smtp_send(helpdesk.smtp.port, first)[0] == 250
        assert eventually(lambda: len(sink.messages) == 1, timeout=20)
        [(recipients, _)] = sink.messages
        ack = sink.parsed()[0]
        assert recipients == ["jane@customer.example"]
        assert ack["From"] == SUPPORT
        assert ack["To"] == "Jane Doe <jane@customer.example>"
        assert ack["Subject"] == "Re: Where is my order?"
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["In-Reply-To"] == first["Message-ID"]
        assert ack["References"].split() == [first["Message-ID"]]
        assert ack["Message-ID"].endswith("@shop.example>")
        text = body_of(ack)
        assert text.startswith("Hi Jane,")
        # One business hour on Friday, three more from Monday 09:00.
        assert "ticket #1, and we'll reply by Monday 12:00 (EST)." in " ".join(text.split())
        assert "{{" not in text
        assert eventually(
            lambda: any("acknowledgement sent" in t for t in thread_texts(slack, CHANNEL, 1))
        )
        [note] = [t for t in thread_texts(slack, CHANNEL, 1) if "acknowledgement" in t]
        assert "Monday 12:00 (EST)" in note

        # Within the day: a second ticket from Jane, none from her answer to the
        # acknowledgement (it joins ticket #1), and one for someone else.
        again = mail("Another question", subject="Gift wrapping?")
        answer = mail(
            "Also: it was a gift.",
            subject="Re: Where is my order?",
            in_reply_to=ack["Message-ID"],
            references=[first["Message-ID"], ack["Message-ID"]],
        )
        other = mail("Hi", sender="Ann <ann@customer.example>", subject="Sizes?")
        for message in (again, answer, other):
            assert smtp_send(helpdesk.smtp.port, message)[0] == 250
        wait_until_delivered(helpdesk, tickets=3)
        sent = acknowledgements_sent(sink)
        assert [m["To"] for m in sent] == [
            "Jane Doe <jane@customer.example>",
            "Ann <ann@customer.example>",
        ]
        assert events(helpdesk, acknowledgements.SKIPPED) == [
            {"reason": "this sender was acknowledged recently"}
        ]


def test_never_to_machines_lists_bounces_or_the_helpdesk_itself(database_url):
    with acknowledging_desk(database_url) as (helpdesk, _, sink):
        vacation = mail(
            "I am away until Monday.",
            sender="Bo <bo@customer.example>",
            headers={"Auto-Submitted": "auto-replied"},
        )
        newsletter = mail(
            "Our spring catalogue",
            sender="News <news@brand.example>",
            headers={
                "List-Id": "<news.brand.example>",
                "List-Unsubscribe": "<mailto:u@brand.example>",
            },
        )
        bounce = mail(
            "Delivery failed", sender="Mail Delivery System <MAILER-DAEMON@mx.brand.example>"
        )
        null_sender = mail("Out of office", sender="Cy <cy@customer.example>",
                           headers={"Return-Path": "<>"})  # fmt: skip
        ourselves = mail("Loop?", sender=f"Support <{SUPPORT}>")
        inbox_itself = mail("Loop?", sender=f"Returns <{RETURNS}>", to=RETURNS)
        person = mail("A real question", sender="Dee <dee@customer.example>")
        for message in (vacation, newsletter, bounce, null_sender, ourselves, inbox_itself):
            assert smtp_send(helpdesk.smtp.port, message)[0] == 250
        # A bounce as some servers send it: nothing in its headers, only the null envelope.
        plain_bounce = mail("Undeliverable: your message", sender="Ed <ed@customer.example>")
        answer = smtp_send(helpdesk.smtp.port, plain_bounce, envelope_sender="")
        assert answer == (
            250,
            b"2.0.0 Accepted, not turned into a ticket: Return-Path: <> (null sender)",
        )
        assert smtp_send(helpdesk.smtp.port, person)[0] == 250
        wait_until_delivered(helpdesk, tickets=2)  # the newsletter's, and Dee's
        assert [m["To"] for m in sink.parsed()] == ["Dee <dee@customer.example>"]
        [skipped] = events(helpdesk, acknowledgements.SKIPPED)
        assert skipped["reason"].startswith("mailing list (List-Id: <news.brand.example>")


def test_an_inbox_acknowledges_with_its_own_template(database_url):
    with acknowledging_desk(database_url) as (helpdesk, slack, sink):
        returns = mail("I'd like to return the shoes.", to=RETURNS, subject="Return")
        assert smtp_send(helpdesk.smtp.port, returns, [RETURNS])[0] == 250
        assert eventually(lambda: len(sink.messages) == 1, timeout=20)
        ack = sink.parsed()[0]
        assert ack["From"] == RETURNS
        assert body_of(ack).startswith(
            "Hi Jane, thanks for writing. Your ticket is #1.\nWe'll reply by "
        )
        assert eventually(
            lambda: any(
                "acknowledgement sent" in t for t in thread_texts(slack, RETURNS_CHANNEL, 1)
            )
        )


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()  # Bob Norman, his order #1001: authorized, unfulfilled, UPS 1Z2345
        jane = fake.add_customer(5550001, "Jane Doe", "jane@customer.example")
        tracking = [{"number": "1ZJANE999", "url": None, "company": "UPS"}]
        fake.add_order(7770001, "#2001", customer=jane, fulfillment_status="FULFILLED",
                       tracking=tracking)  # fmt: skip
        yield fake


def test_an_order_status_only_for_the_customers_own_order(database_url, shop):
    shopify = {"shopify_shop": "acme", "shopify_access_token": TOKEN, "shopify_api_url": shop.url}
    with acknowledging_desk(database_url, **shopify) as (helpdesk, _, sink):
        own = mail("Where is my order #2001?", subject="Order 2001")
        someone_elses = mail("Any news on order #1001?", sender="Mallory <mallory@evil.example>")
        # Bob's own address and order, but his server did not vouch for the From.
        unverified = mail(
            "Where is #1001?",
            sender=f"Bob Norman <{BOB_EMAIL}>",
            headers={
                "Authentication-Results": "mx.shop.example; dmarc=fail header.from=hostmail.com"
            },
        )
        for message in (own, someone_elses, unverified):
            assert smtp_send(helpdesk.smtp.port, message)[0] == 250
        wait_until_delivered(helpdesk, tickets=3)
        texts = {m["To"].addresses[0].addr_spec: body_of(m) for m in acknowledgements_sent(sink)}
        assert (
            "Order #2001: paid, fulfilled — tracking 1ZJANE999 (UPS)"
            in texts["jane@customer.example"]
        )
        for stranger in ("mallory@evil.example", BOB_EMAIL):
            assert "#1001" not in texts[stranger]
            assert "1Z2345" not in texts[stranger]
            assert "authorized" not in texts[stranger]
        sent = events(helpdesk, acknowledgements.SENT)
        assert sorted(e["order"] or "" for e in sent) == ["", "", "#2001"]


def test_an_unknown_placeholder_stops_the_start_in_one_line_and_check_lists_acknowledgers(
    tmp_path,
):
    bad = (
        "inboxes:\n  - address: returns@shop.example\n    channel: C0RETURNS\n"
        "    acknowledgement:\n      template: 'Hi {{customer.nickname}}'\n"
    )
    (tmp_path / "helpdesk.yml").write_text(bad)
    with FakeSlack() as slack:
        env = serve_environment(f"sqlite:///{tmp_path}/h.db", slack)
        result = run_helpdesk(["serve"], env, tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "inboxes.0.acknowledgement.template (inbox returns@shop.example)" in line
    assert "{{customer.nickname}} is not a placeholder" in line

    migrated(tmp_path)
    good = (
        "acknowledgement: {once_per: 12h}\ninboxes:\n"
        "  - {address: returns@shop.example, channel: C0RETURNS, acknowledgement: false}\n"
        "  - {address: shoes@shop.example, channel: C0RETURNS}\n"
    )
    with FakeSlack() as slack, MailSink() as outbound:
        slack.add_channel(CHANNEL, "support")
        slack.add_channel("C0RETURNS", "returns")
        result = run_check(tmp_path, slack, good, OUTBOUND_SMTP_URL=outbound.url)
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, out
    assert (
        f"{SUPPORT} (once per sender per 12h), shoes@shop.example (once per sender per 12h)" in out
    )
    assert "returns@shop.example (once" not in out


def test_a_refused_acknowledgement_is_noted_in_the_thread_and_the_ticket_goes_on(database_url):
    with acknowledging_desk(database_url) as (helpdesk, slack, sink):
        sink.refusals.append("550 5.1.1 No such user here")
        assert smtp_send(helpdesk.smtp.port, mail("Hello?"))[0] == 250
        assert eventually(
            lambda: any("could not be sent" in t for t in thread_texts(slack, CHANNEL, 1)),
            timeout=20,
        )
        [note] = [t for t in thread_texts(slack, CHANNEL, 1) if "could not be sent" in t]
        assert "550 5.1.1 No such user here" in note
        assert sink.messages == []
        [failed] = events(helpdesk, acknowledgements.FAILED)
        assert "550" in failed["reason"]
        with Session(helpdesk.engine) as session:
            assert session.exec(select(Ticket.status)).one() == "open"


def test_mails_of_one_sender_arriving_together_get_one_acknowledgement(database_url):
    with acknowledging_desk(database_url) as (helpdesk, _, sink):
        burst = [mail(f"Question {n}", subject=f"Question {n}") for n in range(6)]
        with ThreadPoolExecutor(len(burst)) as senders:
            answers = list(senders.map(lambda m: smtp_send(helpdesk.smtp.port, m), burst))
        assert [code for code, _ in answers] == [250] * len(burst)
        wait_until_delivered(helpdesk, tickets=len(burst))
        assert len(acknowledgements_sent(sink)) == 1
        assert len(events(helpdesk, acknowledgements.SKIPPED)) == len(burst) - 1
