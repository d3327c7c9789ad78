"""Mail machines send back, and mail that reached the support address by another route."""

from __future__ import annotations

import json
from contextlib import ExitStack
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlmodel import Session, select

from bot.config import Inbox, MailPolicy, Policy
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import SlaClock, Ticket, TicketEvent
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SUPPORT,
    MailSink,
    answer_values,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
    staffed_helpdesk,
)
from tests.e2e.test_agent_workflow import Desk


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


RETURNS = "returns@shop.example"


@pytest.fixture
def jane(database_url):
    """Jane's ticket, and the agent who answers it."""
    with staffed_helpdesk(database_url) as (helpdesk, slack, sink):
        yield Desk(helpdesk, slack, sink)


def replied(desk: Desk, text: str = "It left our warehouse today.", status=None) -> EmailMessage:
    """An agent's reply through the modal, as the customer's mail server received it."""
    desk.click(ids.TICKET_REPLY)
    view = desk.opened_view()
    desk.submit(view, answer_values(view, text, status))
    assert eventually(lambda: len(desk.sink.messages) == 1)
    desk.wait_for_outbox()
    return desk.sink.parsed()[0]


def dsn_for(original: EmailMessage, code: str = "550 5.1.1 <jane@customer.example>: no such user"):
    """A delivery status notification (RFC 3464) as Postfix sends it."""
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: {SUPPORT}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.customer.example")}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; jane@customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; {code}

--B
Content-Type: text/rfc822-headers

From: {original["From"]}
To: {original["To"]}
Subject: {original["Subject"]}
Message-ID: {original["Message-ID"]}

--B--
""".replace("\n", "\r\n").encode()


def test_a_bounced_reply_is_shown_not_delivered_with_the_reason(jane):
    desk = jane
    reply = replied(desk)
    assert smtp_send(desk.helpdesk.smtp.port, dsn_for(reply))[0] == 250
    assert eventually(lambda: "Not delivered" in desk.thread_texts()[-1])
    copy = json.dumps(desk.slack.thread(CHANNEL, desk.root_ts)[-1]["blocks"])
    assert "not delivered: 550 5.1.1" in copy and "no such user" in copy
    assert ids.REPLY_RETRY in copy
    with Session(desk.helpdesk.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1  # the bounce opened nothing
        kinds = [e.kind for e in session.exec(select(TicketEvent))]
    assert "reply_bounced" in kinds


def test_an_out_of_office_answer_is_noted_and_changes_nothing(jane):
    desk = jane
    reply = replied(desk, status="pending")
    away = customer_mail(
        "I'm away until Monday.", subject="Automatic reply: Re: Where is my order?",
        in_reply_to=reply["Message-ID"],
    )  # fmt: skip
    away["Auto-Submitted"] = "auto-replied"
    assert smtp_send(desk.helpdesk.smtp.port, away)[0] == 250
    assert eventually(
        lambda: "Automatic reply from jane@customer.example" in desk.thread_texts()[-1]
    )
    ticket = desk.ticket()
    assert ticket.status == "pending"  # not reopened
    with Session(desk.helpdesk.engine) as session:
        clocks = session.exec(select(SlaClock).where(SlaClock.kind == "next_response")).all()
        assert clocks == []  # no clock started by a machine's answer
        assert len(session.exec(select(Ticket)).all()) == 1


def test_mail_delivered_through_an_alias_is_routed_by_delivered_to_and_answered_from_it(
    database_url,
):
    policy = Policy(inboxes=[Inbox(address=RETURNS, channel="C0RETURNS", tags=["returns"])])
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel("C0RETURNS", "returns", members=[AGENT["id"]])
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, policy, outbound_smtp_url=sink.url)
        )
        mail = customer_mail("The mug arrived broken.", to="team@shop.example")
        mail["Delivered-To"] = RETURNS
        desk = Desk(helpdesk, slack, sink, first_mail=mail)
        ticket = desk.ticket()
        assert ticket.channel == "C0RETURNS" and ticket.support_address == RETURNS
        reply = replied(desk)
    assert RETURNS in reply["From"]


def test_a_sender_opening_ticket_after_ticket_is_folded_into_one(database_url):
    policy = Policy(mail=MailPolicy(loop_limit_per_hour=3))
    with FakeSlack() as slack, running_helpdesk(database_url, slack, policy) as helpdesk:
        for n in range(5):
            mail = customer_mail(f"Alert {n}", subject=f"Disk full on host {n}",
                                 sender="Monitor <monitor@ops.example>")  # fmt: skip
            assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        with Session(helpdesk.engine) as session:
            numbers = [t.number for t in session.exec(select(Ticket).order_by(Ticket.id))]
    assert numbers == [1, 2, 3]


def test_files_attached_in_the_reply_modal_go_out_with_the_email(jane):
    desk = jane
    photo = bytes(range(256)) * 40
    shared = desk.slack.add_file("label.png", photo, AGENT["id"])
    desk.click(ids.TICKET_REPLY)
    view = desk.opened_view()
    values = answer_values(view, "Here is your return label.")
    values[ids.REPLY_FILES_BLOCK] = {ids.REPLY_FILES: {"type": "file_input", "files": [shared]}}
    assert desk.submit(view, values).status == 200
    assert eventually(lambda: len(desk.sink.messages) == 1)
    mail = desk.sink.parsed()[0]
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "label.png"
    assert attachment.get_content_type() == "image/png"
    assert attachment.get_content() == photo


def test_a_file_deleted_before_sending_fails_the_reply_with_the_reason(jane):
    desk = jane
    gone = {"id": "F0GONE", "name": "gone.pdf", "size": 10, "mimetype": "application/pdf"}
    desk.click(ids.TICKET_REPLY)
    view = desk.opened_view()
    values = answer_values(view, "See attached.")
    values[ids.REPLY_FILES_BLOCK] = {ids.REPLY_FILES: {"type": "file_input", "files": [gone]}}
    assert desk.submit(view, values).status == 200
    assert eventually(lambda: "Not delivered" in desk.thread_texts()[-1])
    assert "deleted from Slack" in json.dumps(desk.slack.thread(CHANNEL, desk.root_ts)[-1])
    assert desk.sink.messages == []
