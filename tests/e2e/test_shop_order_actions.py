"""Issue 22: Cancel order, Change address, Reship and Discount from the ticket, end to end.

Bob writes about his orders; the agent acts from the ⋯ menu of an order in the thread's
Shopify post, from the Orders modal, and from the Reply modal once an order is picked. Every
click and submission is a signed Slack request; Slack is the fake Slack, the shop the fake
Shopify over HTTP, and the outbox sends each action and tells the thread and the modal.

On SQLite: what the database decides (one action per order at a time, the idempotency key)
runs on both backends in tests/core.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.config import Policy, ShopifyPolicy
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.slack_signing import new_trigger_id
from bot.integrations.shopify import ShopifyClient
from bot.integrations.shopify_actions import ShopifyActions
from bot.storage.models import ShopAction
from bot.views import ids
from bot.views.address_modal import field_block
from bot.views.reship_modal import line_block
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    answer_block,
    customer_mail,
    eventually,
    smtp_send,
    staffed_helpdesk,
)
from tests.e2e.test_shopify_context import BOB, TOKEN, ShopDesk

BOB_ORDER = "gid://shopify/Order/450789469"  # #1001: authorized, unfulfilled, two iPods
SHIPPED = "gid://shopify/Order/450789470"  # #1002: Bob's, paid and fulfilled
ALICES = "gid://shopify/Order/777000001"  # #3001: another customer's
POLICY = Policy(shopify=ShopifyPolicy(timeout="10s"))


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        bob = fake.seed_bob()
        fake.add_order(
            450789470,
            "#1002",
            customer=bob,
            financial_status="PAID",
            fulfillment_status="FULFILLED",
            total="25.00",
            line_items=[{"title": "Charger", "price": "25.00"}],
        )
        alice = fake.add_customer(777, "Alice Other", "alice@elsewhere.example")
        fake.add_order(777000001, "#3001", customer=alice, total="99.00")
        yield fake


class ActionDesk(ShopDesk):
    """Bob's ticket, its Shopify post, and the agent acting on his orders."""

    def menu(self, order_name: str) -> list[str]:
        """The choices of the order's ⋯ menu in the thread's post ([] when it has none)."""
        for block in self.post["blocks"]:
            if order_name in json.dumps(block.get("text", {})) and "accessory" in block:
                return [o["text"]["text"] for o in block["accessory"]["options"]]
        return []

    def choose(
        self,
        kind: str,
        order_id: str,
        view: dict | None = None,
        user: dict = AGENT,
        action_id: str = ids.SHOP_ACTION_MENU,
    ) -> dict:
        """Chooses an action on the order (from the thread's menu, or in `view`): the modal
        once the helpdesk has filled it in, as the fake Slack holds it."""
        opened = len(self.slack.calls("views.open")) + len(self.slack.calls("views.push"))
        value = f"{kind}:{self.ticket_id}:{order_id}"
        chosen = (
            {"type": "button", "value": value}
            if action_id == ids.SHOP_ACTION_BUTTON
            else {"type": "overflow", "selected_option": {"value": value}}
        )
        where = (
            {"view": view, "container": {"type": "view", "view_id": view["id"]}}
            if view
            else {
                "channel": {"id": CHANNEL},
                "container": {"type": "message"},
                "message": {"ts": self.root_ts, "thread_ts": self.root_ts},
            }
        )
        answer = self.send(
            {
                "type": "block_actions",
                "user": user,
                "team": {"id": "T0FAKE"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": new_trigger_id(),
                **where,
                "actions": [
                    {"action_id": action_id, "block_id": "b", "action_ts": "1.2", **chosen}
                ],
            }
        )
        assert answer.status == 200

        def opened_view() -> dict | None:
            made = self.slack.calls("views.open") + self.slack.calls("views.push")
            return made[-1].response.get("view") if len(made) > opened else None

        assert eventually(lambda: opened_view() is not None)
        view_id = opened_view()["id"]
        assert "Loading order" in json.dumps(opened_view())
        assert eventually(lambda: "Loading order" not in json.dumps(self.slack.view(view_id)))
        return self.slack.view(view_id)

    def submit_form(self, view: dict, values: dict, user: dict = AGENT) -> dict:
        answer = self.agent.submit(view, values, user=user)
        self.answers.append(answer.body)
        assert answer.status == 200
        return answer.json() if answer.body else {}

    def outcome(self, view_id: str, timeout: float = 20) -> str:
        """The modal once the outbox has Shopify's answer (the small modal, not a form)."""

        def told() -> bool:
            view = self.slack.view(view_id)
            shown = json.dumps(view)
            told = ":white_check_mark:" in shown or ":warning:" in shown
            return told and view["callback_id"] == ids.SHOP_ACTION_PROGRESS_MODAL

        assert eventually(told, timeout=timeout), json.dumps(self.slack.view(view_id))
        return json.dumps(self.slack.view(view_id), ensure_ascii=False)

    def thread_text(self) -> str:
        root = next(m for m in self.slack.messages_in(CHANNEL) if m["ts"] == self.root_ts)
        return json.dumps(self.slack.thread(CHANNEL, root["ts"]), ensure_ascii=False)

    def actions(self) -> list[ShopAction]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(ShopAction).order_by(ShopAction.id)))


@contextmanager
def bobs_ticket(database_url: str, shop: FakeShopify, policy: Policy = POLICY):
    """A helpdesk connected to the shop, and Bob's ticket once its Shopify post is there."""
    with staffed_helpdesk(
        database_url,
        policy,
        shopify_shop="acme",
        shopify_access_token=TOKEN,
        shopify_api_url=shop.url,
    ) as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail("About my orders", sender=BOB))[0] == 250
        yield ActionDesk(helpdesk, slack)


@pytest.fixture
def desk(database_url, shop):
    with bobs_ticket(database_url, shop) as desk:
        yield desk


def cancel_values(reason: str = "CUSTOMER", options=("restock", "notify")) -> dict:
    return {
        ids.SHOP_CANCEL_REASON_BLOCK: {
            ids.SHOP_CANCEL_REASON: {"selected_option": {"value": reason}}
        },
        ids.SHOP_CANCEL_OPTIONS_BLOCK: {
            ids.SHOP_CANCEL_OPTIONS: {"selected_options": [{"value": o} for o in options]}
        },
        ids.SHOP_CANCEL_NOTE_BLOCK: {ids.SHOP_CANCEL_NOTE: {"value": "Asked by email"}},
    }


def address_values(**given: str) -> dict:
    address = {
        "name": "Bob Norman",
        "address1": "1 New Road",
        "address2": "",
        "city": "Ottawa",
        "province_code": "ON",
        "zip": "K1A 0B1",
        "country_code": "CA",
        "phone": "",
        **given,
    }
    return {field_block(k): {ids.SHOP_ADDRESS_INPUT: {"value": v}} for k, v in address.items()}


def discount_values(
    code: str, value: str = "15", kind: str = "percentage", expires: str | None = None
) -> dict:
    expires = expires or (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    return {
        ids.SHOP_DISCOUNT_CODE_BLOCK: {ids.SHOP_DISCOUNT_CODE: {"value": code}},
        ids.SHOP_DISCOUNT_KIND_BLOCK: {
            ids.SHOP_DISCOUNT_KIND: {"selected_option": {"value": kind}}
        },
        ids.SHOP_DISCOUNT_VALUE_BLOCK: {ids.SHOP_DISCOUNT_VALUE: {"value": value}},
        ids.SHOP_DISCOUNT_EXPIRY_BLOCK: {ids.SHOP_DISCOUNT_EXPIRY: {"selected_date": expires}},
    }


def test_each_order_in_the_thread_offers_what_its_state_allows(desk):
    assert desk.menu("#1001") == ["Cancel order", "Change address", "Reship", "Discount"]
    # Shipped: no cancelling, no new address; paid: a refund.
    assert desk.menu("#1002") == ["Refund", "Reship", "Discount"]
    # Refund is shop-core's modal, opened from the same menu.
    assert desk.choose("refund", SHIPPED)["callback_id"] == ids.SHOP_REFUND_MODAL


def test_cancelling_an_unfulfilled_order(desk, shop):
    form = desk.choose("cancel", BOB_ORDER)
    assert form["callback_id"] == ids.SHOP_CANCEL_MODAL
    answer = desk.submit_form(form, cancel_values())
    assert answer["response_action"] == "update"
    assert "Cancelling #1001" in json.dumps(answer["view"])
    shown = desk.outcome(form["id"])
    assert "cancelled #1001" in shown.lower()
    assert eventually(lambda: "#1001" in desk.thread_text() and "cancelled" in desk.thread_text())
    assert shop.order(BOB_ORDER).cancelled_at is not None
    [cancel] = shop.calls_to("orderCancel")
    assert cancel.variables["reason"] == "CUSTOMER" and cancel.variables["restock"] is True
    # The same submission again (Slack's retry) is the same action: Shopify is not asked twice.
    desk.submit_form(form, cancel_values())
    assert len(desk.actions()) == 1 and len(shop.calls_to("orderCancel")) == 1


def test_a_fulfilled_order_is_neither_cancelled_nor_readdressed_even_forged(desk, shop):
    for kind in ("cancel", "address"):
        refused = json.dumps(desk.choose(kind, SHIPPED))
        assert "#1002 is fulfilled: only an unfulfilled order can be" in refused
    assert desk.actions() == []
    assert not shop.calls_to("orderCancel") and not shop.calls_to("orderUpdate")


def test_changing_the_address_shows_old_and_new(desk, shop):
    form = desk.choose("address", BOB_ORDER)
    prefilled = json.dumps(form)
    assert "Chestnut Street 92" in prefilled and "40202" in prefilled
    refused = desk.submit_form(form, address_values(city=" ", country_code="Canada"))
    assert refused["response_action"] == "errors"
    assert set(refused["errors"]) == {field_block("city"), field_block("country_code")}
    assert desk.actions() == []
    desk.submit_form(form, address_values())
    shown = desk.outcome(form["id"])
    assert "Chestnut Street 92" in shown and "1 New Road" in shown
    assert eventually(lambda: "1 New Road" in desk.thread_text())
    assert "Chestnut Street 92" in desk.thread_text()
    assert shop.order(BOB_ORDER).shipping_address["address1"] == "1 New Road"


def test_reshipping_chosen_items_makes_a_free_order_named_in_the_thread(desk, shop):
    form = desk.choose("reship", BOB_ORDER)
    too_many = {line_block(0): {ids.SHOP_RESHIP_QUANTITY: {"value": "5"}}}
    refused = desk.submit_form(form, too_many)
    assert refused["errors"] == {line_block(0): "At most 1: the order has 1."}
    assert desk.submit_form(form, {})["errors"] == {
        line_block(0): "Choose at least one item to send again."
    }
    desk.submit_form(form, {line_block(1): {ids.SHOP_RESHIP_QUANTITY: {"value": "1"}}})
    desk.outcome(form["id"])
    [action] = desk.actions()
    assert action.state == "done", (action.state, action.errors)
    made = action.result["order_name"]
    assert made and made in desk.thread_text()
    replacement = shop.order(action.result["order_id"])
    assert [(line.sku, line.quantity) for line in replacement.line_items] == [("IPOD2008RED", 1)]
    assert replacement.total == 0  # free
    assert replacement.shipping_address["address1"] == "Chestnut Street 92"  # the order's


def test_a_discount_code_that_exists_is_a_field_error_after_shopify_says_so(desk, shop):
    client = ShopifyClient("acme", TOKEN, api_url=shop.url)
    ShopifyActions(client).create_discount(
        "SORRY-TAKEN",
        10,
        None,
        "gid://shopify/Customer/207119551",
        datetime.now(UTC) + timedelta(days=5),
        "earlier",
    )
    form = desk.choose("discount", BOB_ORDER)
    code = next(b for b in form["blocks"] if b.get("block_id") == ids.SHOP_DISCOUNT_CODE_BLOCK)
    assert code["element"]["initial_value"].startswith("SORRY-")  # made up, editable
    bad = desk.submit_form(form, discount_values("SORRY-NEW", value="0"))
    assert bad["errors"] == {ids.SHOP_DISCOUNT_VALUE_BLOCK: "A percentage from 1 to 100."}
    past = desk.submit_form(form, discount_values("SORRY-NEW", expires="2020-01-01"))
    assert ids.SHOP_DISCOUNT_EXPIRY_BLOCK in past["errors"]
    euros = desk.submit_form(form, discount_values("SORRY-NEW", "10 EUR", kind="amount"))
    assert "USD, the shop's currency" in euros["errors"][ids.SHOP_DISCOUNT_VALUE_BLOCK]
    desk.submit_form(form, discount_values("SORRY-TAKEN"))

    def shown_again() -> dict:
        view = desk.slack.view(form["id"])
        return (
            view
            if view["callback_id"] == ids.SHOP_DISCOUNT_MODAL and "warning" in json.dumps(view)
            else {}
        )

    assert eventually(lambda: shown_again(), timeout=20)
    blocks = shown_again()["blocks"]
    at = next(i for i, b in enumerate(blocks) if b.get("block_id") == ids.SHOP_DISCOUNT_CODE_BLOCK)
    assert ":warning:" in json.dumps(blocks[at + 1])  # under the code
    # Another code is a new submission of the same form, and goes through.
    again = desk.slack.view(form["id"])
    desk.submit_form(again, discount_values("SORRY-FRESH"))
    assert "SORRY-FRESH" in desk.outcome(form["id"])
    assert eventually(lambda: "SORRY-FRESH" in desk.thread_text())


def test_a_discount_from_the_reply_modal_goes_into_the_answer(desk, shop):
    reply = desk.open(ids.TICKET_REPLY)
    picked = desk.pick_order(reply, "#1001")
    buttons = next(b for b in picked["blocks"] if b.get("block_id") == ids.SHOP_ORDER_ACTIONS_BLOCK)
    assert [e["text"]["text"] for e in buttons["elements"]] == [
        "Cancel order",
        "Change address",
        "Reship",
        "Discount",
    ]
    typed = {
        **picked,
        "id": reply["id"],
        "state": {
            "values": {
                answer_block(picked)["block_id"]: {
                    ids.REPLY_ANSWER: {"value": "Sorry about that, Bob."}
                }
            }
        },
    }
    form = desk.choose("discount", BOB_ORDER, view=typed, action_id=ids.SHOP_ACTION_BUTTON)
    assert desk.slack.calls("views.push"), "pushed over the Reply modal"
    desk.submit_form(form, discount_values("SORRY-REPLY"))
    desk.outcome(form["id"])

    def answer() -> str:
        view = desk.slack.view(reply["id"])
        return answer_block(view)["element"].get("initial_value", "")

    assert eventually(lambda: "SORRY-REPLY" in answer(), timeout=20)
    assert answer().startswith("Sorry about that, Bob.\n\n")
    assert "15% off" in answer()


def test_another_customers_order_is_never_offered_and_refused_if_forged(desk, shop):
    post = json.dumps(desk.post)
    assert "#3001" not in post
    for kind in ("cancel", "address", "reship", "discount"):
        refused = json.dumps(desk.choose(kind, ALICES))
        assert "not this ticket's customer's" in refused
        assert "Alice" not in refused and "99.00" not in refused
    # A form forged to name her order (its metadata comes back from the client) is refused.
    form = desk.choose("cancel", BOB_ORDER)
    metadata = json.loads(form["private_metadata"])
    metadata.update(
        order_id=ALICES,
        order_name="#3001",
        customer_id="gid://shopify/Customer/777",
        customer_email="alice@elsewhere.example",
    )
    forged = desk.submit_form({**form, "private_metadata": json.dumps(metadata)}, cancel_values())
    assert "not this ticket's customer's" in json.dumps(forged["view"])
    assert desk.actions() == []
    assert not any(call.operation.endswith(("Create", "Cancel", "Update")) for call in shop.calls)


def test_the_orders_modal_offers_the_actions_on_the_customers_orders(desk):
    view = desk.open(ids.TICKET_ORDERS)
    updates = len(desk.slack.calls("views.update"))
    values = {ids.ORDER_LOOKUP_BLOCK: {ids.ORDER_LOOKUP: {"value": "bob.norman@hostmail.com"}}}
    desk.agent.submit(view, values)
    desk.slack.wait_for(lambda: len(desk.slack.calls("views.update")) > updates)
    found = desk.slack.calls("views.update")[-1].args["view"]
    menus = {
        b["text"]["text"].split("|")[1].split(">")[0]: [
            o["text"]["text"] for o in b["accessory"]["options"]
        ]
        for b in found["blocks"]
        if "accessory" in b
    }
    assert menus == {
        "#1002": ["Refund", "Reship", "Discount"],
        "#1001": ["Cancel order", "Change address", "Reship", "Discount"],
    }
    form = desk.choose("address", BOB_ORDER, view={**found, "id": view["id"]})
    assert form["callback_id"] == ids.SHOP_ADDRESS_MODAL
    assert desk.slack.calls("views.push")


def test_a_missing_scope_hides_the_action_and_says_why(database_url, shop):
    shop.scopes -= {"write_discounts"}
    with bobs_ticket(database_url, shop) as desk:
        assert "Discount" not in desk.menu("#1001")
        assert "Discount needs `write_discounts`" in json.dumps(desk.post)
        refused = json.dumps(desk.choose("discount", BOB_ORDER))
        assert "needs the write_discounts scope" in refused


def test_an_action_the_policy_doesnt_list_is_offered_as_a_request_to_an_approver(
    database_url, shop
):
    policy = Policy(
        shopify=ShopifyPolicy(
            timeout="10s", approvers=["U0LEAD"], limits={AGENT["id"]: {"actions": ["discount"]}}
        )
    )
    with bobs_ticket(database_url, shop, policy) as desk:
        desk.slack.add_user("U0LEAD", "lee", real_name="Lee Lead")
        reply = desk.open(ids.TICKET_REPLY)
        picked = desk.pick_order(reply, "#1001")
        buttons = next(
            b for b in picked["blocks"] if b.get("block_id") == ids.SHOP_ORDER_ACTIONS_BLOCK
        )
        assert [e["text"]["text"] for e in buttons["elements"]] == [
            "Cancel order (needs approval)",
            "Change address (needs approval)",
            "Reship (needs approval)",
            "Discount",
        ]
        form = desk.choose("cancel", BOB_ORDER)
        desk.submit_form(form, cancel_values())

        def asked() -> bool:
            return "Sent for approval" in json.dumps(desk.slack.view(form["id"]))

        assert eventually(asked)
        [action] = desk.actions()
        assert action.state == "awaiting_approval" and not shop.calls_to("orderCancel")


def test_two_agents_who_both_opened_cancel_on_an_order_cancel_it_once(database_url, shop):
    sam = {**AGENT, "id": "U0AGENT2", "username": "sam", "name": "sam"}
    policy = Policy(agents=[AGENT["id"], sam["id"]], shopify=ShopifyPolicy(timeout="10s"))
    with bobs_ticket(database_url, shop, policy) as desk:
        mine = desk.choose("cancel", BOB_ORDER)
        theirs = desk.choose("cancel", BOB_ORDER, user=sam)
        desk.submit_form(mine, cancel_values())
        assert "cancelled #1001" in desk.outcome(mine["id"]).lower()
        desk.submit_form(theirs, cancel_values(reason="STAFF"), user=sam)

        def refused() -> bool:
            return "after you looked at the order" in json.dumps(desk.slack.view(theirs["id"]))

        assert eventually(refused)
        assert len(shop.calls_to("orderCancel")) == 1
        assert [a.requested_by for a in desk.actions()] == [AGENT["id"]]
