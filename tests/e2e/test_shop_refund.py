"""Issue 22's Refund, end to end: an agent refunds from the ticket through signed Slack
requests; the fake Shopify calculates, refunds, and fails as told; the helpdesk records
the action before sending it and sends it exactly once. SQLite: the stories whose outcome
depends on the database (two agents at once, the unique keys) are in
test_shop_refund_races.py, on both."""

from __future__ import annotations

import pytest

from bot.core.shop_actions import ActionState
from tests.e2e.harness import AGENT, eventually
from tests.e2e.shop_actions_desk import ORDER_NAME, shop_desk, view_text


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
