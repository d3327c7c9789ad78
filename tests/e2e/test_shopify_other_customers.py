"""Issue 16: a quoted order number never reveals another customer's data.

A stranger (or an anonymous chat visitor) writes "my order #2001", an order of Jane's. The
thread names the order and a masked name only; nothing of Jane's can go into a reply; an
agent links the ticket to Jane only when the writer proves it with the order's email address
or postcode, checked against the fake shop over HTTP. Everything through the real interfaces:
SMTP, the chat API, signed Slack requests, the fake Slack and the fake Shopify.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, select

from bot.core.customer_links import LINKED, MAX_WRONG_PROOFS, WRONG_PROOF
from bot.devtools.fake_shopify import FakeShopify
from bot.storage.models import Customer, SavedReply, Ticket, TicketEvent
from bot.views import ids
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    answer_block,
    customer_mail,
    eventually,
    smtp_send,
)
from tests.e2e.test_shopify_context import TOKEN, ShopDesk, shop_desk, thread_of_ticket


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


JANE_ID = "gid://shopify/Customer/5550001"
JANE_EMAIL = "jane.private@home.example"
POSTCODE = "SW1A 1AA"
# Everything of Jane's that must never reach Slack unless the ticket is linked to her.
JANES_SECRETS = ("Jane", "Doe", "jane.private", "987.65", "4321", "1ZJANE999", "track.example",
                 "SW1A", "sw1a", "vip-secret", "5550001", "7770001")  # fmt: skip
# What someone who knows Jane's address must still never see: everything but her address
# and the name on file for it (the thread names the ticket's customer as they gave it).
JANES_ORDER_SECRETS = tuple(s for s in JANES_SECRETS if s not in ("Jane", "Doe", "jane.private"))
STRANGER = "Mallory <mallory@evil.example>"
SLACKS_OWN_NUMBERS = re.compile(r"\b\d{10}\.\d{6}\b|\b[A-Z]0[A-Z]+\d+\b")
DMARC_FAIL = "mx.shop.example; dmarc=fail header.from=home.example"
OUTSIDER = {"id": "U0OUTSIDER", "username": "eve", "name": "eve", "team_id": "T0FAKE"}


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()
        jane = fake.add_customer(5550001, "Jane Doe", JANE_EMAIL, amount_spent="4321.00",
                                 tags=["vip-secret"])  # fmt: skip
        fake.add_order(
            7770001, "#2001", customer=jane, total="987.65", fulfillment_status="FULFILLED",
            tracking=[{"number": "1ZJANE999", "url": "https://track.example/1ZJANE999",
                       "company": "UPS"}],
            shipping_zip=POSTCODE, billing_zip="EC1A 1BB",
        )  # fmt: skip
        yield fake


class StrangerDesk(ShopDesk):
    """The ticket of someone quoting Jane's order (or giving her address), and the agent."""

    def ticket(self) -> Ticket:
        with Session(self.helpdesk.engine) as session:
            return session.get(Ticket, self.ticket_id)

    def events(self, kind: str) -> list[TicketEvent]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(TicketEvent).where(TicketEvent.kind == kind)).all())

    def everything_slack_saw(self) -> str:
        """Every Web API call the helpdesk made, and every answer it gave Slack's requests."""
        calls = [{"args": r.args, "response": r.response} for r in self.slack.requests]
        seen = json.dumps([calls, self.answers], ensure_ascii=False)
        # Slack's message timestamps and IDs are the fake's own counters and clock: digits a
        # secret like "4321" can happen to sit in ("1796297212.694321").
        return SLACKS_OWN_NUMBERS.sub("", seen)

    def open_reply(self) -> dict:
        return self.open(ids.TICKET_REPLY)

    def link_button(self) -> dict:
        return next(b["accessory"] for b in self.post["blocks"] if "accessory" in b)

    def click_link(self, user: dict = AGENT) -> dict | None:
        """Clicks the Shopify post's Link button; the modal opened, or None."""
        button = self.link_button()
        opened = len(self.slack.calls("views.open"))
        answer = self.send(
            {"type": "block_actions", "user": user, "team": {"id": "T0FAKE"},
             "api_app_id": "A0HELPDESK", "trigger_id": "1.5.trigger",
             "channel": {"id": "C0SUPPORT"}, "container": {"type": "message"},
             "message": {"ts": self.root_ts, "thread_ts": self.root_ts},
             "actions": [{"type": "button", "action_id": button["action_id"],
                          "value": button["value"], "action_ts": "1.5"}]}
        )  # fmt: skip
        assert answer.status == 200
        if not eventually(lambda: len(self.slack.calls("views.open")) > opened, timeout=3):
            return None
        return self.slack.calls("views.open")[-1].response["view"]

    def prove(self, view: dict, given: str, user: dict = AGENT) -> str:
        """Submits the link modal; the modal's text once the helpdesk has answered."""
        updates = len(self.slack.calls("views.update"))
        values = {ids.SHOPIFY_PROOF_BLOCK: {ids.SHOPIFY_PROOF: {"value": given}}}
        answer = self.agent.submit(view, values, user=user)
        self.answers.append(answer.body)
        assert answer.status == 200
        if answer.json().get("response_action") == "errors":
            return json.dumps(answer.json())
        assert "Checking with Shopify" in json.dumps(answer.json()["view"])
        assert eventually(lambda: len(self.slack.calls("views.update")) > updates, timeout=10)
        return json.dumps(self.slack.calls("views.update")[-1].args["view"])


@pytest.fixture
def stranger(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        mail = customer_mail("Hi, my order #2001 hasn't arrived!", sender=STRANGER)
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        yield StrangerDesk(helpdesk, slack)


def test_a_stranger_quoting_an_order_sees_only_a_masked_line(stranger):
    post = json.dumps(stranger.post)
    assert "#2001" in post and "J*** D***" in post and "different customer" in post
    assert "No Shopify customer has the address mallory@evil.example" in post
    for secret in JANES_SECRETS:
        assert secret not in stranger.everything_slack_saw(), secret
    with Session(stranger.helpdesk.engine) as session:
        mallory = session.exec(select(Customer)).one()
    assert mallory.shopify_id is None and stranger.ticket().shopify_customer_id is None


def test_nothing_of_that_order_goes_into_a_reply_even_forged(stranger):
    view = stranger.open_reply()
    assert stranger.order_menu(view) == []  # no orders of their own
    [named] = stranger.order_menu(view, "2001")
    assert named["text"]["text"] == "#2001: a different customer's order"
    # A forged pick (the menu's value comes back from the client) is refused, visibly.
    refused = stranger.pick_order(view, "#2001")
    assert "#2001 is not this customer's order" in json.dumps(refused)
    assert "initial_value" not in answer_block(refused)["element"]
    # Saved replies' {{order.*}} read as if there were no order.
    with Session(stranger.helpdesk.engine) as session:
        saved = SavedReply(title="Where", body="{{order.name}}: {{order.tracking_url}}.",
                           created_by=AGENT["id"])  # fmt: skip
        session.add(saved)
        session.commit()
        saved_id = saved.id
    view = stranger.open_reply()
    filled = stranger.pick(view, ids.REPLY_SAVED_PICK, str(saved_id))
    assert answer_block(filled)["element"]["initial_value"] == "your order: ."
    for secret in JANES_SECRETS:
        assert secret not in stranger.everything_slack_saw(), secret


def test_the_orders_modal_names_another_customers_order_masked(stranger):
    opened = len(stranger.slack.calls("views.open"))
    stranger.agent.click(stranger.ticket_id, stranger.root_ts, ids.TICKET_ORDERS)
    view = stranger.agent.opened_view(after=opened)

    def look_up(query: str) -> str:
        updates = len(stranger.slack.calls("views.update"))
        values = {ids.ORDER_LOOKUP_BLOCK: {ids.ORDER_LOOKUP: {"value": query}}}
        stranger.answers.append(stranger.agent.submit(view, values).body)
        assert eventually(lambda: len(stranger.slack.calls("views.update")) > updates)
        return json.dumps(stranger.slack.calls("views.update")[-1].args["view"])

    assert "belongs to a different customer (J*** D***)" in look_up("#2001")
    by_address = look_up(JANE_EMAIL)
    assert "is not the address of this ticket's customer" in by_address
    assert by_address.replace(JANE_EMAIL, "") == look_up("nobody@nowhere.example").replace(
        "nobody@nowhere.example", ""
    )  # the same answer whether Shopify knows the address or not
    for secret in JANES_SECRETS:
        assert secret not in stranger.everything_slack_saw().replace(JANE_EMAIL, ""), secret


def prove_counted(stranger: StrangerDesk, view: dict, given: str) -> str:
    """The modal's answer to `given` once Shopify answered: a loaded machine can outlast the
    test policy's Shopify timeout, which rightly records nothing ("Nothing changed")."""
    for _ in range(3):
        answer = stranger.prove(view, given)
        if "Nothing changed" not in answer:
            return answer
    return answer


def test_wrong_proofs_are_refused_counted_and_lock_linking(stranger, shop):
    view = stranger.click_link()
    assert view["callback_id"] == ids.SHOPIFY_LINK_MODAL
    first = stranger.prove(view, "00000")
    assert "not what Shopify has for order #2001" in first and "4 more tries" in first
    assert "jane.private@home.example" in json.dumps(
        [c.response for c in shop.calls if c.operation_name == "HelpdeskOrderProof"]
    )  # the proof was checked against the shop, not a copy
    assert "not what Shopify has" in stranger.prove(view, "someone@else.example")
    for attempt in range(MAX_WRONG_PROOFS - 2):
        assert "not what Shopify has" in prove_counted(stranger, view, f"0000{attempt}")
    locked = prove_counted(stranger, view, POSTCODE)  # even the right answer, once locked
    assert "linking is locked until" in locked
    wrong = stranger.events(WRONG_PROOF)
    assert len(wrong) == MAX_WRONG_PROOFS
    assert [e.data["tried"] for e in wrong[:2]] == ["postcode", "email"]
    assert all(e.actor == AGENT["id"] and e.data["order"] == "#2001" for e in wrong)
    logged = json.dumps([e.data for e in wrong])
    assert "0000" not in logged and "someone@else" not in logged
    assert stranger.ticket().shopify_customer_id is None and not stranger.events(LINKED)
    for secret in JANES_SECRETS:
        assert secret not in stranger.everything_slack_saw(), secret


def test_a_correct_postcode_links_the_ticket_and_then_reveals(stranger):
    view = stranger.click_link()
    linked = stranger.prove(view, "  sw1a1aa ")  # case and spaces don't matter
    assert "Ticket #1 is now linked" in linked
    assert stranger.ticket().shopify_customer_id == JANE_ID
    [event] = stranger.events(LINKED)
    assert event.actor == AGENT["id"]
    assert event.data == {"order": "#2001", "shopify_customer": JANE_ID, "proven_by": "postcode"}
    assert "sw1a" not in json.dumps([e.data for e in stranger.events(LINKED)]).lower()

    def revealed() -> str:
        return json.dumps([m for m in thread_of_ticket(stranger.slack) if "Jane" in m["text"]])

    assert eventually(lambda: "1ZJANE999" in revealed(), timeout=15)
    assert "Linked to this ticket" in revealed()
    notices = [m["text"] for m in thread_of_ticket(stranger.slack)]
    assert any(f"<@{AGENT['id']}> linked this ticket" in text for text in notices)

    reply = stranger.open_reply()
    assert [o["value"] for o in stranger.order_menu(reply)] == ["#2001"]
    inserted = stranger.pick_order(reply, "#2001")
    assert "1ZJANE999" in answer_block(inserted)["element"]["initial_value"]
    assert stranger.click_link() is None  # already linked: said privately, no modal
    assert "already linked" in json.dumps(stranger.slack.ephemeral_messages(AGENT["id"]))


def test_only_agents_may_link(stranger):
    assert stranger.click_link(user=OUTSIDER) is None
    assert "Only the support team" in json.dumps(stranger.slack.ephemeral_messages("U0OUTSIDER"))
    view = stranger.click_link()
    refused = stranger.prove(view, POSTCODE, user=OUTSIDER)
    assert "Only the support team" in refused
    assert stranger.ticket().shopify_customer_id is None and not stranger.events(WRONG_PROOF)


def test_an_anonymous_chat_visitor_owns_no_order_until_proven_by_email(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        visitor = ChatVisitor(helpdesk.http_port)
        assert visitor.start("Where is my order #2001?").status == 201
        desk = StrangerDesk(helpdesk, slack)
        assert "J*** D***" in json.dumps(desk.post)
        for secret in JANES_SECRETS:
            assert secret not in desk.everything_slack_saw(), secret
        linked = desk.prove(desk.click_link(), " JANE.Private@home.example ")
        assert "the email address matched" in linked
        assert desk.events(LINKED)[0].data["proven_by"] == "email"
        assert eventually(lambda: "1ZJANE999" in json.dumps(thread_of_ticket(slack)), timeout=15)


def test_shopify_down_while_checking_changes_nothing_and_says_so(stranger, shop):
    view = stranger.click_link()
    shop.fail_next(10, status=503)
    answer = stranger.prove(view, POSTCODE)
    assert "Nothing changed: Shopify is unavailable (HTTP 503)" in answer
    assert not stranger.events(WRONG_PROOF) and stranger.ticket().shopify_customer_id is None


def only_claimed(desk: StrangerDesk) -> str | None:
    """The ticket's Shopify post, Reply modal and order menu show nothing of Jane's orders,
    and the ticket is linked to no one; returns the Shopify id remembered for the address."""
    assert "is not verified" in json.dumps(desk.post)
    view = desk.open_reply()
    assert desk.order_menu(view) == []
    seen = json.dumps([desk.post, view, desk.answers], ensure_ascii=False)
    for secret in JANES_ORDER_SECRETS:
        assert secret not in seen, secret
    with Session(desk.helpdesk.engine) as session:
        jane = session.exec(select(Customer).where(Customer.email == JANE_EMAIL)).one()
        known = jane.shopify_id
    assert desk.ticket().shopify_customer_id is None
    return known


@pytest.mark.parametrize("jane_wrote_first", [False, True], ids=["unknown", "known"])
def test_an_address_typed_into_the_chat_is_only_a_claim(database_url, shop, jane_wrote_first):
    """Anyone can type Jane's address into the widget: her orders stay hidden, whether or not
    her own mail already told the helpdesk who she is in Shopify."""
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        if jane_wrote_first:
            mail = customer_mail("Hello!", sender=f"Jane Doe <{JANE_EMAIL}>")
            assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
            assert "1ZJANE999" in json.dumps(StrangerDesk(helpdesk, slack).post)  # her own
        visitor = ChatVisitor(helpdesk.http_port)
        started = visitor.start("Where is my parcel?", name="Mal", email=JANE_EMAIL)
        assert started.status == 201
        desk = StrangerDesk(helpdesk, slack, number=2 if jane_wrote_first else 1)
        assert "given in live chat" in json.dumps(desk.post)
        remembered = only_claimed(desk)
        assert (remembered is not None) == jane_wrote_first  # only from her own mail
        # Greeted by the name they gave, not the one on file for the address they typed.
        root = next(m for m in slack.messages_in(CHANNEL) if m["ts"] == desk.root_ts)
        view = desk.open_reply()
        reply = json.dumps(view)
        assert "Mal" in reply and "Jane" not in reply and "Jane" not in json.dumps(root)
        with Session(helpdesk.engine) as session:
            greeting = SavedReply(title="Hi", body="Hi {{customer.first_name}},",
                                  created_by=AGENT["id"])  # fmt: skip
            session.add(greeting)
            session.commit()
            greeting_id = greeting.id
        filled = desk.pick(desk.open_reply(), ids.REPLY_SAVED_PICK, str(greeting_id))
        assert answer_block(filled)["element"]["initial_value"] == "Hi Mal,"


def test_mail_from_janes_address_that_failed_dmarc_is_only_a_claim(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        mail = customer_mail("Where is my parcel?", sender=f"Jane Doe <{JANE_EMAIL}>")
        mail["Authentication-Results"] = DMARC_FAIL
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        desk = StrangerDesk(helpdesk, slack)
        assert "given by an unverified sender" in json.dumps(desk.post)
        assert only_claimed(desk) is None
