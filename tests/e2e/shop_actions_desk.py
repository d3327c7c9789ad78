"""A helpdesk with a shop, and agents who refund from it, for the shop actions' end-to-end
tests: signed Slack requests to the real helpdesk, the fake Slack and the fake Shopify over
HTTP. Clicks and submissions are built as Slack builds them from the views the helpdesk left
in the fake Slack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.config import Policy
from bot.core import outbox as kinds
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import SlackHttpResponse, new_trigger_id
from bot.integrations.shopify import ShopifyClient
from bot.integrations.shopify_actions import ShopifyActions
from bot.storage.models import OutboxItem, ShopAction, Ticket
from bot.views import ids
from bot.views.refund_modal import RESTOCK, SHIPPING, line_block
from bot.views.shop_action_menu import ActionChoice
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
)

TOKEN = "shpat_test_token"
BOB = "Bob Norman <bob.norman@hostmail.com>"
ORDER_ID = "gid://shopify/Order/8880001"
ORDER_NAME = "#3001"
POSTER = "gid://shopify/LineItem/9990002"
SAM = {"id": "U0AGENT2", "username": "sam", "name": "sam", "team_id": "T0FAKE"}
LEAD = {"id": "U0LEAD", "username": "lee", "name": "lee", "team_id": "T0FAKE"}


def shop_with_bobs_order() -> FakeShopify:
    """Bob's paid order #3001: two mugs at 25.00 and a poster at 15.00, 10.00 shipping."""
    shop = FakeShopify(token=TOKEN)
    bob = shop.seed_bob()
    shop.add_order(
        8880001,
        ORDER_NAME,
        customer=bob,
        total="75.00",
        shipping="10.00",
        line_items=[
            {"id": 9990001, "title": "Mug", "price": "25.00", "quantity": 2},
            {"id": 9990002, "title": "Poster", "price": "15.00", "quantity": 1},
        ],
    )
    return shop


def shop_client(shop: FakeShopify) -> ShopifyActions:
    """The shop's write side as another app (the Shopify admin, say) would use it."""
    return ShopifyActions(ShopifyClient(shop="acme", token=TOKEN, api_url=shop.url))


def policy_with(**shopify: Any) -> Policy:
    """The agents' limits: Alex may refund up to 100 at a time, Sam up to 20; Lee approves."""
    rules = {
        "timeout": "5s",
        "approvers": [LEAD["id"]],
        "limits": {AGENT["id"]: {"refund_max": 100}, "default": {"refund_max": 20}},
        **shopify,
    }
    return Policy.model_validate({"shopify": rules})


@dataclass
class ShopDesk:
    """A running helpdesk (its database and HTTP port: it may run in another process), the
    fake Slack, the fake shop, and Bob's ticket in its thread."""

    engine: Engine
    http_port: int
    slack: FakeSlack
    shop: FakeShopify
    ticket_id: int
    root_ts: str

    def agent(self, user: dict = AGENT) -> RefundingAgent:
        return RefundingAgent(self.http_port, self.slack, user)

    def actions(self) -> list[ShopAction]:
        with Session(self.engine) as session:
            return list(session.exec(select(ShopAction).order_by(ShopAction.id)))

    def action(self) -> ShopAction:
        [action] = self.actions()
        return action

    def settled(self, state: str, timeout: float = 20) -> ShopAction:
        assert eventually(lambda: [a.state for a in self.actions()][-1:] == [state], timeout)
        return self.actions()[-1]

    def thread(self) -> list[str]:
        return [m["text"] for m in self.slack.thread(CHANNEL, self.root_ts)]

    def refunds(self) -> list:
        return list(self.shop.order(ORDER_ID).refunds)

    def approval_message(self, approver: str = LEAD["id"]) -> dict:
        """The request in the approver's DM, once posted: its channel among the fields."""

        def posted() -> OutboxItem | None:
            with Session(self.engine) as session:
                rows = session.exec(
                    select(OutboxItem).where(OutboxItem.kind == kinds.SHOP_APPROVAL_REQUEST)
                ).all()
            return next((r for r in rows if r.payload["approver"] == approver and r.result), None)

        assert eventually(lambda: posted() is not None, timeout=15)
        row = posted()
        [message] = [
            m for m in self.slack.messages_in(row.result["channel"]) if m["ts"] == row.result["ts"]
        ]
        return {**message, "channel": row.result["channel"]}


@contextmanager
def shop_desk(database_url: str, policy: Policy | None = None) -> Iterator[ShopDesk]:
    with FakeSlack() as slack, shop_with_bobs_order() as shop:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"], SAM["id"]])
        for person in (AGENT, SAM, LEAD):
            slack.add_user(person["id"], person["name"], real_name=person["name"].title())
        with running_helpdesk(
            database_url, slack, policy or policy_with(),
            shopify_shop="acme", shopify_access_token=TOKEN, shopify_api_url=shop.url,
        ) as helpdesk:  # fmt: skip
            ticket = bobs_ticket(helpdesk.engine, helpdesk.smtp.port, slack)
            yield ShopDesk(helpdesk.engine, helpdesk.http_port, slack, shop, *ticket)


def bobs_ticket(engine: Engine, smtp_port: int, slack: FakeSlack) -> tuple[int, str]:
    """Bob writes in; his ticket's thread gets its Shopify post (his orders, his address
    proven by his own mail)."""
    assert smtp_send(smtp_port, customer_mail("Refund please", sender=BOB))[0] == 250
    assert eventually(lambda: any("Shopify" in m["text"] for m in _thread(slack)), timeout=20)
    with Session(engine) as session:
        ticket = session.exec(select(Ticket)).one()
    return ticket.id, ticket.thread_ts


def _thread(slack: FakeSlack) -> list[dict]:
    roots = [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
    return slack.thread(CHANNEL, roots[0]["ts"]) if roots else []


class RefundingAgent(SlackAgent):
    """An agent's steps through the Refund modal."""

    def click_in_view(
        self, view: dict, action_id: str, value: str, menu: bool = False
    ) -> SlackHttpResponse:
        """A button in an open modal, or a choice in its ⋯ menu (`menu`), as Slack sends it."""
        chosen = (
            {"type": "overflow", "selected_option": {"value": value}}
            if menu
            else {"type": "button", "value": value}
        )
        return self.sender.send_interaction(
            {
                "type": "block_actions",
                "user": self.user,
                "team": {"id": "T0FAKE", "domain": "fake"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": new_trigger_id(),
                "container": {"type": "view", "view_id": view["id"]},
                "view": view,
                "actions": [
                    {"action_id": action_id, "action_ts": f"{time.time():.6f}", **chosen}
                ],
            }
        )  # fmt: skip

    def open_refund(self, ticket_id: int, order_id: str = ORDER_ID) -> dict:
        """Refund in the ⋯ menu of the Orders modal's order line, then the form once Shopify
        answered: the pushed modal, as Slack holds it."""
        pushed = len(self.slack.calls("views.push"))
        value = ActionChoice("refund", ticket_id, order_id).value
        under = {"id": "V0ORDERS", "callback_id": ids.ORDER_LOOKUP_MODAL}
        assert self.click_in_view(under, ids.SHOP_ACTION_MENU, value, menu=True).status == 200
        assert self.slack.wait_for(lambda: len(self.slack.calls("views.push")) > pushed, 10)
        view_id = self.slack.calls("views.push")[-1].response["view"]["id"]
        assert self.slack.wait_for(
            lambda: "Loading order" not in view_text(self.slack.view(view_id)), 10
        )
        return self.slack.view(view_id)

    def calculate(
        self,
        form: dict,
        quantities: dict[int, str],
        shipping: bool = True,
        restock: bool = False,
    ) -> SlackHttpResponse:
        """Submits the form with these quantities (line index → as typed)."""
        values: dict[str, Any] = {
            line_block(index): {ids.SHOP_REFUND_QUANTITY: {"type": "number_input", "value": n}}
            for index, n in quantities.items()
        }
        chosen = [{"value": v} for v, on in ((SHIPPING, shipping), (RESTOCK, restock)) if on]
        values[ids.SHOP_REFUND_OPTIONS_BLOCK] = {
            ids.SHOP_REFUND_OPTIONS: {"type": "checkboxes", "selected_options": chosen}
        }
        values[ids.SHOP_REFUND_NOTE_BLOCK] = {
            ids.SHOP_REFUND_NOTE: {"type": "plain_text_input", "value": "Arrived broken"}
        }
        return self.submit(form, values)

    def confirmation(self, view_id: str) -> dict:
        """The modal once Shopify's calculation is in it."""
        assert self.slack.wait_for(
            lambda: (
                (self.slack.view(view_id).get("submit") or {}).get("text", "").startswith("Refund ")
            ),
            15,
        ), self.slack.view(view_id)
        return self.slack.view(view_id)

    def confirm(self, view: dict) -> SlackHttpResponse:
        return self.submit(view, {})

    def refund(self, ticket_id: int, quantities: dict[int, str]) -> tuple[dict, SlackHttpResponse]:
        """Opens, calculates and confirms: (the confirmation view, the answer to confirming)."""
        form = self.open_refund(ticket_id)
        assert self.calculate(form, quantities).status == 200
        view = self.confirmation(form["id"])
        return view, self.confirm(view)

    def decide(self, action_id: str, action: int, dm_channel: str) -> SlackHttpResponse:
        """Approve or Decline, clicked in the approver's DM."""
        return self.sender.send_interaction(
            {
                "type": "block_actions",
                "user": self.user,
                "team": {"id": "T0FAKE", "domain": "fake"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": new_trigger_id(),
                "channel": {"id": dm_channel, "name": "directmessage"},
                "container": {"type": "message", "message_ts": "1"},
                "message": {"ts": "1", "text": "request"},
                "actions": [
                    {"type": "button", "action_id": action_id, "value": str(action),
                     "block_id": f"{ids.SHOP_APPROVAL_BLOCK}:{action}",
                     "action_ts": f"{time.time():.6f}"}
                ],
            }
        )  # fmt: skip


def view_text(view: dict) -> str:
    """Everything a modal shows, as one string."""
    return json.dumps(view.get("blocks", []), ensure_ascii=False)
