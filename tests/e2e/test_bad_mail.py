"""Hostile and broken mail over real SMTP: stored or refused with a reason, never a crash."""

from __future__ import annotations

import base64

from sqlmodel import Session, select

from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Customer, Message, Ticket
from tests.e2e.harness import CHANNEL, customer_mail, running_helpdesk, smtp_send

CRLF = b"\r\n"


def raw(*lines: bytes) -> bytes:
    return CRLF.join(lines) + CRLF


NOT_MIME = raw(b"this is not an email at all", b"just words", b"", b"and more")
BROKEN_CHARSET = raw(
    b"From: =?x-unknown?Q?Bj=F6rn?= <bjorn@customer.example>",
    b"Subject: =?utf-8?B?broken base64?=",
    b"Message-ID: <broken-charset@customer.example>",
    b'Content-Type: text/plain; charset="no-such-charset"',
    b"",
    b"Gr\xfc\xdfe, mein Paket ist kaputt \xff\xfe",
)
LYING_CHARSET = raw(
    b"From: wang@customer.example",
    b"Subject: order 8842",
    b"Message-ID: <lying-charset@customer.example>",
    b'Content-Type: text/plain; charset="gb2312"',
    b"",
    "我的订单还没有发货。请帮我查一下。".encode(),  # UTF-8 under the GB2312 label
)
WRONG_BOUNDARY = raw(
    b"From: ann@customer.example",
    b"Subject: wrong boundary",
    b"Message-ID: <wrong-boundary@customer.example>",
    b'Content-Type: multipart/alternative; boundary="declared"',
    b"",
    b"--sent",
    b"Content-Type: text/plain; charset=utf-8",
    b"Content-Transfer-Encoding: base64",
    b"",
    base64.b64encode(b"The lid of the teapot is chipped."),
    b"--sent--",
)
NO_MESSAGE_ID = raw(
    b"From: nomid@customer.example", b"Subject: no id", b"", b"I have no Message-ID"
)
HTML_ONLY = raw(
    b"From: html@customer.example",
    b"Subject: html only",
    b"Message-ID: <html-only@customer.example>",
    b"Content-Type: text/html; charset=utf-8",
    b"",
    b"<html><head><script>alert('pwned')</script><style>p{}</style></head>",
    b"<body><p>Hello &amp; <b>thanks</b></p><p>Second paragraph</p></body></html>",
)
BOUNCE = raw(
    b"From: MAILER-DAEMON@mx.example",
    b"Subject: Undelivered Mail Returned to Sender",
    b"Message-ID: <bounce@mx.example>",
    b"",
    b"This is the mail system at host mx.example.",
)
BULK = raw(
    b"From: newsletter@brand.example",
    b"Subject: Our big sale",
    b"Precedence: bulk",
    b"Message-ID: <bulk@brand.example>",
    b"",
    b"Buy now",
)


def test_bad_mail_is_stored_or_refused_and_the_server_carries_on(database_url):
    long_name = customer_mail("long name", sender=f'"{"N" * 500}" <longname@customer.example>')
    long_subject = customer_mail("long subject", subject="S" * 2000)
    with FakeSlack() as slack, running_helpdesk(database_url, slack) as helpdesk:
        slack.add_channel(CHANNEL, "support")
        port = helpdesk.smtp.port
        answers = {
            name: smtp_send(port, mail)
            for name, mail in {
                "not mime": NOT_MIME,
                "broken charset": BROKEN_CHARSET,
                "lying charset": LYING_CHARSET,
                "wrong boundary": WRONG_BOUNDARY,
                "no message id": NO_MESSAGE_ID,
                "no message id again": NO_MESSAGE_ID,
                "html only": HTML_ONLY,
                "bounce": BOUNCE,
                "bulk": BULK,
                "long name": long_name,
                "long subject": long_subject,
            }.items()
        }
        assert {name: code for name, (code, _) in answers.items()} == dict.fromkeys(answers, 250)
        assert b"not turned into a ticket" in answers["bounce"][1]
        assert b"not turned into a ticket" in answers["bulk"][1]
        assert b"Already received" in answers["no message id again"][1]
        # "not mime" has no From, so there is nobody to answer: accepted, logged, no ticket.
        assert b"not turned into a ticket" in answers["not mime"][1]
        # The broken and lying charset, wrong boundary, html, no-id, long-name and
        # long-subject mails: 7 tickets.
        slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 14, timeout=20)
        with Session(helpdesk.engine) as session:
            assert len(session.exec(select(Ticket)).all()) == 7
            html = session.exec(
                select(Message).where(Message.email_message_id == "html-only@customer.example")
            ).one()
            assert "alert" not in html.body and "Hello & thanks" in html.body
            assert "Second paragraph" in html.body
            broken = session.exec(
                select(Message).where(Message.email_message_id == "broken-charset@customer.example")
            ).one()
            assert "mein Paket ist kaputt" in broken.body
            named = session.exec(
                select(Customer).where(Customer.email == "longname@customer.example")
            ).one()
            assert len(named.name) == 200
    posted = " ".join(str(c.args) for c in slack.calls("chat.postMessage"))
    assert "alert(" not in posted
    # What the customers wrote, not mojibake or raw MIME, is what the threads show.
    assert "我的订单还没有发货" in posted and "The lid of the teapot is chipped." in posted
    assert "Content-Transfer-Encoding" not in posted
