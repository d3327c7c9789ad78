"""Hostile input through every real interface: SMTP, the chat API and signed Slack requests.

Each input is either refused with a clear 4xx or stored cleaned (bot/core/text.py); the
server stays up, nothing is logged with a traceback, customer text is escaped in Slack, and
every ticket's later messages still arrive. Runs on SQLite and PostgreSQL (which refuses NUL).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.core.tickets import tags_of
from bot.storage.models import (
    ChatConversation,
    Customer,
    Escalation,
    Message,
    SavedReply,
    Ticket,
)
from bot.views import ids
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import AGENT, CHANNEL, customer_mail, eventually, smtp_send
from tests.e2e.harness import staffed_helpdesk as staffed
from tests.e2e.test_chat_api import POLICY, Agents, email_unseen

# What Slack would turn into a mention, a link or markup if it were not escaped.
SLACK_MARKUP = ("<!channel>", "<!here>", "<@U0AGENT1>", "<http://evil.example", "<script>")


class LogWatch(logging.Handler):
    """Every record the helpdesk logs, uvicorn's included (its loggers propagate to the root)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def desk(database_url) -> Iterator[tuple]:
    watch = LogWatch()
    with staffed(database_url, POLICY) as (helpdesk, slack, sink):
        logging.getLogger().addHandler(watch)
        try:
            yield helpdesk, slack, sink, Agents(helpdesk, slack)
        finally:
            logging.getLogger().removeHandler(watch)
    assert watch.tracebacks() == []


def stored_text(helpdesk) -> list[str]:
    """Every customer-supplied string the database holds."""
    with Session(helpdesk.engine) as session:
        values = [c.name for c in session.exec(select(Customer))]
        values += [c.email for c in session.exec(select(Customer))]
        values += [t.subject for t in session.exec(select(Ticket))]
        for m in session.exec(select(Message)):
            values += [m.body, m.full_body or "", m.author_name, m.author]
        for c in session.exec(select(ChatConversation)):
            values += [c.visitor_name, c.page_url, c.user_agent, c.visitor_email or ""]
    return values


def assert_clean(values: list[str]) -> None:
    for value in values:
        assert "\x00" not in value and "\r" not in value, repr(value[:80])
        assert not any("\ud800" <= c <= "\udfff" for c in value), repr(value[:80])
        assert not any("\x80" <= c <= "\x9f" for c in value), repr(value[:80])


def thread_json(slack, ticket: Ticket) -> str:
    return json.dumps(slack.thread(ticket.channel, ticket.thread_ts))


# --- the findings of issue 16, each through the interface where it was found -------------


def test_a_chat_name_with_a_line_break_does_not_block_the_reply_email(desk):
    helpdesk, slack, sink, agents = desk
    jane = ChatVisitor(helpdesk.http_port)
    started = jane.start(
        "Where is my parcel?", name="Jane\r\nBcc: all@evil.example", email="jane@customer.example"
    )
    assert started.status == 201 and started.body["conversation"]["name"] == (
        "Jane Bcc: all@evil.example"
    )
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    agents.reply("It left yesterday.")
    assert eventually(lambda: len(agents.thread_texts()) == 3)
    later = datetime.now(UTC) + timedelta(minutes=6)  # the visitor left without seeing it
    emailed: list[int] = []
    assert eventually(lambda: emailed.append(email_unseen(helpdesk, later)) or sum(emailed))

    assert eventually(lambda: sink.messages, timeout=15)
    [mail] = sink.parsed()
    assert mail["To"] == '"Jane Bcc: all@evil.example" <jane@customer.example>'
    assert mail["Bcc"] is None
    # The ticket's later messages still reach Slack.
    jane.resume()
    assert jane.say("Thanks, found it!").status == 201
    assert eventually(lambda: "Thanks, found it!" in agents.thread_texts())


def test_a_visitor_giving_a_nameless_customers_address_does_not_block_their_replies(desk):
    """The visitor's name fills in the existing customer's missing one (tickets.customer_for),
    so it reaches every reply to that customer, on their email tickets too."""
    helpdesk, slack, sink, agents = desk
    first = customer_mail("My order is late.", sender="ann@customer.example")
    assert smtp_send(helpdesk.smtp.port, first)[0] == 250
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    visitor = ChatVisitor(helpdesk.http_port)
    claimed = visitor.start("Hello", name="Ann\r\nX-Evil: 1", email="ann@customer.example")
    assert claimed.status == 201
    with Session(helpdesk.engine) as session:
        ann = session.exec(select(Customer).where(Customer.email == "ann@customer.example")).one()
        assert ann.name == "Ann X-Evil: 1"

    agents.reply("Your order ships today.", number=1)
    assert eventually(lambda: sink.messages, timeout=15)
    [mail] = sink.parsed()
    assert mail["To"] == '"Ann X-Evil: 1" <ann@customer.example>' and mail["X-Evil"] is None
    follow_up = customer_mail(
        "Thank you!", sender="ann@customer.example", in_reply_to=mail["Message-ID"]
    )
    assert smtp_send(helpdesk.smtp.port, follow_up)[0] == 250
    assert eventually(lambda: "Thank you!" in agents.thread_texts(1))


def raw_post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_slack_events_refuses_a_bad_timestamp_or_body_without_a_traceback(desk):
    helpdesk, *_ = desk
    json_type = {"Content-Type": "application/json"}
    bad_timestamp = {**json_type, "X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=0"}
    status, body = raw_post(helpdesk.http_port, b'{"type": "event_callback"}', bad_timestamp)
    assert status == 401 and json.loads(body) == {"error": "invalid request signature"}
    now = {**json_type, "X-Slack-Request-Timestamp": "1800000000", "X-Slack-Signature": "v0=0"}
    status, body = raw_post(helpdesk.http_port, b'{"text": "\xff\xfe caf\xe9"}', now)
    assert status == 400 and json.loads(body) == {"error": "the body is not UTF-8"}
    status, _ = raw_post(helpdesk.http_port, b"\xff", {**json_type, "X-Slack-Signature": "x"})
    assert status == 400
    # Still serving.
    assert http_get(helpdesk.http_port, "/healthz") == 200


def http_get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_chat_text_that_cannot_be_stored_is_refused_or_cleaned(desk):
    helpdesk, slack, _, agents = desk
    visitor = ChatVisitor(helpdesk.http_port)
    start = "/chat/api/conversations"
    raw = visitor.request("POST", start, raw=b'{"message": "caf\xe9 \xed\xa0\x80"}')
    assert raw.status == 400 and raw.body["code"] == "invalid_encoding" and raw.body["error"]

    # A JSON escape is valid JSON: the lone surrogate becomes U+FFFD and the rest is kept.
    escaped = visitor.request("POST", start, raw=b'{"message": "hi \\ud800 there", "name": "A"}')
    assert escaped.status == 201, escaped.body
    assert escaped.body["messages"][0]["text"] == "hi \ufffd there"
    # NUL in a name: PostgreSQL would refuse it; it is dropped, and the rest is stored.
    named = ChatVisitor(helpdesk.http_port)
    assert named.start("Order?", name="Ja\x00ne").body["conversation"]["name"] == "Jane"
    contact = named.request("PUT", f"{named.path}/contact", {"name": "Jane\x00 Doe\u202e"})
    assert contact.status == 200 and contact.body["conversation"]["name"] == "Jane Doe"
    assert named.say("surrogate \ud800 and NUL \x00 in a message").status == 201
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts(2)) == 3)
    assert agents.thread_texts(2)[-1] == "surrogate \ufffd and NUL  in a message"
    assert_clean(stored_text(helpdesk))


def note_event(root_ts: str, ts: str, text) -> dict:
    return {
        "type": "message",
        "channel": CHANNEL,
        "user": AGENT["id"],
        "text": text,
        "ts": ts,
        "thread_ts": root_ts,
        "channel_type": "channel",
    }


def test_an_agents_note_with_nul_is_stored_and_nobody_is_told_the_database_is_down(desk):
    helpdesk, slack, _, agents = desk
    assert smtp_send(helpdesk.smtp.port, customer_mail())[0] == 250
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    ticket = agents.ticket()
    sent = agents.agent.sender.send_event(
        note_event(ticket.thread_ts, "1800000001.000100", "Called DHL\x00, no answer")
    )
    assert sent.status == 200
    assert eventually(lambda: note_bodies(helpdesk) == ["Called DHL, no answer"])
    assert slack.calls("chat.postEphemeral") == []


def note_bodies(helpdesk) -> list[str]:
    with Session(helpdesk.engine) as session:
        notes = session.exec(
            select(Message).where(Message.direction == "note").order_by(Message.slack_ts)
        )
        return [n.body for n in notes]


# --- the batch: the nastiest inputs of each kind ------------------------------------------


def _b64_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def _nested(depth: int) -> bytes:
    parts = [
        f"Content-Type: multipart/mixed; boundary=b{n}\r\n\r\n--b{n}\r\n" for n in range(depth)
    ]
    closing = "".join(f"\r\n--b{n}--\r\n" for n in reversed(range(depth)))
    return ("".join(parts) + "Content-Type: text/plain\r\n\r\ndeep inside" + closing).encode()


def hostile_mails() -> list[bytes]:
    """Each mail from its own sender, eve<n>@customer.example, with a Message-ID of its own."""
    plain = b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    injected_name = _b64_word("Eve\r\nBcc: all@evil.example")
    cases = [
        # Header injection through encoded words, in the name and the subject.
        (
            f"From: {injected_name} <eve0@customer.example>\r\n"
            "Subject: =?utf-8?q?Hi=0D=0ABcc:_all@evil.example?=\r\n".encode(),
            plain + b"Please help.\r\n",
        ),
        # NUL and C0/C1 controls, raw and encoded.
        (
            b"From: Eve\x00 One <eve1@customer.example>\r\nSubject: Null\x00 in \x07 subject"
            b" =?utf-8?q?=C2=85=C2=9B?=\r\n",
            plain + "NUL\x00 bell\x07 esc\x1b[31m C1\x85\x9b end\r\n".encode(),
        ),
        # Bidirectional overrides making a name read as an address.
        (
            'From: "\u202eelpmaxe.live@eve\u202c" <eve2@customer.example>\r\n'
            "Subject: \u2066admin\u2069 request\r\n".encode(),
            plain + "Right-to-left \u202e override in the body\r\n".encode(),
        ),
        # Bytes that decode to lone surrogates, and undecodable bytes everywhere.
        (
            b"From: Eve \xed\xa0\x80 <eve3@customer.example>\r\nSubject: bad \xed\xa0\x80 \xff\r\n",
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xed\xa0\x80\xff\xfe bytes\r\n",
        ),
        # 10k-character lines in the subject and the body (folded and encoded on the wire:
        # SMTP refuses raw lines over 1,000 bytes, see below).
        (
            b"From: eve4@customer.example\r\nSubject:"
            + b"".join(b" =?utf-8?q?" + b"S" * 50 + b"?=\r\n" for _ in range(200)),
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            + b"=\r\n".join([b"x" * 70] * 150)
            + b"\r\n",
        ),
        # Slack markup and HTML that must show as text.
        (
            b'From: "<!channel>" <eve5@customer.example>\r\nSubject: <!here> <@U0AGENT1>\r\n',
            b"Content-Type: text/html\r\n\r\n<script>alert(1)</script><p>Hi <!channel> "
            b"&lt;@U0AGENT1&gt; &lt;http://evil.example|click&gt;</p>\r\n",
        ),
        # Charsets nobody knows, and encoded words with broken bytes.
        (
            b"From: =?x-unknown?q?Ev=E9?= <eve6@customer.example>\r\n"
            b"Subject: =?utf-8?b?/w==?= =?utf-8?q?=FF=FE=00?= =?bogus?b?!!!?=\r\n",
            b"Content-Type: text/plain; charset=x-bogus\r\n\r\ncaf\xe9 \x00\r\n",
        ),
        # A header injection attempt by folding, and an address with controls.
        (
            b"From: Eve <eve7@customer.example>\r\nReply-To: a@b.example\r\n\tBcc: x@evil.example"
            b"\r\nTo: =?utf-8?q?x=0D=0ABcc=3A_y=40evil=2Eexample?= <support@shop.example>\r\n"
            b"Subject: folded\r\n",
            plain + b"folded headers\r\n",
        ),
        # MIME nested 300 deep.
        (b"From: eve8@customer.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n", _nested(300)),
    ]
    return [
        headers + f"Message-ID: <hostile{n}@customer.example>\r\n".encode() + body
        for n, (headers, body) in enumerate(cases)
    ]


def test_hostile_mail_is_stored_cleanly_escaped_in_slack_and_its_ticket_keeps_working(desk):
    helpdesk, slack, sink, agents = desk
    mails = hostile_mails()
    for raw in mails:
        assert smtp_send(helpdesk.smtp.port, raw)[0] == 250
    too_long = b"From: eve@customer.example\r\nSubject: long\r\n\r\n" + b"x" * 10_000
    assert smtp_send(helpdesk.smtp.port, too_long)[0] == 500  # refused, as SMTP's limit says
    count = len(mails)
    assert eventually(lambda: all(len(agents.thread_texts(n)) == 2 for n in range(1, count + 1)))
    tickets = [agents.ticket(n) for n in range(1, count + 1)]
    everything = "".join(thread_json(slack, t) for t in tickets)
    for markup in SLACK_MARKUP:
        assert markup not in everything
    assert_clean(stored_text(helpdesk))
    with Session(helpdesk.engine) as session:
        names = [c.name for c in session.exec(select(Customer).order_by(Customer.id))]
    assert names[0] == "Eve Bcc: all@evil.example" and "\u202e" not in names[2]

    # Replies go out to the worst of them, and every ticket's next message still arrives.
    agents.reply("We are on it.", number=1)
    agents.reply("We are on it too.", number=2)
    assert eventually(lambda: len(sink.messages) == 2, timeout=15)
    for mail in sink.parsed():
        assert mail["Bcc"] is None and "\n" not in mail["To"] and "\n" not in mail["Subject"]
    for n, ticket in enumerate(tickets):
        with Session(helpdesk.engine) as session:
            address = session.get(Customer, ticket.customer_id).email
        later = customer_mail(
            f"Follow-up {n}",
            sender=address,
            subject="Re: anything",
            in_reply_to=f"<hostile{n}@customer.example>",
        )
        assert smtp_send(helpdesk.smtp.port, later)[0] == 250
    for n in range(count):
        assert eventually(lambda n=n: f"Follow-up {n}" in agents.thread_texts(n + 1))


def test_hostile_chat_payloads_are_refused_with_4xx_or_stored_cleanly(desk):
    helpdesk, slack, _, agents = desk
    start = "/chat/api/conversations"
    refused = [
        b"{not json",
        b"",
        b"[]",
        b'"a string"',
        b'{"message": 5}',
        b'{"message": ["x"]}',
        b'{"message": null}',
        b'{"message": {"$gt": ""}}',
        b'{"message": "hi", "name": 5}',
        b'{"message": "hi", "name": "' + b"n" * 201 + b'"}',
        b'{"message": "hi", "page_url": "' + b"u" * 2001 + b'"}',
        b'{"message": "hi", "email": "a\\u0000b@x.example"}',
        b'{"message": "hi", "email": "jane@x.example\\r\\nBcc: y@z.example"}',
        b'{"message": "' + b"m" * 5001 + b'"}',
        b'{"message": "\xc3\x28"}',
        b'{"message": "\\u0000\\u0000"}',
        b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's recursion
    ]
    visitor = ChatVisitor(helpdesk.http_port)
    for body in refused:
        answer = visitor.request("POST", start, raw=body)
        assert 400 <= answer.status < 500, (body[:60], answer.status, answer.body)
        assert answer.body["error"] and answer.body["code"], answer.body

    stored = [
        {"message": "<!channel> <@U0AGENT1> <http://evil.example|click> <script>x</script>"},
        {"message": "NUL\x00 C1\x85\x9b bidi\u202e lone\ud800 end", "name": "\u202eEve\x00"},
        {"message": "line\r\nbreaks\rand\u2028more", "name": "Eve\r\nBcc: x@evil.example"},
        {"message": "x" * 5000, "name": "n" * 200, "page_url": "javascript:alert(1)\x00"},
        {"message": "hi", "name": "\t\x0b\x0c\x1c", "page_url": "https://shop.example/\r\nX: 1"},
    ]
    visitors = []
    for fields in stored:
        visitor = ChatVisitor(helpdesk.http_port)
        answer = visitor.start(**fields)
        assert answer.status == 201, (fields, answer.body)
        visitors.append(visitor)
    assert_clean(stored_text(helpdesk))
    numbers = range(1, len(stored) + 1)
    assert eventually(lambda: all(len(agents.thread_texts(n)) == 2 for n in numbers))
    for visitor in visitors:
        assert visitor.say("and one more thing").status == 201
    tickets = [agents.ticket(n) for n in numbers]
    for number in numbers:
        assert eventually(lambda n=number: "and one more thing" in agents.thread_texts(n))
    everything = "".join(thread_json(slack, t) for t in tickets)
    for markup in SLACK_MARKUP:
        assert markup not in everything


def test_hostile_slack_payloads_are_stored_cleanly_and_the_ticket_keeps_working(desk):
    helpdesk, slack, sink, agents = desk
    assert smtp_send(helpdesk.smtp.port, customer_mail())[0] == 250
    assert eventually(lambda: slack.messages_in(CHANNEL) and len(agents.thread_texts()) == 2)
    ticket = agents.ticket()
    sender = agents.agent.sender
    notes = [
        "NUL\x00 bell\x07 C1\x85\x9b",
        "lone \ud800 surrogate",
        "<!channel> <@U0AGENT1> <http://evil.example|y>",
        "\u202eright to left\r\nand CRLF",
        "y" * 10_000,
    ]
    for n, note in enumerate(notes):
        event = note_event(ticket.thread_ts, f"1800000010.{n:06d}", note)
        assert sender.send_event(event).status == 200
    # A payload of the wrong shape: not stored, not fatal.
    assert sender.send_event(note_event(ticket.thread_ts, "1800000011.000000", 5)).status == 200
    assert eventually(lambda: len(note_bodies(helpdesk)) == len(notes) + 1)
    assert note_bodies(helpdesk)[-1] == ""

    for command, text in [
        ("/helpdesk", "find \x00\x85"),
        ("/helpdesk", "find " + "z" * 10_000),
        ("/helpdesk", "find <!channel>"),
        ("/escalate", "#1 refund\x00 over the limit <!channel>"),
    ]:
        answer = sender.send_command(command, text, user_id=AGENT["id"], channel_id=CHANNEL)
        assert answer.status == 200, (command, answer.body)
    assert eventually(lambda: escalation_reasons(helpdesk) == ["refund over the limit <!channel>"])

    # Modal submissions: a saved reply and tags, with NUL, CR/LF and markup.
    form = {"id": "V0SAVED", "type": "modal", "callback_id": ids.SAVED_REPLY_EDIT_MODAL}
    saved = agents.agent.submit(
        form,
        {
            ids.SAVED_REPLY_TITLE_BLOCK: {ids.SAVED_REPLY_TITLE: {"value": "Sorry\x00 \ud800"}},
            ids.SAVED_REPLY_BODY_BLOCK: {ids.SAVED_REPLY_BODY: {"value": "Hi\x00\r\nthere"}},
        },
    )
    assert saved.status == 200 and saved.body in ("", "{}"), saved.body
    tag_form = {"id": "V0TAGS", "type": "modal", "callback_id": ids.TAG_MODAL,
                "private_metadata": json.dumps({"ticket_id": ticket.id})}  # fmt: skip
    typed = {"value": "vip\x00, <!channel>, late\r\nparcel, \ud800"}
    tagged = agents.agent.submit(tag_form, {ids.TAG_NEW_BLOCK: {ids.TAG_NEW: typed}})
    assert tagged.status == 200 and tagged.body in ("", "{}"), tagged.body
    with Session(helpdesk.engine) as session:
        assert [(r.title, r.body) for r in session.exec(select(SavedReply))] == [
            ("Sorry \ufffd", "Hi\nthere")
        ]
        assert tags_of(session, ticket.id) == ["channel", "late-parcel", "vip"]

    agents.reply("Hello\x00 Jane,\r\nit ships \ud800 today.\u202e")
    assert eventually(lambda: sink.messages, timeout=15)
    [mail] = sink.parsed()
    body = mail.get_body(("plain",)).get_content()
    assert "Hello Jane,\nit ships \ufffd today." in body.replace("\r\n", "\n")
    assert_clean(stored_text(helpdesk))
    follow_up = customer_mail("Thanks!", in_reply_to=mail["Message-ID"])
    assert smtp_send(helpdesk.smtp.port, follow_up)[0] == 250
    assert eventually(lambda: "Thanks!" in agents.thread_texts())


def escalation_reasons(helpdesk) -> list[str]:
    with Session(helpdesk.engine) as session:
        return [e.reason for e in session.exec(select(Escalation))]
