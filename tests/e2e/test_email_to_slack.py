"""Customer email over real SMTP becoming Slack threads in the fake Slack, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Message, OutboxItem, OutboxStatus, Ticket
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    CHANNEL,
    SUPPORT,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
)


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support")
        yield fake


def roots(slack: FakeSlack) -> list[dict]:
    return [
        m for m in slack.messages_in(CHANNEL) if not m.get("thread_ts") or m["thread_ts"] == m["ts"]
    ]


def replies(slack: FakeSlack, root: dict) -> list[dict]:
    return slack.thread(CHANNEL, root["ts"])[1:]


def wait_for_replies(slack: FakeSlack, count: int, timeout: float = 15) -> None:
    def done() -> bool:
        return sum(len(replies(slack, r)) for r in roots(slack)) >= count

    slack.wait_for(done, timeout)


@ON_BOTH_DATABASES
def test_new_email_becomes_a_ticket_thread(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        code, answer = smtp_send(
            helpdesk.smtp.port,
            customer_mail("Hi,\n\nmy parcel never came. <!channel> <@U0BOSS>\n\nJane"),
        )
        assert code == 250, answer
        assert b"ticket #1" in answer
        wait_for_replies(slack, 1)

    [root] = roots(slack)
    assert "#1" in root["text"] and "Where is my order?" in root["text"]
    buttons = [
        e["text"]["text"]
        for b in root["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if "text" in e
    ]
    for label in ("Reply", "Tag", "Escalate", "Assign", "Close"):
        assert any(label in button for button in buttons), label
    shown = str(root["blocks"])
    assert "Jane Doe" in shown and "jane@customer.example" in shown
    [reply] = replies(slack, root)
    assert "my parcel never came." in reply["text"]
    # Escaped: shows literally, pings nobody.
    assert "&lt;!channel&gt;" in reply["text"] and "<!channel>" not in reply["text"]
    assert "&lt;@U0BOSS&gt;" in reply["text"]


def test_a_forwarded_mail_shows_as_forwarded_in_the_thread(database_url, slack):
    forward = customer_mail(
        "This is the order that never came.\n\nSent from my iPhone\n\n"
        "Begin forwarded message:\n\n> From: Shop Orders <orders@shop.example>\n"
        "> Subject: Order #1042 <!channel>\n> Date: 4 March 2026 at 10:12:33 GMT\n"
        "> To: jane@customer.example\n>\n> Thanks for your order #1042 & welcome.\n",
        subject="Fwd: Order #1042",
    )
    with running_helpdesk(database_url, slack) as helpdesk:
        assert smtp_send(helpdesk.smtp.port, forward)[0] == 250
        wait_for_replies(slack, 1)

    [root] = roots(slack)
    [reply] = replies(slack, root)
    # The customer's words, then the forwarded mail, escaped; the phone's line and the
    # forwarded mail's recipient line are not shown.
    assert reply["text"] == (
        "This is the order that never came.\n\n---------- Forwarded message ----------\n"
        "From: Shop Orders &lt;orders@shop.example&gt;\nSubject: Order #1042 &lt;!channel&gt;\n"
        "Date: 4 March 2026 at 10:12:33 GMT\n\nThanks for your order #1042 &amp; welcome."
    )


@ON_BOTH_DATABASES
def test_follow_ups_join_their_thread_in_order(database_url, slack):
    first = customer_mail("First message")
    with running_helpdesk(database_url, slack) as helpdesk:
        port = helpdesk.smtp.port
        assert smtp_send(port, first)[0] == 250
        wait_for_replies(slack, 1)
        # By In-Reply-To, with the quoted history stripped.
        follow_up = customer_mail(
            "Second message\n\nOn Mon, Jan 5, 2026 at 10:00 AM Shop <support@shop.example> wrote:\n"
            "> First message\n",
            subject="Re: Where is my order?",
            in_reply_to=first["Message-ID"],
            references=[first["Message-ID"]],
        )
        assert smtp_send(port, follow_up)[0] == 250
        # By [#n] in the subject, from the same customer.
        assert smtp_send(port, customer_mail("Third message", subject="About [#1]"))[0] == 250
        # By the ticket's reply address.
        with Session(helpdesk.engine) as session:
            token = session.exec(select(Ticket.reply_token)).one()
        reply_address = f"support+{token}@shop.example"
        by_address = customer_mail("Fourth message", subject="new words", to=reply_address)
        assert smtp_send(port, by_address, [reply_address])[0] == 250
        wait_for_replies(slack, 4)

    [root] = roots(slack)
    texts = [r["text"] for r in replies(slack, root)]
    assert [t.split("\n")[0] for t in texts] == [
        "First message",
        "Second message",
        "Third message",
        "Fourth message",
    ]
    assert "wrote:" not in texts[1]


def test_ticket_number_from_a_stranger_opens_a_new_ticket(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        assert smtp_send(helpdesk.smtp.port, customer_mail("Mine"))[0] == 250
        stranger = customer_mail("Let me in", subject="Re: [#1]", sender="x@evil.example")
        assert smtp_send(helpdesk.smtp.port, stranger)[0] == 250
        wait_for_replies(slack, 2)
    assert len(roots(slack)) == 2


@ON_BOTH_DATABASES
def test_redelivered_mail_is_posted_once(database_url, slack):
    mail = customer_mail("Only once please")
    with running_helpdesk(database_url, slack) as helpdesk:
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        code, answer = smtp_send(helpdesk.smtp.port, mail)
        assert code == 250 and b"Already received" in answer
        wait_for_replies(slack, 1)
        helpdesk.outbox.run_once()
    assert len(slack.calls("chat.postMessage")) == 2  # the root and the one message


def test_rate_limit_storm_loses_nothing_and_keeps_order(database_url, slack):
    slack.fail_next("chat.postMessage", status=429, retry_after=1, count=4)
    with running_helpdesk(database_url, slack) as helpdesk:
        first = customer_mail("message 1")
        assert smtp_send(helpdesk.smtp.port, first)[0] == 250
        for n in range(2, 5):
            mail = customer_mail(f"message {n}", in_reply_to=first["Message-ID"])
            assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        wait_for_replies(slack, 4, timeout=30)
    [root] = roots(slack)
    assert [r["text"] for r in replies(slack, root)] == [f"message {n}" for n in range(1, 5)]
    rate_limited = [c for c in slack.calls("chat.postMessage") if c.status == 429]
    assert len(rate_limited) == 4


def test_slack_outage_delays_but_loses_nothing(database_url, slack):
    slack.set_outage(True)
    with running_helpdesk(database_url, slack) as helpdesk:
        for n in range(3):
            mail = customer_mail(f"during outage {n}", subject=f"Outage {n}")
            assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        # The first failure opens the outbox's breaker for Slack: the other rows wait for it
        # rather than each failing on its own.
        slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 1, timeout=10)
        assert roots(slack) == []
        slack.set_outage(False)
        with Session(helpdesk.engine) as session:
            # Skip the backoff instead of waiting it out; the retry logic itself is unchanged.
            for item in session.exec(select(OutboxItem)):
                item.next_attempt_at = item.created_at
                session.add(item)
            session.commit()
        helpdesk.outbox.wake()
        wait_for_replies(slack, 3, timeout=20)

        def all_recorded() -> bool:
            with Session(helpdesk.engine) as session:
                statuses = set(session.exec(select(OutboxItem.status)))
                timestamps = session.exec(select(Message.slack_ts)).all()
            return statuses == {OutboxStatus.SENT} and all(timestamps)

        assert eventually(all_recorded)
    assert sorted(r["text"] for r in roots(slack)) == [
        "#1 Outage 0",
        "#2 Outage 1",
        "#3 Outage 2",
    ]


def test_unknown_recipient_is_refused_at_rcpt(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        code, _ = smtp_send(helpdesk.smtp.port, customer_mail(), ["someone@else.example"])
    assert code == 550


def test_auto_replies_open_no_ticket(database_url, slack):
    mail = customer_mail("I am out of office until Monday.")
    mail["Auto-Submitted"] = "auto-replied"
    with running_helpdesk(database_url, slack) as helpdesk:
        code, answer = smtp_send(helpdesk.smtp.port, mail)
        assert code == 250 and b"not turned into a ticket" in answer
        with Session(helpdesk.engine) as session:
            assert session.exec(select(Ticket)).all() == []
    assert slack.calls("chat.postMessage") == []


def test_oversized_mail_is_refused_with_552(database_url, slack):
    big = customer_mail("a line of a long message\n" * 8000)
    with running_helpdesk(database_url, slack, helpdesk_max_message_bytes=100_000) as helpdesk:
        code, _ = smtp_send(helpdesk.smtp.port, big)
        assert code == 552
        # The server is still fine for the next sender.
        assert smtp_send(helpdesk.smtp.port, customer_mail("small"))[0] == 250


def test_healthz(database_url, slack):
    import json
    import urllib.request

    with running_helpdesk(database_url, slack) as helpdesk:
        url = f"http://127.0.0.1:{helpdesk.http_port}/healthz"

        def health() -> dict:
            with urllib.request.urlopen(url) as response:
                assert response.status == 200
                return json.load(response)

        assert health()["status"] == "ok"
        assert health()["outbox"] == {"pending": 0, "failed": 0, "oldest_pending_seconds": None}

        # A root Slack refuses for good counts as failed; while Slack is down, mail waits.
        slack.fail_next("chat.postMessage", status=200, error="msg_too_long")
        assert smtp_send(helpdesk.smtp.port, customer_mail("refused"))[0] == 250
        assert eventually(lambda: health()["outbox"]["failed"] == 1)
        slack.set_outage(True)
        assert smtp_send(helpdesk.smtp.port, customer_mail("waiting", subject="Other"))[0] == 250
        assert eventually(lambda: (health()["outbox"]["oldest_pending_seconds"] or 0) >= 2)
        backlog = health()
        assert backlog["status"] == "ok" and backlog["outbox"]["pending"] >= 2


def test_support_address_is_case_insensitive(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        code, _ = smtp_send(helpdesk.smtp.port, customer_mail(), [SUPPORT.upper()])
    assert code == 250


def test_content_slack_refuses_for_good_is_failed_with_the_reason_not_retried(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        slack.fail_next("chat.postMessage", status=200, error="msg_too_long")
        assert smtp_send(helpdesk.smtp.port, customer_mail("a message"))[0] == 250

        def failed() -> list[OutboxItem]:
            with Session(helpdesk.engine) as session:
                return session.exec(
                    select(OutboxItem).where(OutboxItem.status == OutboxStatus.FAILED)
                ).all()

        assert eventually(failed)
        [item] = failed()
        assert item.last_error == "Slack refused the message: msg_too_long"
        assert item.attempts == 1
