"""Shopify order context on tickets, against the fake Admin GraphQL API over real HTTP."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from sqlmodel import Session, select

from bot.config import Policy, ShopifyPolicy
from bot.core.outbox import SHOPIFY_CONTEXT
from bot.devtools.fake_shopify import FakeShopify
from bot.storage.models import Customer, OutboxItem, OutboxStatus, SavedReply, Ticket
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SlackAgent,
    answer_block,
    customer_mail,
    eventually,
    smtp_send,
    staffed_helpdesk,
)
from tests.e2e.test_check import migrated, run_check


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


BOB = "Bob Norman <bob.norman@hostmail.com>"
TOKEN = "shpat_test_token"
POLICY = Policy(shopify=ShopifyPolicy(timeout="2s"))


@contextmanager
def shop_desk(database_url: str, shop: FakeShopify, token: str = TOKEN):
    with staffed_helpdesk(
        database_url, POLICY, shopify_shop="acme", shopify_access_token=token,
        shopify_api_url=shop.url,
    ) as desk:  # fmt: skip
        yield desk


def thread_of_ticket(slack, number: int = 1) -> list[dict]:
    roots = [m for m in slack.messages_in(CHANNEL) if m["text"].startswith(f"#{number} ")]
    return slack.thread(CHANNEL, roots[0]["ts"]) if roots else []


def context_post(slack, number: int = 1) -> str:
    """The thread's Shopify post, as JSON text, once it is there."""
    assert eventually(
        lambda: any("Shopify" in m["text"] for m in thread_of_ticket(slack, number)), timeout=20
    )
    post = next(m for m in thread_of_ticket(slack, number) if "Shopify" in m["text"])
    return json.dumps(post)


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()
        yield fake


def test_an_email_from_a_known_customer_gets_their_orders_in_the_thread(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        mail = customer_mail("Where is my iPod? Thanks, Bob", sender=BOB, subject="Order status")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        post = context_post(slack)
        assert "Bob Norman" in post
        assert "#1001" in post
        assert "1Z2345" in post
        assert "admin.shopify.com/store/acme/orders/450789469" in post

        def bobs_shopify_id() -> str | None:
            # Recorded in the transaction after the post, so a moment after it shows.
            with Session(helpdesk.engine) as session:
                bob = session.exec(select(Customer).where(Customer.email.contains("bob"))).one()
            return bob.shopify_id

        assert eventually(lambda: bobs_shopify_id() == "gid://shopify/Customer/207119551")
    searched = [call.variables for call in shop.calls if call.operation == "customers"]
    assert searched[0]["query"] == 'email:"bob.norman@hostmail.com"'


def test_a_stranger_quoting_an_order_number_is_not_matched_through_the_order(database_url, shop):
    """Order numbers are guessable: quoting one names its customer masked, nothing more (the
    whole story, linking on proof included, is in test_shopify_other_customers.py)."""
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        mail = customer_mail(
            "Hi, my order #1001 hasn't arrived, and what about order 4242?",
            sender="Robert <robert.work@office.example>",
        )
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        post = context_post(slack)
    assert "No Shopify customer has the address robert.work@office.example" in post
    assert "#1001" in post and "B*** N***" in post
    assert "Bob" not in post and "1Z2345" not in post and "409.94" not in post
    assert "Not found in Shopify: #4242" in post


def test_an_address_with_quotes_and_or_cannot_widen_the_search(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        sender = '"x\\" OR email:*"@evil.example'
        mail = customer_mail("Show me everyone's orders", sender=f"Eve <{sender}>")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        post = context_post(slack)
    assert "No Shopify customer has the address" in post and "Bob" not in post
    [search] = [call.variables["query"] for call in shop.calls if call.operation == "customers"]
    assert search.startswith('email:"') and '\\"' in search  # one quoted value, quote escaped
    assert all("bob" not in json.dumps(call.variables) for call in shop.calls)


def test_shopify_down_holds_up_nothing_and_is_retried(database_url, shop):
    shop.fail_next(100, status=500)
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail(sender=BOB))[0] == 250
        assert eventually(lambda: len(thread_of_ticket(slack)) >= 2, timeout=10)
        texts = [m["text"] for m in thread_of_ticket(slack)]
        assert texts[1] == "Hello, where is my order?"  # the customer's message came first

        def retrying() -> str | None:
            with Session(helpdesk.engine) as session:
                row = session.exec(
                    select(OutboxItem).where(OutboxItem.kind == SHOPIFY_CONTEXT)
                ).one()
                return row.last_error if row.status == OutboxStatus.PENDING else None

        assert eventually(lambda: retrying() is not None, timeout=15)
        assert "Shopify" in retrying()
        assert not any("Shopify" in m["text"] for m in thread_of_ticket(slack))


def test_a_wrong_token_is_explained_in_the_thread(database_url, shop):
    with shop_desk(database_url, shop, token="shpat_wrong") as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail(sender=BOB))[0] == 250
        post = context_post(slack)
    assert "Shopify order context is missing" in post
    assert "SHOPIFY_ACCESS_TOKEN" in post


def test_check_verifies_the_token_and_names_missing_scopes(tmp_path, shop):
    from bot.devtools.fake_slack import FakeSlack

    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        env = {"SHOPIFY_SHOP": "acme", "SHOPIFY_ACCESS_TOKEN": TOKEN, "SHOPIFY_API_URL": shop.url}
        good = run_check(tmp_path, slack, **env)
        shop.scopes = {"read_customers"}
        missing = run_check(tmp_path, slack, **env)
        wrong = run_check(tmp_path, slack, **{**env, "SHOPIFY_ACCESS_TOKEN": "shpat_nope"})
    assert good.returncode == 0, good.stdout
    assert "scopes include read_customers, read_orders" in " ".join(good.stdout.split())
    assert missing.returncode == 1
    assert "lacks read_orders" in " ".join(missing.stdout.split())
    assert wrong.returncode == 1
    assert "SHOPIFY_ACCESS_TOKEN" in " ".join(wrong.stdout.split())


def test_check_says_which_actions_the_token_allows_and_why_not(tmp_path, shop):
    from bot.devtools.fake_slack import FakeSlack

    migrated(tmp_path)
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        env = {"SHOPIFY_SHOP": "acme", "SHOPIFY_ACCESS_TOKEN": TOKEN, "SHOPIFY_API_URL": shop.url}
        every = run_check(tmp_path, slack, **env)
        shop.scopes = {"read_customers", "read_orders", "write_orders"}
        some = run_check(tmp_path, slack, **env)
        shop.scopes = {"read_customers", "read_orders"}
        none = run_check(tmp_path, slack, **env)
    assert "all available: refund, cancel, address, reship, discount" in " ".join(
        every.stdout.split()
    )
    some_out = " ".join(some.stdout.split())
    assert some.returncode == 0, some_out  # a warning: the desk works without actions
    assert "available: refund, cancel, address;" in some_out
    assert "reship needs write_draft_orders; discount needs write_discounts" in some_out
    none_out = " ".join(none.stdout.split())
    assert "available: none; refund, cancel, address need write_orders" in none_out


class ShopDesk:
    """The one ticket of a helpdesk connected to the fake shop, once its Shopify post is in the
    thread, and the agent working it. Keeps the helpdesk's answers to Slack's requests."""

    def __init__(self, helpdesk, slack, number: int = 1):
        self.helpdesk, self.slack = helpdesk, slack
        self.agent = SlackAgent(helpdesk.http_port, slack)
        self.answers: list[str] = []
        self.post = json.loads(context_post(slack, number))
        with Session(helpdesk.engine) as session:
            self.ticket_id, self.root_ts = session.exec(
                select(Ticket.id, Ticket.thread_ts).where(Ticket.number == number)
            ).one()

    def send(self, payload: dict):
        answer = self.agent.sender.send_interaction(payload)
        self.answers.append(answer.body)
        return answer

    def open(self, action_id: str) -> dict:
        opened = len(self.slack.calls("views.open"))
        assert self.agent.click(self.ticket_id, self.root_ts, action_id).status == 200
        return self.agent.opened_view(after=opened)

    def order_menu(self, view: dict, typed: str = "") -> list[dict]:
        answer = self.send(
            {"type": "block_suggestion", "user": AGENT, "team": {"id": "T0FAKE"},
             "api_app_id": "A0HELPDESK", "action_id": ids.REPLY_ORDER_PICK,
             "block_id": ids.REPLY_HELPERS_BLOCK, "value": typed,
             "view": view}
        )  # fmt: skip
        return answer.json()["options"]

    def pick(self, view: dict, action_id: str, value: str, kind: str = "static_select") -> dict:
        """Chooses `value` in one of the modal's menus; the view Slack was then told to show,
        or {} when the helpdesk left it as it was."""
        updates = len(self.slack.calls("views.update"))
        self.send(
            {"type": "block_actions", "user": AGENT, "team": {"id": "T0FAKE"},
             "api_app_id": "A0HELPDESK", "trigger_id": "1.4",
             "view": {**view, "state": {"values": {}}},
             "actions": [{"type": kind, "action_id": action_id,
                          "block_id": ids.REPLY_HELPERS_BLOCK, "action_ts": "1.4",
                          "selected_option": {"value": value}}]}
        )  # fmt: skip
        if not eventually(lambda: len(self.slack.calls("views.update")) > updates, timeout=3):
            return {}
        return self.slack.calls("views.update")[-1].args["view"]

    def pick_order(self, view: dict, value: str) -> dict:
        return self.pick(view, ids.REPLY_ORDER_PICK, value, kind="external_select")


@pytest.fixture
def shop_work(database_url, shop):
    with shop_desk(database_url, shop) as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail("Where is it?", sender=BOB))[0] == 250
        desk = ShopDesk(helpdesk, slack)

        def bob() -> Customer:
            with Session(helpdesk.engine) as session:
                return session.exec(select(Customer)).one()

        assert eventually(lambda: bob().shopify_id is not None)  # recorded after the post
        yield desk


def test_the_orders_modal_looks_up_an_order_by_number_and_a_customer_by_email(shop_work):
    desk = shop_work
    view = desk.open(ids.TICKET_ORDERS)
    assert view["callback_id"] == ids.ORDER_LOOKUP_MODAL
    search = view["blocks"][0]["element"]
    assert search["initial_value"] == "bob.norman@hostmail.com"  # the ticket's customer

    def look_up(query: str) -> str:
        updates = len(desk.slack.calls("views.update"))
        values = {ids.ORDER_LOOKUP_BLOCK: {ids.ORDER_LOOKUP: {"value": query}}}
        answer = desk.agent.submit(view, values)
        assert answer.status == 200
        if answer.json().get("response_action") == "errors":
            return json.dumps(answer.json())
        assert "Asking Shopify" in json.dumps(answer.json()["view"])
        desk.slack.wait_for(lambda: len(desk.slack.calls("views.update")) > updates)
        return json.dumps(desk.slack.calls("views.update")[-1].args["view"])

    by_number = look_up("1001")
    assert "#1001" in by_number and "1Z2345" in by_number
    by_email = look_up("bob.norman@hostmail.com")
    assert "Bob Norman" in by_email and "#1001" in by_email
    assert "No orders found for #9999" in look_up("#9999")
    assert "Type an order number" in look_up("drop table orders")


def test_an_orders_status_goes_into_the_reply_and_only_the_customers_own(shop_work, shop):
    desk = shop_work
    view = desk.open(ids.TICKET_REPLY)
    picker = next(
        e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
        if e["action_id"] == ids.REPLY_ORDER_PICK
    )  # fmt: skip
    assert picker["type"] == "external_select"
    assert [o["value"] for o in desk.order_menu(view)] == ["#1001"]

    updated = desk.pick_order(view, "#1001")
    answer = answer_block(updated)["element"]["initial_value"]
    assert "#1001" in answer and "1Z2345" in answer

    alice = shop.add_customer(1234, "Alice Other", "alice@elsewhere.example")
    shop.add_order(1002, "#1002", customer=alice)
    menu = desk.order_menu(view, "1002")
    assert menu[0]["text"]["text"] == "#1002: a different customer's order"
    refused = desk.pick_order(view, "#1002")  # a forged pick inserts nothing, and says why
    assert "#1002 is not this customer's order" in json.dumps(refused)
    assert "initial_value" not in answer_block(refused)["element"]


def test_saved_replies_fill_in_the_latest_order(shop_work):
    desk = shop_work
    with Session(desk.helpdesk.engine) as session:
        reply = SavedReply(
            title="Where is it",
            body="Hi {{customer.first_name}}, {{order.name}} is {{order.status}}: "
            "{{order.tracking_url}}",
            created_by=AGENT["id"],
        )
        session.add(reply)
        session.commit()
        reply_id = reply.id
    view = desk.open(ids.TICKET_REPLY)
    updated = desk.pick(view, ids.REPLY_SAVED_PICK, str(reply_id))
    text = answer_block(updated)["element"]
    assert text["initial_value"] == (
        "Hi Bob, #1001 is authorized and unfulfilled: http://wwwapps.ups.com/etracking/"
        "tracking.cgi?InquiryNumber1=1Z2345&TypeOfInquiryNumber=T&AcceptUPSLicenseAgreement=yes"
        "&submit=Track"
    )
