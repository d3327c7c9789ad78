"""Issue 22's Refund, end to end: an agent refunds from the ticket through signed Slack
requests; the fake Shopify calculates, refunds, and fails as told; the helpdesk records
the action before sending it and sends it exactly once. SQLite: the stories whose outcome
depends on the database (two agents at once, the unique keys) are in
test_shop_refund_races.py, on both."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from bot.core.shop_actions import ActionState
from bot.storage.models import ShopAction, utcnow
from bot.views import ids
from bot.views.refund_modal import NOTHING_CHOSEN, line_block
from tests.e2e.harness import AGENT, eventually
from tests.e2e.shop_actions_desk import (
    LEAD,
    ORDER_ID,
    ORDER_NAME,
    POSTER,
    SAM,
    policy_with,
    shop_client,
    shop_desk,
    view_text,
)


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


def test_a_refund_shows_shopifys_calculation_then_what_it_refunded(database_url):
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        form = alex.open_refund(desk.ticket_id)
        assert "Mug" in view_text(form) and form["submit"]["text"] == "Calculate"
        assert alex.calculate(form, {0: "1", 1: "0"}).status == 200
        view = alex.confirmation(form["id"])
        # One mug and the shipping, as Shopify's suggestedRefund puts it.
        assert "Shopify calculates 35.00 USD" in view_text(view)
        assert view["submit"]["text"] == "Refund 35.00 USD"
        answer = alex.confirm(view)
        assert answer.status == 200 and "Refunding 35.00 USD" in answer.body
        action = desk.settled(ActionState.DONE)
        assert action.requested_by == AGENT["id"] and action.approver is None
        assert action.result["amount"] == "35.00" and action.result["currency"] == "USD"
        [refund] = desk.refunds()
        assert action.idempotency_key in refund.note
        assert eventually(lambda: "Refunded *35.00 USD*" in view_text(desk.slack.view(form["id"])))
        assert eventually(lambda: any("refunded *35" in t for t in desk.thread()))
        line = next(t for t in desk.thread() if "refunded *35" in t)
        assert f"<@{AGENT['id']}>" in line and ORDER_NAME in line
        assert action.result["refund_id"] in line


def test_a_refund_over_the_limit_waits_for_an_approver_who_is_recorded(database_url):
    with shop_desk(database_url) as desk:
        sam = desk.agent(SAM)  # may refund 20 at a time
        _, answer = sam.refund(desk.ticket_id, {0: "1", 1: "0"})
        assert answer.status == 200
        action = desk.settled(ActionState.AWAITING_APPROVAL)
        assert eventually(lambda: "Sent for approval" in view_text(desk.slack.view(action.view_id)))
        request = desk.approval_message()
        assert "over your limit of 20 per refund" in json.dumps(request["blocks"])
        # Alex is an agent but no approver: told so privately, and nothing happens.
        assert desk.agent().decide(ids.SHOP_APPROVE, action.id, request["channel"]).status == 200
        assert eventually(
            lambda: any("Only an approver" in m["text"]
                        for m in desk.slack.ephemeral_messages(AGENT["id"]))
        )  # fmt: skip
        assert desk.action().state == ActionState.AWAITING_APPROVAL and desk.refunds() == []
        # Lee approves (not an agent: the approvers may still decide).
        assert (
            desk.agent(LEAD).decide(ids.SHOP_APPROVE, action.id, request["channel"]).status == 200
        )
        done = desk.settled(ActionState.DONE)
        assert done.approver == LEAD["id"] and len(desk.refunds()) == 1
        assert eventually(lambda: any(f"approved by <@{LEAD['id']}>" in t for t in desk.thread()))
        assert eventually(lambda: "Approved by" in desk.approval_message()["text"])
        # A second click, Slack's retry or a late one: nothing more.
        desk.agent(LEAD).decide(ids.SHOP_APPROVE, action.id, request["channel"])
        desk.agent(LEAD).decide(ids.SHOP_DECLINE, action.id, request["channel"])
        assert desk.action().state == ActionState.DONE and len(desk.refunds()) == 1


def test_a_declined_refund_tells_the_requester_and_refunds_nothing(database_url):
    """One of the approvers left the workspace: the others are asked, the thread goes on."""
    with shop_desk(database_url, policy_with(approvers=[LEAD["id"], "U0GONE"])) as desk:
        desk.agent(SAM).refund(desk.ticket_id, {0: "2", 1: "1"})
        action = desk.settled(ActionState.AWAITING_APPROVAL)
        request = desk.approval_message()
        desk.agent(LEAD).decide(ids.SHOP_DECLINE, action.id, request["channel"])
        declined = desk.settled(ActionState.DECLINED)
        assert declined.approver == LEAD["id"]
        assert eventually(
            lambda: any(f"<@{LEAD['id']}> declined" in t and f"<@{SAM['id']}>" in t
                        for t in desk.thread())
        )  # fmt: skip
        assert eventually(lambda: "declined" in view_text(desk.slack.view(action.view_id)))
        assert desk.refunds() == [] and desk.shop.calls_to("refundCreate") == []


def test_an_expired_request_cannot_be_approved(database_url):
    with shop_desk(database_url, policy_with(approval_expires_after="2h")) as desk:
        desk.agent(SAM).refund(desk.ticket_id, {0: "1", 1: "0"})
        action = desk.settled(ActionState.AWAITING_APPROVAL)
        request = desk.approval_message()
        with Session(desk.engine) as session:  # two hours and a minute later
            row = session.get(ShopAction, action.id)
            row.approval_expires_at = utcnow() - timedelta(minutes=1)
            session.add(row)
            session.commit()
        desk.agent(LEAD).decide(ids.SHOP_APPROVE, action.id, request["channel"])
        assert desk.settled(ActionState.EXPIRED).approver is None
        assert eventually(
            lambda: any("expired" in m["text"] for m in desk.slack.ephemeral_messages(LEAD["id"]))
        )
        assert eventually(lambda: any("expired before an approver" in t for t in desk.thread()))
        assert desk.refunds() == []


def test_shopify_applies_the_refund_then_cuts_the_connection_one_refund(database_url):
    """The answer is lost after Shopify refunded: the next attempt reads the order, finds
    the refund by the action's key in its note, and sends nothing again."""
    with shop_desk(database_url) as desk:
        desk.shop.cut_after_apply("refundCreate")
        desk.agent().refund(desk.ticket_id, {0: "2", 1: "1"})
        action = desk.settled(ActionState.DONE, timeout=40)
        assert action.result["reconciled"] is True
        assert len(desk.refunds()) == 1 and len(desk.shop.calls_to("refundCreate")) == 1
        assert eventually(lambda: sum("refunded *" in t for t in desk.thread()) == 1)


def test_shopifys_refusal_shows_in_the_modal_and_nothing_is_done(database_url):
    """Bob's poster is refunded in the Shopify admin between Calculate and confirm: Shopify
    refuses the refund of more than remains, and the modal and the thread say so."""
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        form = alex.open_refund(desk.ticket_id)
        alex.calculate(form, {0: "0", 1: "1"}, shipping=False)
        view = alex.confirmation(form["id"])
        admin = shop_client(desk.shop)
        plan = admin.suggest_refund(ORDER_ID, [(POSTER, 1)], False, False)
        admin.refund(ORDER_ID, [(POSTER, 1)], Decimal(0), False, plan.transactions,
                     note="In the admin: admin-1", key="admin-1")  # fmt: skip
        alex.confirm(view)
        failed = desk.settled(ActionState.FAILED)
        assert failed.errors and len(desk.refunds()) == 1
        assert eventually(lambda: "was not done" in view_text(desk.slack.view(form["id"])))
        assert eventually(lambda: any("was not done" in t for t in desk.thread()))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({0: "-1", 1: "0"}, "can't be negative"),
        ({0: "3", 1: "0"}, "Only 2 of this item"),
        ({0: "1.5", 1: "0"}, "whole number"),
    ],
)
def test_bad_quantities_are_field_errors(database_url, typed, expected):
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        form = alex.open_refund(desk.ticket_id)
        answer = json.loads(alex.calculate(form, typed).body)
        assert answer["response_action"] == "errors"
        assert expected in answer["errors"][line_block(0)]
        nothing = json.loads(alex.calculate(form, {0: "0", 1: "0"}, shipping=False).body)
        assert nothing["errors"] == {line_block(0): NOTHING_CHOSEN}
        assert desk.actions() == [] and desk.shop.calls_to("refundCreate") == []


def test_more_than_remains_is_a_field_error(database_url):
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        alex.refund(desk.ticket_id, {0: "1", 1: "0"})
        desk.settled(ActionState.DONE)
        form = alex.open_refund(desk.ticket_id)  # one mug left to refund
        answer = json.loads(alex.calculate(form, {0: "2", 1: "0"}).body)
        assert "Only 1 of this item" in answer["errors"][line_block(0)]


def test_another_customers_order_is_refused(database_url):
    with shop_desk(database_url) as desk:
        desk.shop.add_customer(5550001, "Jane Doe", "jane@home.example")
        desk.shop.add_order(
            7770001, "#2001", customer="gid://shopify/Customer/5550001", total="50.00"
        )
        view = desk.agent().open_refund(desk.ticket_id, "gid://shopify/Order/7770001")
        assert "not this ticket's customer's" in view_text(view)
        assert "Jane" not in json.dumps(view) and "50.00" not in json.dumps(view)
        assert desk.actions() == []


def test_the_orders_modal_offers_refund_on_the_customers_orders(database_url):
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        opened = len(desk.slack.calls("views.open"))
        alex.click(desk.ticket_id, desk.root_ts, ids.TICKET_ORDERS)
        lookup = alex.opened_view(after=opened)
        values = {ids.ORDER_LOOKUP_BLOCK: {ids.ORDER_LOOKUP: {"value": ORDER_NAME}}}
        alex.submit(lookup, values)

        def refund_choice() -> dict | None:
            blocks = desk.slack.view(lookup["id"])["blocks"]
            menus = [b["accessory"] for b in blocks if "accessory" in b]
            return next(
                (o for menu in menus if menu["action_id"] == ids.SHOP_ACTION_MENU
                 for o in menu["options"] if o["value"].startswith("refund:")),
                None,
            )  # fmt: skip

        assert eventually(lambda: refund_choice() is not None)
        assert refund_choice()["text"]["text"] == "Refund"
        assert refund_choice()["value"] == f"refund:{desk.ticket_id}:gid://shopify/Order/8880001"
