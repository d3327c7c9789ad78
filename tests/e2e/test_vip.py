"""VIP customers, end to end: mail over real SMTP, the root in the fake Slack, Shopify's
figures from the fake Admin API over real HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from sqlmodel import Session, select

from bot.config import ConfigError, Policy, load_policy
from bot.core.sla import FIRST_RESPONSE, clocks_of
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Ticket, TicketEvent
from tests.e2e.harness import CHANNEL, customer_mail, eventually, smtp_send, staffed_helpdesk
from tests.e2e.test_check import migrated, run_check


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


TOKEN = "shpat_test_token"
BOB = "Bob Norman <bob.norman@hostmail.com>"
DMARC_FAIL = "Authentication-Results: mx.shop.example; dmarc=fail header.from=bigbuyer.example"
TARGETS = {
    "sla": {"normal": {"first_response": "8h"}, "high": {"first_response": "4h"}},
}


def vip_policy(**vip) -> Policy:
    return Policy.model_validate({**TARGETS, "vip": vip, "shopify": {"timeout": "2s"}})


def root_of(slack: FakeSlack, number: int) -> dict | None:
    return next(
        (m for m in slack.messages_in(CHANNEL) if m["text"].startswith(f"#{number} ")), None
    )


def ticket(helpdesk, number: int) -> Ticket:
    with Session(helpdesk.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).one()


def first_response_target(helpdesk, number: int) -> timedelta:
    with Session(helpdesk.engine) as session:
        found = session.exec(select(Ticket).where(Ticket.number == number)).one()
        clock = next(c for c in clocks_of(session, found.id) if c.kind == FIRST_RESPONSE)
        return timedelta(seconds=clock.target_seconds)


def shows_vip(slack: FakeSlack, number: int) -> bool:
    root = root_of(slack, number)
    return root is not None and ":star: *VIP*" in json.dumps(root["blocks"])


def vip_reasons(helpdesk, number: int) -> list[str]:
    """The built-in VIP rules that marked the ticket."""
    with Session(helpdesk.engine) as session:
        found = session.exec(select(Ticket).where(Ticket.number == number)).one()
        events = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == found.id, TicketEvent.kind == "vip_marked"
            )
        )
        return [event.actor.removeprefix("rule:") for event in events]


def test_a_listed_domain_opens_vip_tickets_with_their_own_priority_targets_and_badge(
    database_url,
):
    policy = vip_policy(
        **{"from": ["@bigbuyer.example"]}, priority="high", sla={"first_response": "30m"}
    )
    with staffed_helpdesk(database_url, policy) as (helpdesk, slack, _):
        vip_mail = customer_mail("Our PO is late", sender="Ceo <ceo@BigBuyer.example>")
        assert smtp_send(helpdesk.smtp.port, vip_mail)[0] == 250
        assert smtp_send(helpdesk.smtp.port, customer_mail("Where is my order?"))[0] == 250
        assert eventually(lambda: root_of(slack, 1) and root_of(slack, 2))

        assert shows_vip(slack, 1) and not shows_vip(slack, 2)
        assert (ticket(helpdesk, 1).vip, ticket(helpdesk, 1).priority) == (True, "high")
        assert (ticket(helpdesk, 2).vip, ticket(helpdesk, 2).priority) == (False, "normal")
        # The VIP target, not high priority's 4 hours; the other ticket keeps normal's.
        assert first_response_target(helpdesk, 1) == timedelta(minutes=30)
        assert first_response_target(helpdesk, 2) == timedelta(hours=8)
        assert vip_reasons(helpdesk, 1) == ["vip.from"]


def test_without_vip_targets_a_vip_ticket_gets_the_priority_targets(database_url):
    policy = vip_policy(**{"from": ["ceo@bigbuyer.example"]}, priority="high")
    with staffed_helpdesk(database_url, policy) as (helpdesk, slack, _):
        mail = customer_mail("Our PO is late", sender="ceo@bigbuyer.example")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        assert eventually(lambda: shows_vip(slack, 1))
        assert first_response_target(helpdesk, 1) == timedelta(hours=4)


def test_an_unverified_sender_claiming_a_vip_address_is_not_treated_as_one(database_url):
    policy = vip_policy(**{"from": ["@bigbuyer.example"]}, priority="high")
    with staffed_helpdesk(database_url, policy) as (helpdesk, slack, _):
        forged = customer_mail("Refund me now", sender="ceo@bigbuyer.example").as_bytes()
        assert smtp_send(helpdesk.smtp.port, DMARC_FAIL.encode() + b"\r\n" + forged)[0] == 250
        assert eventually(lambda: root_of(slack, 1))
        assert not shows_vip(slack, 1)
        assert (ticket(helpdesk, 1).vip, ticket(helpdesk, 1).priority) == (False, "normal")


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()  # 1 order, 41.94 USD spent, no tags
        yield fake


def shop_desk(database_url: str, shop: FakeShopify, policy: Policy):
    return staffed_helpdesk(
        database_url, policy, shopify_shop="acme", shopify_access_token=TOKEN,
        shopify_api_url=shop.url,
    )  # fmt: skip


def context_posted(slack: FakeSlack, number: int) -> bool:
    root = root_of(slack, number)
    thread = slack.thread(CHANNEL, root["ts"]) if root else []
    return any("Shopify" in m["text"] for m in thread)


def test_a_big_spender_in_shopify_becomes_vip_once_the_context_is_fetched(database_url, shop):
    policy = vip_policy(total_spent_gte=40, priority="high")
    with shop_desk(database_url, shop, policy) as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail("Where is it?", sender=BOB))[0] == 250
        assert eventually(lambda: shows_vip(slack, 1), timeout=20)
        assert ticket(helpdesk, 1).priority == "high"
        assert vip_reasons(helpdesk, 1) == ["vip.total_spent_gte"]
        assert first_response_target(helpdesk, 1) == timedelta(hours=4)


def test_a_customer_under_every_threshold_stays_a_normal_ticket(database_url, shop):
    policy = vip_policy(total_spent_gte=100, orders_count_gte=2, tags_any=["wholesale"])
    with shop_desk(database_url, shop, policy) as (helpdesk, slack, _):
        assert smtp_send(helpdesk.smtp.port, customer_mail("Where is it?", sender=BOB))[0] == 250
        assert eventually(lambda: context_posted(slack, 1), timeout=20)
        assert not shows_vip(slack, 1)
        assert (ticket(helpdesk, 1).vip, vip_reasons(helpdesk, 1)) == (False, [])


def test_a_shopify_tag_makes_a_vip(database_url, shop):
    shop.add_customer(5, "Wanda Wholesale", "wanda@shop.example", tags=["Wholesale", "net30"])
    policy = vip_policy(tags_any=["wholesale"], priority="urgent")
    with shop_desk(database_url, shop, policy) as (helpdesk, slack, _):
        mail = customer_mail("Restock?", sender="wanda@shop.example")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        assert eventually(lambda: shows_vip(slack, 1), timeout=20)
        assert ticket(helpdesk, 1).priority == "urgent"
        assert vip_reasons(helpdesk, 1) == ["vip.tags_any"]


@pytest.mark.parametrize(
    ("vip", "complaint"),
    [
        ({"from": ["not an address"]}, "policy key vip.from.0='not an address'"),
        ({"priority": "high"}, "names no VIP"),
        ({"total_spent_gte": -1}, "policy key vip.total_spent_gte"),
        (
            {"shopify": {"total_spent_gte": 1}},
            "policy key vip.shopify is not a key the helpdesk knows",
        ),
        ({"priority": "sky-high"}, "policy key vip.priority"),
        ({"sla": {"first_response": "soon"}}, "policy key vip.sla.first_response"),
    ],
)
def test_a_bad_vip_section_is_refused_with_one_line(tmp_path, vip, complaint):
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml.safe_dump({"vip": vip}))
    with pytest.raises(ConfigError) as refused:
        load_policy(path)
    assert complaint in str(refused.value)
    assert "\n" not in str(refused.value)


def test_check_shows_the_vip_rules_and_that_shopify_figures_need_shopify(tmp_path):
    migrated(tmp_path)
    policy = yaml.safe_dump({"vip": {"from": ["@bigbuyer.example"], "orders_count_gte": 10}})
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        result = run_check(tmp_path, slack, policy)
    lines = result.stdout.splitlines()
    by_address = next(line for line in lines if "rule 'vip.from'" in line)
    by_orders = next(line for line in lines if "rule 'vip.orders_count_gte'" in line)
    assert " ok " in by_address and "@bigbuyer.example" in by_address
    assert "warning" in by_orders
    assert "SHOPIFY_SHOP is unset" in result.stdout
