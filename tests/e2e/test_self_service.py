"""Self-service in the chat widget through its real HTTP API: suggested articles, deflections,
"Track my order" against the fake Shopify, asking for a person with the order attached (the
fake Slack's thread), the limits, and the digest's figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core import metrics, privacy
from bot.core.self_service import PROOF_VALID_FOR
from bot.devtools.fake_shopify import BOB_EMAIL, UPS_TRACKING_URL, FakeShopify
from bot.read_models.digest_of_day import render_digest
from bot.storage.models import (
    ChatConversation,
    Customer,
    OrderLookup,
    Ticket,
    utcnow,
)
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.chat_visitor import Answer, ChatVisitor
from tests.e2e.harness import CHANNEL, eventually, staffed_helpdesk


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


SHOP = "https://shop.example"
TOKEN = "shpat_test_token"
ARTICLES = {
    "lost-parcel.md": "---\ntitle: My parcel never arrived\ntags: [shipping]\n---\n"
    "If your parcel has not arrived after 10 days, we send a new one.\n",
    "returns.md": "---\ntitle: Returns and refunds\n---\nReturn anything within 30 days.\n",
    "parcel-claims.md": "---\ntitle: Parcel claims (staff)\npublic: false\n---\n"
    "Internal: parcel claims over 100 need the lead.\n",
}
LIMITS = {
    "ip_suggestions_per_minute": 5,
    "ip_self_service_sessions_per_hour": 3,
    "ip_order_lookups_per_hour": 6,
    "order_lookups_per_order_per_hour": 4,
}


def policy(folder: Path) -> Policy:
    for name, text in ARTICLES.items():
        (folder / name).write_text(text)
    return Policy.model_validate(
        {
            "kb": {"path": str(folder), "rescan_every": timedelta(0)},
            "chat": {"allowed_origins": [SHOP], **LIMITS},
            "shopify": {"timeout": "2s"},
        }
    )


class Visitor(ChatVisitor):
    """A visitor using the widget's self-service before (or instead of) writing."""

    session: str | None = None

    def open_session(self) -> Answer:
        answer = self.request("POST", "/chat/api/self-service")
        if answer.status == 201:
            self.session = answer.body["session"]
        return answer

    def suggestions(self, query: str) -> Answer:
        return self.request("GET", f"/chat/api/articles?q={quote(query)}")

    def opened(self, slug: str) -> Answer:
        return self.request(
            "POST", "/chat/api/self-service/opened", {"slug": slug}, token=self.session
        )

    def closed(self) -> Answer:
        return self.request("POST", "/chat/api/self-service/closed", token=self.session)

    def look_up(self, order: str, email: str) -> Answer:
        return self.request("POST", "/chat/api/orders/lookup", {"order": order, "email": email})


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.seed_bob()
        fake.add_order(
            5002,
            "#1002",
            email="guest@buyer.example",
            fulfillment_status="FULFILLED",
            tracking=[
                {"number": "JS1", "url": "javascript:alert(document.cookie)", "company": "Evil"},
                {"number": "CRED", "url": "https://user:pw@track.example/x", "company": None},
                {"number": "DHL9", "url": "https://dhl.example/t?n=DHL9", "company": "DHL"},
            ],
        )
        yield fake


@pytest.fixture
def desk(database_url, tmp_path, shop):
    folder = tmp_path / "kb"
    folder.mkdir()
    with staffed_helpdesk(
        database_url, policy(folder), shopify_shop="acme", shopify_access_token=TOKEN,
        shopify_api_url=shop.url,
    ) as (helpdesk, slack, _):  # fmt: skip
        yield helpdesk, slack


def visitor(helpdesk, ip: str) -> Visitor:
    return Visitor(helpdesk.http_port, origin=SHOP, ip=ip)


def today_figures(helpdesk) -> metrics.SelfService:
    zone = ZoneInfo("UTC")
    with Session(helpdesk.engine) as session:
        period = metrics.Period.day(utcnow().date(), zone)
        return metrics.report(session, period, utcnow()).self_service


@ON_BOTH_DATABASES
def test_suggestions_then_an_article_then_closing_counts_one_deflection(desk):
    helpdesk, _ = desk
    jane = visitor(helpdesk, "203.0.113.10")
    config = jane.request("GET", "/chat/api/config").body
    assert config["suggestions"] is True and config["order_tracking"] is True

    assert jane.open_session().status == 201
    found = jane.suggestions("my parcel never came")
    assert found.status == 200, found.body
    articles = found.body["articles"]
    assert [a["slug"] for a in articles] == ["lost-parcel"]  # never the staff-only article
    assert articles[0]["url"].endswith("/help/lost-parcel")
    assert "\ue000" not in articles[0]["snippet"] and "parcel" in articles[0]["snippet"]
    # Symbols and a 5,000-character query are words or nothing, never an error.
    assert jane.suggestions('"); DROP TABLE kb_articles; -- *:* ' * 150).status == 200
    assert jane.suggestions("x" * 5000).body == {"articles": []}

    assert jane.closed().body == {"deflected": False}  # nothing read yet: no deflection
    assert jane.opened("parcel-claims").status == 404  # private: as if missing
    assert jane.opened("lost-parcel").status == 200
    assert jane.closed().body == {"deflected": True}
    assert jane.closed().body == {"deflected": True}  # idempotent: still one
    assert today_figures(helpdesk).deflections == 1

    # A visitor who read an article, then wrote after all, was not deflected.
    sam = visitor(helpdesk, "203.0.113.11")
    sam.open_session()
    sam.opened("returns")
    assert sam.closed().body == {"deflected": True}
    assert today_figures(helpdesk).deflections == 2
    assert sam.start("Still need help", self_service=sam.session).status == 201
    assert sam.closed().body == {"deflected": False}
    assert today_figures(helpdesk).deflections == 1

    nobody = visitor(helpdesk, "203.0.113.12")
    nobody.session = "not-a-session"
    assert nobody.closed().status == 404
    nobody.session = None
    assert nobody.closed().body["code"] == "token_missing"


def test_suggestions_and_sessions_are_rate_limited_per_address(desk):
    helpdesk, _ = desk
    bot = visitor(helpdesk, "198.51.100.7")
    answers = [bot.suggestions("refund") for _ in range(LIMITS["ip_suggestions_per_minute"] + 1)]
    assert [a.status for a in answers[:-1]] == [200] * LIMITS["ip_suggestions_per_minute"]
    refused = answers[-1]
    assert refused.status == 429 and refused.body["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert visitor(helpdesk, "198.51.100.8").suggestions("refund").status == 200  # not shared

    # Deflections need sessions, and sessions are few per address: hammering adds nothing.
    allowed = LIMITS["ip_self_service_sessions_per_hour"]
    tokens = []
    for _ in range(allowed + 2):
        if bot.open_session().status == 201:
            tokens.append(bot.session)
    assert len(set(tokens)) == allowed
    assert bot.open_session().status == 429
    for token in tokens:
        bot.session = token
        for _ in range(5):
            bot.opened("returns")
            bot.closed()
    assert today_figures(helpdesk).deflections == allowed


def test_track_my_order_shows_status_and_safe_tracking_links_only_for_the_right_pair(desk):
    helpdesk, _ = desk
    bob = visitor(helpdesk, "192.0.2.20")
    found = bob.look_up("1001", f"  {BOB_EMAIL.upper()} ")  # case and spaces don't matter
    assert found.status == 200, found.body
    order = found.body["order"]
    assert order["name"] == "#1001" and order["payment"] == "authorized"
    assert order["fulfilment"] == "unfulfilled" and order["cancelled"] is False
    assert order["tracking"] == [{"company": None, "number": "1Z2345", "url": UPS_TRACKING_URL}]
    assert found.body["lookup"]

    guest = visitor(helpdesk, "192.0.2.21").look_up("#1002", "guest@buyer.example").body
    assert guest["order"]["fulfilment"] == "fulfilled"
    assert [(t["number"], t["url"]) for t in guest["order"]["tracking"]] == [
        ("JS1", None),  # javascript: dropped
        ("CRED", None),  # credentials in the link: dropped
        ("DHL9", "https://dhl.example/t?n=DHL9"),
    ]

    # A wrong address, a wrong number, and both wrong: one answer, word for word.
    eve = visitor(helpdesk, "192.0.2.22")
    misses = [
        eve.look_up("#1001", "eve@attacker.example"),
        eve.look_up("#1003", BOB_EMAIL),
        eve.look_up("#99999", "eve@attacker.example"),
    ]
    assert {(m.status, json.dumps(m.body, sort_keys=True)) for m in misses} == {
        (404, json.dumps(misses[0].body, sort_keys=True))
    }
    assert misses[0].body["code"] == "order_not_found"
    assert eve.look_up("drop table", BOB_EMAIL).body["fields"] == {
        "order": "expected an order number such as #1001"
    }
    assert eve.look_up("#1001", "not an address").status == 422
    with Session(helpdesk.engine) as session:
        lookups = session.exec(select(OrderLookup)).all()
    assert sorted(lookup.matched for lookup in lookups) == [False, False, False, True, True]
    assert all(
        lookup.email is None and lookup.order_name is None
        for lookup in lookups
        if not lookup.matched
    )
    assert (today_figures(helpdesk).order_lookups, today_figures(helpdesk).orders_found) == (5, 2)


@ON_BOTH_DATABASES
def test_guessing_is_limited_per_address_and_per_order(desk):
    helpdesk, _ = desk
    guesser = visitor(helpdesk, "192.0.2.30")
    per_ip = LIMITS["ip_order_lookups_per_hour"]
    tries = [guesser.look_up(f"#{2000 + n}", "x@y.example").status for n in range(per_ip + 1)]
    assert tries == [404] * per_ip + [429]

    per_order = LIMITS["order_lookups_per_order_per_hour"]
    # From a new address each time (a botnet): the order number itself runs out of tries...
    answers = [
        visitor(helpdesk, f"192.0.2.{40 + n}").look_up("#1001", f"guess{n}@y.example")
        for n in range(per_order + 1)
    ]
    assert [a.status for a in answers] == [404] * per_order + [429]
    assert answers[-1].body["code"] == "rate_limited"
    # ...even for the right address, which the limit then doesn't confirm either.
    assert visitor(helpdesk, "192.0.2.60").look_up("#1001", BOB_EMAIL).status == 429
    assert visitor(helpdesk, "192.0.2.61").look_up("#1002", "guest@buyer.example").status == 200


def test_asking_for_a_person_opens_the_chat_with_the_proven_order_in_the_thread(desk):
    helpdesk, slack = desk
    bob = visitor(helpdesk, "192.0.2.70")
    lookup = bob.look_up("#1001", BOB_EMAIL).body["lookup"]
    started = bob.start("The parcel is late, can someone help?", order_lookup=lookup)
    assert started.status == 201, started.body
    assert started.body["conversation"]["email"] == BOB_EMAIL  # proven by the look-up

    def root() -> dict | None:
        roots = slack.messages_in(CHANNEL)
        return roots[0] if roots else None

    assert eventually(lambda: root() is not None and "#1001" in json.dumps(root()["blocks"]))
    assert "Order #1001 verified in the widget" in json.dumps(root()["blocks"])

    def thread() -> str:
        return json.dumps(slack.thread(CHANNEL, root()["ts"]))

    assert eventually(lambda: "looked up order #1001 in the chat widget" in thread(), timeout=20)
    assert eventually(lambda: "Shopify" in thread(), timeout=20)  # the order context, linked
    with Session(helpdesk.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.shopify_customer_id == "gid://shopify/Customer/207119551"
        assert session.get(Customer, ticket.customer_id).email == BOB_EMAIL
        conversation = session.exec(select(ChatConversation)).one()
        assert conversation.verified_order == "#1001"
        spent = session.exec(select(OrderLookup)).one()
        assert spent.used_at is not None and spent.matched  # counted still...
        assert (spent.email, spent.order_name, spent.proof_hash) == (
            None,
            None,
            None,
        )  # ...kept not

    # Spent: the same proof can't attach the order to another conversation.
    again = visitor(helpdesk, "192.0.2.71").start("Me too", order_lookup=lookup)
    assert again.status == 422 and "order_lookup" in again.body["fields"]
    assert visitor(helpdesk, "192.0.2.72").start("Me too", order_lookup="made-up").status == 422


def test_an_old_proof_has_expired(desk):
    helpdesk, _ = desk
    bob = visitor(helpdesk, "192.0.2.80")
    lookup = bob.look_up("#1001", BOB_EMAIL).body["lookup"]
    with Session(helpdesk.engine) as session:
        row = session.exec(select(OrderLookup)).one()
        row.created_at = utcnow() - PROOF_VALID_FOR - timedelta(minutes=1)
        session.add(row)
        session.commit()
    assert bob.start("Help", order_lookup=lookup).status == 422
    visitor(helpdesk, "192.0.2.81").look_up("#1002", "guest@buyer.example")  # a new match...
    with Session(helpdesk.engine) as session:
        kept = {row.order_name: row.email for row in session.exec(select(OrderLookup))}
    assert kept == {None: None, "#1002": "guest@buyer.example"}  # ...forgets the expired one


def test_the_digest_reports_deflections_and_look_ups_beside_created_tickets(desk):
    helpdesk, _ = desk
    jane = visitor(helpdesk, "203.0.113.90")
    jane.open_session()
    jane.opened("returns")
    jane.closed()
    jane.look_up("#1001", BOB_EMAIL)
    jane.look_up("#1001", "wrong@x.example")
    visitor(helpdesk, "203.0.113.91").start("A question")
    with Session(helpdesk.engine) as session:
        digest = render_digest(session, utcnow().date(), ZoneInfo("UTC"))
    assert "1 created" in digest.text
    assert "self-service: 1 deflection, 2 order look-ups (1 found)" in digest.text
    assert "*Self-service*\\n1 deflection, 2 order look-ups (1 found)" in json.dumps(digest.blocks)
    with Session(helpdesk.engine) as session:
        trend = metrics.trend(session, utcnow().date(), ZoneInfo("UTC"))
    assert (trend[-1].created, trend[-1].deflected) == (1, 1)  # the chart's bars for today
    assert digest.chart.startswith(b"\x89PNG")


def test_erasing_a_customer_forgets_their_unspent_proofs(desk):
    helpdesk, _ = desk
    bob = visitor(helpdesk, "192.0.2.90")
    assert bob.look_up("#1001", BOB_EMAIL).status == 200  # a proof, never spent
    assert bob.start("Hello", email=BOB_EMAIL).status == 201
    with Session(helpdesk.engine) as session:
        customer = session.exec(select(Customer).where(Customer.email == BOB_EMAIL)).one()
        privacy.inventory(session, customer)  # what erase does, in this session only
        lookup = session.exec(select(OrderLookup)).one()
        assert (lookup.email, lookup.proof_hash) == (None, None)
        assert lookup.matched  # still counted
