"""ShopifyClient against FakeShopify over real HTTP: lookups, search quoting, failures, retries."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.devtools.fake_shopify import (
    ALL_SCOPES,
    BOB_EMAIL,
    BOB_ID,
    BOB_ORDER_ID,
    UPS_TRACKING_URL,
    FakeShopify,
    SearchTerm,
    parse_query,
)
from bot.integrations.shopify import (
    Customer,
    Money,
    Order,
    OrderProof,
    ShopifyClient,
    ShopifyError,
    Tracking,
    order_numbers_in,
    search_value,
)
from tests.conftest import free_port

TOKEN = "shpat_test_token"
SHOP = "acme"


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify.with_bob(token=TOKEN, shop=SHOP) as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    """The waits the client asked for; recorded instead of slept."""
    return []


def client_for(shop: FakeShopify, sleeps: list[float], **options) -> ShopifyClient:
    options = {"token": TOKEN, **options}
    return ShopifyClient(SHOP, api_url=shop.url, sleep=sleeps.append, **options)


@pytest.fixture
def client(shop: FakeShopify, sleeps: list[float]) -> ShopifyClient:
    return client_for(shop, sleeps)


def failure(call) -> ShopifyError:
    with pytest.raises(ShopifyError) as caught:
        call()
    return caught.value


def post_raw(
    shop: FakeShopify, query: str, variables: dict, version: str | None = None
) -> tuple[int, dict]:
    """A GraphQL request made by hand, bypassing the client's quoting (to another version's
    endpoint when given)."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Access-Token": shop.token}
    url = shop.url if version is None else shop.url.rsplit("/", 1)[0] + f"/{version}"
    request = urllib.request.Request(f"{url}/graphql.json", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


# -- lookups ---------------------------------------------------------------------------------


def test_bob_by_email_comes_with_his_order(client: ShopifyClient, shop: FakeShopify) -> None:
    bob = client.customer_by_email(BOB_EMAIL)

    assert bob is not None
    assert replace(bob, recent_orders=()) == Customer(
        id=BOB_ID,
        name="Bob Norman",
        email=BOB_EMAIL,
        orders_count=1,
        total_spent=Money(Decimal("41.94"), "USD"),
        tags=(),
        recent_orders=(),
        admin_url="https://admin.shopify.com/store/acme/customers/207119551",
    )
    (order,) = bob.recent_orders
    assert order == Order(
        id=BOB_ORDER_ID,
        number=450789469,
        name="#1001",
        processed_at=datetime(2014, 1, 22, 20, 58, 27, tzinfo=UTC),
        financial_status="AUTHORIZED",
        fulfillment_status="UNFULFILLED",
        total=Money(Decimal("409.94"), "USD"),
        cancelled=False,
        tracking=(Tracking("1Z2345", UPS_TRACKING_URL, None),),
        admin_url="https://admin.shopify.com/store/acme/orders/450789469",
        customer_id=BOB_ID,
        customer_email=BOB_EMAIL,
        customer_name="Bob Norman",
    )
    assert str(bob.total_spent) == "41.94 USD"
    assert order.status_text() == (
        f"Order #1001: authorized, unfulfilled — tracking 1Z2345 {UPS_TRACKING_URL}"
    )
    (call,) = shop.calls
    assert call.operation == "customers"
    assert call.operation_name == "HelpdeskCustomerByEmail"
    assert call.variables == {"query": 'email:"bob.norman@hostmail.com"', "orders": 5}
    assert call.headers["x-shopify-access-token"] == TOKEN
    assert call.headers["user-agent"].startswith("ShopifyPythonAPI/")


def test_an_address_is_trimmed_and_matched_regardless_of_case(client: ShopifyClient) -> None:
    bob = client.customer_by_email("  Bob.Norman@HostMail.com \n")
    assert bob is not None and bob.id == BOB_ID


def test_an_unknown_address_is_none(client: ShopifyClient, shop: FakeShopify) -> None:
    assert client.customer_by_email("nobody@example.com") is None
    assert shop.calls[0].variables["query"] == 'email:"nobody@example.com"'


def test_a_customer_without_orders(client: ShopifyClient, shop: FakeShopify) -> None:
    shop.add_customer(1, "Ann New", "ann@example.com", tags=["vip", "wholesale"])
    ann = client.customer_by_email("ann@example.com")
    assert ann is not None
    assert (ann.orders_count, ann.recent_orders) == (0, ())
    assert ann.total_spent == Money(Decimal("0.00"), "USD")
    assert ann.tags == ("vip", "wholesale")


def test_a_customer_with_ten_thousand_orders_gets_only_the_newest_few(
    shop: FakeShopify, sleeps: list[float]
) -> None:
    gid = shop.add_customer(2, "Bulk Buyer", "bulk@example.com", amount_spent="100000.0")
    shop.set_customer_orders(gid, 10_000)
    client = client_for(shop, sleeps, recent_orders=3)

    buyer = client.customer_by_email("bulk@example.com")

    assert buyer is not None and buyer.orders_count == 10_000
    assert len(buyer.recent_orders) == 3
    dates = [order.processed_at for order in buyer.recent_orders]
    assert dates == sorted(dates, reverse=True)
    assert str(buyer.total_spent) == "100000.00 USD"
    assert shop.calls[0].variables["orders"] == 3


def test_a_customer_by_id(client: ShopifyClient, shop: FakeShopify) -> None:
    bob = client.customer_by_id(BOB_ID)
    assert bob is not None and bob.name == "Bob Norman" and len(bob.recent_orders) == 1
    assert shop.calls[0].variables == {"id": BOB_ID, "orders": 5}
    assert client.customer_by_id("gid://shopify/Customer/1") is None
    with pytest.raises(ValueError):
        client.customer_by_id("gid://shopify/Order/450789469")


@pytest.mark.parametrize("written", ["1001", "#1001", " 1001 ", "#01001"])
def test_an_order_by_name(client: ShopifyClient, shop: FakeShopify, written: str) -> None:
    order = client.order_by_name(written)
    assert order is not None and order.id == BOB_ORDER_ID
    assert order.customer_id == BOB_ID and order.customer_email == BOB_EMAIL
    assert shop.calls[0].variables == {"query": 'name:"#1001"'}


def test_an_order_that_does_not_exist_is_none(client: ShopifyClient) -> None:
    assert client.order_by_name("#4242") is None
    assert client.order_proof("#4242") is None


def test_an_orders_proof_holds_its_addresses_and_postcodes(
    client: ShopifyClient, shop: FakeShopify
) -> None:
    jane = shop.add_customer(5, "Jane Doe", "jane@home.example")
    shop.add_order(2001, "#2001", customer=jane, email="jane.work@office.example",
                   shipping_zip="SW1A 1AA", billing_zip="EC1A 1BB")  # fmt: skip
    shop.add_order(2002, "#2002")  # a guest checkout: no customer, no address
    proof = client.order_proof("2001")
    assert proof == OrderProof(
        name="#2001",
        customer_id="gid://shopify/Customer/5",
        emails=frozenset({"jane.work@office.example", "jane@home.example"}),
        postcodes=frozenset({"SW1A 1AA", "EC1A 1BB"}),
    )
    assert client.order_proof("#2002") == OrderProof("#2002", None, frozenset(), frozenset())
    call = shop.calls[0]
    assert call.operation_name == "HelpdeskOrderProof"
    assert call.variables == {"query": 'name:"#2001"'}
    with pytest.raises(ValueError):
        client.order_proof("2001 OR name:*")


FULLWIDTH_1001 = "\uff11\uff10\uff10\uff11"


@pytest.mark.parametrize(
    "written", ["", "#", "order 1001", "1001 OR name:*", "#10a", FULLWIDTH_1001]
)
def test_anything_but_an_order_number_is_refused(
    client: ShopifyClient, shop: FakeShopify, written: str
) -> None:
    with pytest.raises(ValueError):
        client.order_by_name(written)
    assert shop.calls == []


def test_access_scopes(shop: FakeShopify, client: ShopifyClient) -> None:
    assert client.access_scopes() == ALL_SCOPES  # the fake grants the actions' scopes too
    shop.scopes = {"read_customers", "write_products"}
    assert client.access_scopes() == {"read_customers", "write_products"}


# -- no widening of searches -----------------------------------------------------------------


def test_quotes_and_or_in_an_address_cannot_widen_the_search(
    client: ShopifyClient, shop: FakeShopify
) -> None:
    sneaky = 'x" OR email:* OR "'

    assert client.customer_by_email(sneaky) is None
    assert client.customer_by_email("x OR email:*") is None

    sent = [call.variables["query"] for call in shop.calls]
    assert sent == ['email:"x\\" OR email:* OR \\""', 'email:"x OR email:*"']
    assert all(call.response["data"]["customers"]["nodes"] == [] for call in shop.calls)
    # The same address quoted naively would have listed every customer: the fake has teeth.
    status, answer = post_raw(
        shop,
        shop.calls[0].query,
        {"query": f'email:"{sneaky}"', "orders": 1},
    )
    assert status == 200 and answer["data"]["customers"]["nodes"][0]["id"] == BOB_ID


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(address=st.text(min_size=1).filter(str.strip))
def test_any_address_reaches_shopify_as_one_exact_value(address: str) -> None:
    with FakeShopify.with_bob(token=TOKEN) as shop:
        found = ShopifyClient("acme", TOKEN, api_url=shop.url).customer_by_email(address)
        (call,) = shop.calls
    assert call.variables["query"] == "email:" + search_value(address.strip())
    assert found is None or found.email.casefold() == address.strip().casefold()


# -- failures --------------------------------------------------------------------------------


def test_a_wrong_token_is_explained_and_never_logged(
    shop: FakeShopify, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = client_for(shop, sleeps, token="shpat_wrong_secret")
    right = client_for(shop, sleeps)
    caplog.set_level(logging.DEBUG)

    assert right.customer_by_email(BOB_EMAIL) is not None
    error = failure(lambda: wrong.customer_by_email(BOB_EMAIL))
    assert right.customer_by_email(BOB_EMAIL) is not None  # sessions don't leak between calls

    assert error.kind == "unauthorized"
    assert str(error) == "Shopify refused the access token (401): check SHOPIFY_ACCESS_TOKEN."
    assert shop.calls[1].status == 401 and sleeps == []
    assert "shpat_wrong_secret" not in repr(wrong)
    assert "shpat_wrong_secret" not in caplog.text and TOKEN not in caplog.text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "401" in warnings[0].getMessage()


def test_a_missing_scope_is_named(shop: FakeShopify, client: ShopifyClient) -> None:
    shop.scopes = {"read_customers"}

    for lookup in (
        lambda: client.customer_by_email(BOB_EMAIL),
        lambda: client.order_by_name("#1001"),
    ):
        error = failure(lookup)
        assert error.kind == "missing_scope"
        assert str(error) == (
            "The Shopify token lacks the read_orders scope: add it to the app and reinstall."
        )

    shop.scopes = set()
    error = failure(lambda: client.customer_by_id(BOB_ID))
    assert "read_customers and read_orders scopes" in str(error)


def test_throttled_twice_then_answered(
    shop: FakeShopify, client: ShopifyClient, sleeps: list[float]
) -> None:
    shop.throttle_next(2, available=3.0)

    assert client.customer_by_email(BOB_EMAIL) is not None

    throttled = shop.calls[:2]
    assert [call.response["errors"][0]["extensions"]["code"] for call in throttled] == [
        "THROTTLED",
        "THROTTLED",
    ]
    cost = throttled[0].response["extensions"]["cost"]
    wait = (cost["requestedQueryCost"] - 3.0) / cost["throttleStatus"]["restoreRate"]
    assert sleeps == [pytest.approx(wait)] * 2
    assert len(shop.calls) == 3


def test_throttled_beyond_the_attempts(
    shop: FakeShopify, client: ShopifyClient, sleeps: list[float]
) -> None:
    shop.throttle_next(3)
    error = failure(lambda: client.order_by_name("1001"))
    assert error.kind == "throttled"
    assert len(sleeps) == 2 and len(shop.calls) == 3


def test_http_429_waits_as_told_up_to_ten_seconds(
    shop: FakeShopify, client: ShopifyClient, sleeps: list[float]
) -> None:
    shop.fail_next(1, status=429, retry_after=2)
    shop.fail_next(1, status=429, retry_after=30)
    assert client.customer_by_email(BOB_EMAIL) is not None
    assert sleeps == [2.0, 10.0]


def test_a_server_error_then_an_answer(
    shop: FakeShopify, client: ShopifyClient, sleeps: list[float]
) -> None:
    shop.fail_next(1, status=500)
    assert client.customer_by_email(BOB_EMAIL) is not None
    assert sleeps == [0.5]


def test_server_errors_throughout_mean_unavailable(
    shop: FakeShopify, client: ShopifyClient, sleeps: list[float]
) -> None:
    shop.fail_next(10, status=503)
    error = failure(lambda: client.customer_by_email(BOB_EMAIL))
    assert error.kind == "unavailable"
    assert "503" in str(error)
    assert sleeps == [0.5, 1.0] and len(shop.calls) == 3


def test_a_slow_answer_times_out(shop: FakeShopify, sleeps: list[float]) -> None:
    shop.delay = 1.0
    client = client_for(shop, sleeps, timeout=0.3)
    error = failure(lambda: client.customer_by_email(BOB_EMAIL))
    assert error.kind == "timeout"
    assert "0.3 s" in str(error)
    assert sleeps == []


def test_nothing_listening_means_unavailable() -> None:
    client = ShopifyClient("", TOKEN, api_url=f"http://127.0.0.1:{free_port()}/admin/api/2026-10")
    error = failure(client.access_scopes)
    assert error.kind == "unavailable"
    assert "SHOPIFY_API_URL" in str(error)


def test_a_wrong_api_url_is_a_bad_response(shop: FakeShopify, sleeps: list[float]) -> None:
    client = ShopifyClient(SHOP, TOKEN, api_url=shop.url + "/nowhere", sleep=sleeps.append)
    error = failure(client.access_scopes)
    assert error.kind == "bad_response"
    assert "404" in str(error) and "SHOPIFY_API_URL" in str(error)


def test_settings_are_checked_up_front() -> None:
    with pytest.raises(ValueError, match="API version"):
        ShopifyClient(SHOP, TOKEN, version="July 2025")
    with pytest.raises(ValueError, match="SHOPIFY_SHOP"):
        ShopifyClient("", TOKEN)
    assert ShopifyClient("acme.myshopify.com", TOKEN, version="unstable").shop == "acme"


# -- the fake itself -------------------------------------------------------------------------


def test_the_fake_refuses_queries_it_does_not_know(shop: FakeShopify) -> None:
    status, answer = post_raw(shop, "mutation { customerDelete(input: {}) { shop { id } } }", {})
    assert status == 400 and answer["errors"][0]["message"]
    literal = 'query { customers(first: 1, query: "email:*") { nodes { id } } }'
    status, answer = post_raw(shop, literal, {})
    assert status == 400 and "variables" in answer["errors"][0]["message"]


# -- reading customers' words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Where is #1001?", ["#1001"]),
        ("my order 1001 hasn't come", ["#1001"]),
        ("Order no. 1001, please", ["#1001"]),
        ("Order #1001 and ORDER NUMBER: 1002", ["#1001", "#1002"]),
        ("orders #1001, #1002 and #1001 again", ["#1001", "#1002"]),
        ("#1001 #1002 #1003 #1004", ["#1001", "#1002", "#1003"]),
        ("Call 555-625-1199 or +1 (555) 625 1199", []),
        ("It cost $1001.50, or 1,001 EUR, at 10:30", []),
        ("Ordered on 2024-01-10; my order 2024-01-10 was late", []),
        ("Re: [#42] Broken mug &#1001; #1 fan", []),
        ("reorder 1001 from border 1002", []),
    ],
)
def test_order_numbers_in(text: str, numbers: list[str]) -> None:
    assert order_numbers_in(text) == numbers


def test_search_value_quotes_and_escapes() -> None:
    assert search_value("bob@example.com") == '"bob@example.com"'
    assert search_value('a" OR email:*') == '"a\\" OR email:*"'
    assert search_value("back\\slash") == '"back\\\\slash"'


@given(st.text())
@example('a" OR email:*')
@example("ends in a backslash \\")
def test_search_value_round_trips_through_shopify_search_syntax(text: str) -> None:
    assert parse_query("email:" + search_value(text)) == [[SearchTerm("email", text)]]


def test_the_fakes_parser_widens_as_shopify_would() -> None:
    # What the quoting above prevents: an unquoted value with OR and a wildcard.
    assert parse_query("email:a OR email:*") == [
        [SearchTerm("email", "a")],
        [SearchTerm("email", "", prefix=True)],
    ]


def test_status_text_in_plain_words() -> None:
    order = Order(
        id="gid://shopify/Order/1",
        number=1,
        name="#1002",
        processed_at=datetime(2025, 7, 1, tzinfo=UTC),
        financial_status="PARTIALLY_REFUNDED",
        fulfillment_status="FULFILLED",
        total=Money(Decimal("10.0"), "EUR"),
        cancelled=True,
        tracking=(Tracking("1Z9", "https://ups.example/1Z9", "UPS"), Tracking(None, None, None)),
        admin_url="https://admin.shopify.com/store/acme/orders/1",
        customer_id=None,
        customer_email=None,
    )
    assert order.status_text() == (
        "Order #1002: cancelled, partially refunded, fulfilled"
        " — tracking 1Z9 (UPS) https://ups.example/1Z9"
    )
    assert str(order.total) == "10.00 EUR"
