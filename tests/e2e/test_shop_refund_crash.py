"""`kill -9` of `helpdesk serve` after Shopify applied a refund and before the helpdesk
recorded its answer: after a restart the refund is found in the shop by its key, and there
is still exactly one. The fake Shopify applies the refund, then holds its answer while the
process is killed."""

from __future__ import annotations

import signal

import pytest
import yaml

from bot.core.shop_actions import ActionState
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import make_engine
from tests.conftest import free_port
from tests.e2e.harness import AGENT, CHANNEL, eventually, start_serve
from tests.e2e.shop_actions_desk import (
    LEAD,
    ORDER_ID,
    TOKEN,
    ShopDesk,
    bobs_ticket,
    shop_with_bobs_order,
)


@pytest.fixture
def database_url(sqlite_url):
    """SQLite: what recovers is the action's committed state, read the same on both."""
    return sqlite_url


# Longer than the answer is held, so the helpdesk is waiting for it when it is killed.
POLICY = {"shopify": {"timeout": "60s", "approvers": [LEAD["id"]]}}
HELD_SECONDS = 8


def test_kill_9_between_shopifys_refund_and_its_record_refunds_once(database_url, tmp_path):
    (tmp_path / "policy.yml").write_text(yaml.safe_dump(POLICY))
    with FakeSlack() as slack, shop_with_bobs_order() as shop:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        http_port, smtp_port = free_port(), free_port()
        shop_env = {
            "SHOPIFY_SHOP": "acme",
            "SHOPIFY_ACCESS_TOKEN": TOKEN,
            "SHOPIFY_API_URL": shop.url,
            "HELPDESK_CONFIG": str(tmp_path / "policy.yml"),
            "HELPDESK_HTTP_PORT": str(http_port),
        }
        serve = start_serve(database_url, slack, smtp_port, tmp_path, **shop_env)
        engine = make_engine(database_url)
        try:
            ticket = bobs_ticket(engine, smtp_port, slack)
            desk = ShopDesk(engine, http_port, slack, shop, *ticket)
            alex = desk.agent()
            form = alex.open_refund(desk.ticket_id)
            alex.calculate(form, {0: "1", 1: "1"})
            view = alex.confirmation(form["id"])
            shop.delay_next(0)  # the deliverer's fresh calculation is answered at once,
            shop.delay_next(HELD_SECONDS)  # its refundCreate applied, then held
            alex.confirm(view)
            assert eventually(lambda: len(shop.order(ORDER_ID).refunds) == 1, timeout=20)
            assert desk.action().state == ActionState.SENDING
        finally:
            serve.send_signal(signal.SIGKILL)
            serve.wait(10)

        restarted = start_serve(database_url, slack, smtp_port, tmp_path, **shop_env)
        try:
            done = desk.settled(ActionState.DONE, timeout=40)
            assert done.result["reconciled"] is True
            assert eventually(lambda: any("refunded *" in t for t in desk.thread()), 20)
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(20) == 0
            engine.dispose()
        assert len(shop.order(ORDER_ID).refunds) == 1
        assert len(shop.calls_to("refundCreate")) == 1
