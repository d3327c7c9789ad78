"""Who a mail is from, over real SMTP: forged display names, unverified senders, and the
helpdesk's own mail coming back. Ann has ticket #1; the attacker wants in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import make_msgid

import pytest
from sqlmodel import Session, select

from bot.config import Inbox, MailPolicy, Policy
from bot.mail.ids import new_message_id
from bot.storage.db import transaction
from bot.storage.models import Customer, Direction, Message, Ticket
from tests.e2e.harness import CHANNEL, SUPPORT, eventually, smtp_send, staffed_helpdesk
from tests.e2e.test_agent_workflow import Desk
from tests.e2e.test_bounces_and_routing import replied


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


ANN = "ann@cust.example"
ATTACKER = "attacker@evil.example"
RETURNS = "returns@shop.example"
ON_ANNS_TICKET = "Re: [#1] Broken mug"


def mail(
    *headers: str, subject: str = ON_ANNS_TICKET, body: str = "Send the refund to me."
) -> bytes:
    """Raw bytes, so the headers reach the server exactly as an attacker writes them."""
    lines = [*headers, f"To: {SUPPORT}", f"Subject: {subject}"]
    if not any(h.lower().startswith("message-id:") for h in headers):
        lines.append(f"Message-ID: {make_msgid(domain='client.example')}")
    return ("\r\n".join([*lines, "", body, ""])).encode()


@contextmanager
def anns_desk(database_url: str, policy: Policy | None = None) -> Iterator[Desk]:
    """Ann's ticket #1, and the agent who answers it."""
    first = mail(f"From: Ann <{ANN}>", subject="Broken mug", body="My mug arrived broken.")
    with staffed_helpdesk(database_url, policy) as (helpdesk, slack, sink):
        yield Desk(helpdesk, slack, sink, first_mail=first)


@pytest.fixture
def ann(database_url):
    with anns_desk(database_url) as desk:
        yield desk


def inbound(desk: Desk, number: int) -> list[Message]:
    with Session(desk.helpdesk.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        return list(
            session.exec(
                select(Message)
                .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
                .order_by(Message.id)
            )
        )


def customer_of(desk: Desk, number: int) -> str:
    with Session(desk.helpdesk.engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        return session.get(Customer, ticket.customer_id).email


def ticket_count(desk: Desk) -> int:
    with Session(desk.helpdesk.engine) as session:
        return len(session.exec(select(Ticket)).all())


def posted_thread(desk: Desk, number: int, messages: int = 2) -> list[dict]:
    """Ticket `number`'s thread in Slack, root first, once `messages` are posted."""

    def thread() -> list[dict]:
        with Session(desk.helpdesk.engine) as session:
            ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        return desk.slack.thread(CHANNEL, ticket.thread_ts) if ticket.thread_ts else []

    assert eventually(lambda: len(thread()) >= messages, timeout=15)
    return thread()


def send(desk: Desk, raw: bytes, recipients: list[str] | None = None) -> str:
    code, answer = smtp_send(desk.helpdesk.smtp.port, raw, recipients)
    assert code == 250, answer
    return answer.decode()


# --- 1. The sender is the real address ------------------------------------------------------


@pytest.mark.parametrize(
    ("from_headers", "customer"),
    [
        ([f"From: {ANN} <{ATTACKER}>"], ATTACKER),
        ([f'From: "{ANN} <{ANN}>" <{ATTACKER}>'], ATTACKER),
        ([f"From: =?utf-8?q?Ann_=3Cann=40cust.example=3E?= <{ATTACKER}>"], ATTACKER),
        ([f"From: {ATTACKER} ({ANN})"], ATTACKER),
        # Ann's address first, but not alone: ambiguous, so not trusted with [#1].
        ([f"From: {ANN}, {ATTACKER}"], ANN),
        ([f"From: {ANN}", f"From: {ATTACKER}"], ANN),
        ([f"From: Ann's friends: {ANN};"], ANN),
    ],
    ids=["unquoted", "quoted-angle", "encoded-word", "comment", "two-addresses", "two-fields",
         "group"],
)  # fmt: skip
def test_a_name_that_looks_like_anns_address_does_not_join_her_ticket(ann, from_headers, customer):
    answer = send(ann, mail(*from_headers))
    assert "ticket #2" in answer
    assert len(inbound(ann, 1)) == 1  # Ann's ticket has only Ann's message
    assert customer_of(ann, 2) == customer
    assert "Send the refund to me." in posted_thread(ann, 2)[1]["text"]


def test_the_thread_shows_the_name_in_quotes_beside_the_real_address(ann):
    send(ann, mail(f"From: {ANN} <{ATTACKER}>", subject="Refund"))
    root, message = posted_thread(ann, 2)
    header = json.dumps(message["blocks"][0])
    assert '*\\"ann@cust.example\\"* &lt;attacker@evil.example&gt;' in header
    assert '\\"ann@cust.example\\" (attacker@evil.example)' in json.dumps(root["blocks"])


def test_a_reply_goes_to_the_real_address_not_a_garbled_encoded_word(database_url):
    first = mail("From: =?utf-8?q?a@b?= <carol@cust.example>", subject="Hello", body="Hi there")
    with staffed_helpdesk(database_url) as (helpdesk, slack, sink):
        desk = Desk(helpdesk, slack, sink, first_mail=first)
        reply = replied(desk)
    assert sink.messages[0][0] == ["carol@cust.example"]
    assert reply["To"].addresses[0].addr_spec == "carol@cust.example"


def test_replies_go_to_the_from_address_never_to_reply_to(ann):
    """Reply-To is ignored: with it, anyone forging Ann's From would receive her answers."""
    send(ann, mail(f"From: Ann <{ANN}>", f"Reply-To: {ATTACKER}", body="Any news?"))
    assert eventually(lambda: len(inbound(ann, 1)) == 2)  # Ann's own follow-up joins #1
    reply = replied(ann)
    assert ann.sink.messages[0][0] == [ANN]
    assert [a.addr_spec for a in reply["To"].addresses] == [ANN]


# --- 2. Unverified senders ----------------------------------------------------------------

DMARC_FAIL = "Authentication-Results: mx.shop.example; dmarc=fail header.from=cust.example"


@pytest.mark.parametrize(
    "results",
    [
        [DMARC_FAIL],
        ["Authentication-Results: mx.shop.example; spf=fail smtp.mailfrom=cust.example; "
         "dkim=fail header.d=cust.example"],
        # A "pass" the sender wrote further down doesn't count.
        [DMARC_FAIL, "Authentication-Results: mx.shop.example; dmarc=pass; spf=pass; dkim=pass"],
    ],
    ids=["dmarc", "spf-and-dkim", "forged-pass-below"],
)  # fmt: skip
def test_an_unverified_sender_opens_a_new_ticket_marked_unverified(ann, results):
    token = ann.ticket().reply_token
    reply_address = f"support+{token}@shop.example"
    # Ann's ticket number in the subject and her ticket's reply address as the recipient.
    send(ann, mail(*results, f"From: Ann <{ANN}>"), [reply_address])
    assert len(inbound(ann, 1)) == 1
    [message] = inbound(ann, 2)
    assert message.unverified_sender and message.unverified_sender.startswith(("dmarc", "spf"))
    shown = json.dumps(posted_thread(ann, 2)[1]["blocks"])
    assert "*Unverified sender*" in shown and "may not be from ann@cust.example" in shown


def test_a_forged_fail_below_the_servers_pass_changes_nothing(ann):
    headers = ["Authentication-Results: mx.shop.example; dmarc=pass", DMARC_FAIL]
    send(ann, mail(*headers, f"From: Ann <{ANN}>"))
    assert eventually(lambda: len(inbound(ann, 1)) == 2)
    assert inbound(ann, 1)[1].unverified_sender is None


def test_an_unverified_reply_to_our_message_id_still_threads(ann):
    """Our Message-ID only reached the conversation's members, unlike a ticket number."""
    reply = replied(ann)
    send(ann, mail(DMARC_FAIL, f"From: Ann <{ANN}>", f"In-Reply-To: {reply['Message-ID']}"))
    assert eventually(lambda: len(inbound(ann, 1)) == 2)
    assert inbound(ann, 1)[1].unverified_sender == "dmarc=fail"
    assert ticket_count(ann) == 1
    assert eventually(lambda: "Unverified sender" in json.dumps(ann.slack.thread(
        CHANNEL, ann.root_ts)[-1]["blocks"]))  # fmt: skip


def test_the_policy_names_the_receiving_server(database_url):
    """mail.authserv_id: its headers count wherever they are; a hop above it doesn't."""
    policy = Policy(mail=MailPolicy(authserv_id="mx.shop.example"))
    with anns_desk(database_url, policy) as desk:
        headers = ["Authentication-Results: relay.other.example; dmarc=pass", DMARC_FAIL]
        send(desk, mail(*headers, f"From: Ann <{ANN}>"))
        assert eventually(lambda: ticket_count(desk) == 2)
        assert len(inbound(desk, 1)) == 1
        assert inbound(desk, 2)[0].unverified_sender == "dmarc=fail"


# --- 3. The loop guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["support", "reply-address", "inbox", "reply-message-id", "survey-message-id",
     "pre-upgrade-reply-message-id"],
)  # fmt: skip
def test_the_helpdesks_own_mail_never_becomes_a_ticket_or_a_thread_message(database_url, case):
    policy = Policy(inboxes=[Inbox(address=RETURNS, channel=CHANNEL)])
    with anns_desk(database_url, policy) as desk:
        reply_id = replied(desk)["Message-ID"]
        if case == "pre-upgrade-reply-message-id":
            # A reply sent before our ids took a recognisable form: known from the database.
            reply_id = _made_old_style(desk)
        token = desk.ticket().reply_token
        headers = {
            "support": [f"From: Support <{SUPPORT}>"],
            "reply-address": [f"From: support+{token}@shop.example"],
            "inbox": [f"From: Returns <{RETURNS}>"],
            # Our reply, bounced back verbatim by a forwarding rule.
            "reply-message-id": [f"From: Ann <{ANN}>", f"Message-ID: {reply_id}"],
            "pre-upgrade-reply-message-id": [f"From: Ann <{ANN}>", f"Message-ID: {reply_id}"],
            "survey-message-id": [f"From: Ann <{ANN}>",
                                  f"Message-ID: <{new_message_id(SUPPORT)}>"],
        }[case]  # fmt: skip
        answer = send(desk, mail(*headers, body="Looping back"))
        assert "not turned into a ticket: loop" in answer
        # A customer's reply carries our ids in In-Reply-To and References, and joins by them
        # (no ticket number in its subject).
        thread_headers = [
            f"From: Ann <{ANN}>",
            f"In-Reply-To: {reply_id}",
            f"References: {reply_id}",
        ]
        send(desk, mail(*thread_headers, subject="Re: Broken mug", body="Thanks!"))
        assert eventually(lambda: len(inbound(desk, 1)) == 2)
        assert [m.body for m in inbound(desk, 1)] == ["My mug arrived broken.", "Thanks!"]
        assert ticket_count(desk) == 1
        assert not any("Looping back" in text for text in desk.thread_texts())


def _made_old_style(desk: Desk) -> str:
    """Gives the agent's reply an id as the helpdesk made them before (`make_msgid`)."""
    old_style = make_msgid(domain="shop.example")
    with transaction(desk.helpdesk.engine) as session:
        reply = session.exec(select(Message).where(Message.direction == Direction.OUTBOUND)).one()
        reply.email_message_id = old_style.strip("<>")
    return old_style
