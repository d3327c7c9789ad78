"""A stand-in for Shopify's GraphQL Admin API, served over real HTTP on 127.0.0.1.

The helpdesk talks to it exactly as it talks to a shop: point ``SHOPIFY_API_URL`` (or
``ShopifyClient(api_url=...)``) at :attr:`FakeShopify.url`. It answers the helpdesk's
lookups from a small simulated shop (customers and their orders), records every call, and
can be told to fail the way Shopify fails: a wrong token (401), missing scopes
(``ACCESS_DENIED``), ``THROTTLED``, 5xx and 429 answers, slow answers.

    with FakeShopify.with_bob() as shop:
        client = ShopifyClient(shop.shop, shop.token, api_url=shop.url)
        assert client.customer_by_email(BOB_EMAIL).name == "Bob Norman"
        assert shop.calls[0].variables["query"] == 'email:"bob.norman@hostmail.com"'

It is no GraphQL server: it finds a document's root field (``customers``, ``orders``,
``customer`` or ``currentAppInstallation``, the first field of the first operation), reads
that field's arguments and the nested ``orders(...)`` ones, resolving ``$variables``, and
answers with the fields the helpdesk selects. Anything else is refused with a 400, and so
is a string literal in an argument: values must come as variables. Search queries
(``email:"…"``, ``name:"…"``) are parsed as Shopify's search syntax (:func:`parse_query`).
"""

from __future__ import annotations

import heapq
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import Message
from http import HTTPStatus
from typing import Any

from bot.devtools.loopback import LoopbackService

# Bob Norman and his order #1001, from ShopifyAPI's REST test fixtures (test/fixtures/
# customer.json and order.json of Shopify/shopify_python_api), in GraphQL Admin API shapes.
BOB_ID = "gid://shopify/Customer/207119551"
BOB_EMAIL = "bob.norman@hostmail.com"
BOB_ORDER_ID = "gid://shopify/Order/450789469"
UPS_TRACKING_URL = (
    "http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345"
    "&TypeOfInquiryNumber=T&AcceptUPSLicenseAgreement=yes&submit=Track"
)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
ALL_SCOPES = frozenset({"read_customers", "read_orders"})
MAXIMUM_AVAILABLE = 2000.0  # Shopify Plus's bucket, and its restore rate per second
RESTORE_RATE = 100.0

_PATH = re.compile(r"/admin/api/(?:\d{4}-\d{2}|unstable)/graphql\.json")
_ROOT = re.compile(r"\s*(?:query\b[^{]*)?\{\s*(?:\w+\s*:\s*)?(\w+)")
_ARGUMENT = re.compile(r"(\w+)\s*:\s*(\$\w+|\"(?:[^\"\\]|\\.)*\"|[-\w.]+)")
_FIELD = re.compile(r"([A-Za-z_][\w.]*):")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]+)")
_SCOPE_OF = {
    "customers": "read_customers",
    "customer": "read_customers",
    "orders": "read_orders",
    "currentAppInstallation": None,
}
# Orders made up by set_customer_orders(): numbered from here, newest an hour apart.
_GENERATED_NUMBERS_FROM = 100_000
_GENERATED_NEWEST = datetime(2024, 1, 1, tzinfo=UTC)


# -- Shopify's search syntax -----------------------------------------------------------------


@dataclass(frozen=True)
class SearchTerm:
    field: str | None  # None: a bare value, matched against every searchable field
    value: str  # unquoted and unescaped
    prefix: bool = False  # a bare value ending in an unescaped "*"


def parse_query(query: str) -> list[list[SearchTerm]]:
    """``query`` as alternatives (joined by ``OR``) of terms that must all match.

    A value is a quoted string (double or single quotes; a backslash escapes the next
    character) or a run of non-space characters; ``field:`` before it names the field.
    No groups means no condition: everything matches.
    """
    groups: list[list[SearchTerm]] = [[]]
    position = 0
    while True:
        while position < len(query) and query[position].isspace():
            position += 1
        if position == len(query):
            return [group for group in groups if group]
        name = None
        if found := _FIELD.match(query, position):
            name, position = found[1], found.end()
        value, quoted, prefix, position = _read_value(query, position)
        if name is None and not quoted and value in ("OR", "AND"):
            if value == "OR":
                groups.append([])
            continue
        groups[-1].append(SearchTerm(name, value, prefix))


def _read_value(query: str, position: int) -> tuple[str, bool, bool, int]:
    """(value, was it quoted, is it a prefix, position after it) of the value at ``position``."""
    quote = query[position] if position < len(query) and query[position] in "\"'" else None
    position += 1 if quote else 0
    chars: list[str] = []
    prefix = False
    while position < len(query):
        char = query[position]
        position += 1
        if char == "\\" and position < len(query):
            chars.append(query[position])
            position += 1
            prefix = False
        elif char == quote or (quote is None and char.isspace()):
            break  # an unterminated quote runs to the end, as Shopify reads it
        else:
            chars.append(char)
            prefix = quote is None and char == "*"
    value = "".join(chars)
    return (value[:-1] if prefix else value), quote is not None, prefix, position


def _matches(groups: list[list[SearchTerm]], fields: Mapping[str, str | None]) -> bool:
    def term_matches(term: SearchTerm) -> bool:
        names = fields if term.field is None else [term.field]
        for name in names:
            value = fields.get(name)
            if value is None:
                continue
            value, wanted = value.casefold(), term.value.casefold()
            if value.startswith(wanted) if term.prefix else value == wanted:
                return True
        return False

    return not groups or any(all(term_matches(t) for t in group) for group in groups)


# -- the shop's data -------------------------------------------------------------------------


@dataclass
class _Customer:
    legacy_id: int
    name: str
    email: str | None
    amount_spent: Decimal
    currency: str
    tags: tuple[str, ...]
    generated: int = 0  # orders made up on demand, beyond the added ones
    generated_from: int = 0  # the number of the oldest of them

    @property
    def gid(self) -> str:
        return f"gid://shopify/Customer/{self.legacy_id}"


@dataclass
class _Order:
    legacy_id: int
    name: str
    processed_at: datetime
    financial_status: str | None
    fulfillment_status: str
    total: Decimal
    currency: str
    customer: _Customer | None
    cancelled_at: datetime | None = None
    tracking: tuple[dict[str, str | None], ...] = ()
    email: str | None = None  # the order's contact address; its customer's when not given
    shipping_zip: str | None = None
    billing_zip: str | None = None

    def node(self) -> dict[str, Any]:
        customer = self.customer
        return {
            "id": f"gid://shopify/Order/{self.legacy_id}",
            "legacyResourceId": str(self.legacy_id),  # UnsignedInt64: a string in JSON
            "name": self.name,
            "processedAt": _timestamp(self.processed_at),
            "displayFinancialStatus": self.financial_status,
            "displayFulfillmentStatus": self.fulfillment_status,
            "cancelledAt": _timestamp(self.cancelled_at) if self.cancelled_at else None,
            "totalPriceSet": {
                "shopMoney": {"amount": str(self.total), "currencyCode": self.currency}
            },
            "fulfillments": [{"trackingInfo": [dict(t) for t in self.tracking]}]
            if self.tracking
            else [],
            "customer": {"id": customer.gid, "email": customer.email, "displayName": customer.name}
            if customer
            else None,
            "email": self.email or (customer.email if customer else None),
            "shippingAddress": {"zip": self.shipping_zip} if self.shipping_zip else None,
            "billingAddress": {"zip": self.billing_zip} if self.billing_zip else None,
        }


# -- requests and answers --------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedCall:
    """One request as the fake saw and answered it. Header names are lower-cased."""

    operation: str | None  # the root field, e.g. "customers"; None when not recognised
    operation_name: str | None
    variables: dict[str, Any]
    query: str
    headers: dict[str, str]
    status: int
    response: Any  # the JSON body sent back


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Refused(Exception):
    """A document the fake cannot answer: a 400 with a GraphQL error."""


class FakeShopify(LoopbackService):
    """One shop's GraphQL Admin API on a local port. Thread-safe.

    Set :attr:`scopes` to the token's granted scopes, :attr:`delay` to slow every answer.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = "shpat_fake",
        shop: str = "fakeshop",
        version: str = "2025-07",
        scopes: Iterable[str] = ALL_SCOPES,
    ) -> None:
        self.token = token
        self.shop = shop
        self.version = version
        self.scopes = set(scopes)
        self.delay = 0.0
        self._address = (host, port)
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._customers: dict[int, _Customer] = {}
        self._orders: dict[int, _Order] = {}
        self._faults: deque[_Reply] = deque()
        self._throttles: deque[float] = deque()  # currentlyAvailable of each throttled answer
        self._next_generated = _GENERATED_NUMBERS_FROM

    @classmethod
    def with_bob(cls, **options: Any) -> FakeShopify:
        fake = cls(**options)
        fake.seed_bob()
        return fake

    # -- lifecycle ---------------------------------------------------------------------------

    def _respond(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        reply = self._serve(method, path, dict(headers), body)
        kind = {"Content-Type": "application/json; charset=utf-8"}
        return reply.status, {**kind, **reply.headers}, json.dumps(reply.body).encode()

    @property
    def url(self) -> str:
        """The Admin API base URL, for ``SHOPIFY_API_URL``: ``…/admin/api/<version>``."""
        return f"{self._origin}/admin/api/{self.version}"

    # -- the shop's data ---------------------------------------------------------------------

    def add_customer(
        self,
        legacy_id: int,
        name: str,
        email: str | None,
        *,
        amount_spent: Decimal | str = "0.00",
        currency: str = "USD",
        tags: Iterable[str] = (),
    ) -> str:
        """Add (or replace) a customer; returns their GID."""
        customer = _Customer(legacy_id, name, email, Decimal(amount_spent), currency, tuple(tags))
        with self._lock:
            self._customers[legacy_id] = customer
        return customer.gid

    def add_order(
        self,
        legacy_id: int,
        name: str,
        *,
        customer: str | None = None,
        processed_at: datetime | None = None,
        financial_status: str | None = "PAID",
        fulfillment_status: str = "UNFULFILLED",
        total: Decimal | str = "0.00",
        currency: str = "USD",
        cancelled_at: datetime | None = None,
        tracking: Iterable[Mapping[str, str | None]] = (),
        email: str | None = None,
        shipping_zip: str | None = None,
        billing_zip: str | None = None,
    ) -> str:
        """Add an order, of ``customer`` (a GID) if given; returns its GID.

        ``tracking``: ``{"number": ..., "url": ..., "company": ...}`` per tracking number.
        ``email`` is the order's contact address (the customer's when not given); the zips
        are its shipping and billing addresses' postcodes.
        """
        infos = tuple({key: t.get(key) for key in ("number", "url", "company")} for t in tracking)
        with self._lock:
            self._orders[legacy_id] = _Order(
                legacy_id,
                name,
                processed_at or datetime.now(UTC),
                financial_status,
                fulfillment_status,
                Decimal(total),
                currency,
                self._customer(customer) if customer else None,
                cancelled_at,
                infos,
                email,
                shipping_zip,
                billing_zip,
            )
        return f"gid://shopify/Order/{legacy_id}"

    def set_customer_orders(self, gid: str, count: int) -> None:
        """Give the customer ``count`` orders in all, making up the missing ones on demand.

        Made-up orders are older than 2024, paid, fulfilled, 10.00 in the customer's currency;
        nothing is stored for them, so 10,000 cost nothing until asked for.
        """
        with self._lock:
            customer = self._customer(gid)
            added = sum(1 for order in self._orders.values() if order.customer is customer)
            if count < added:
                raise ValueError(f"the customer already has {added} added orders")
            customer.generated = count - added
            customer.generated_from = self._next_generated
            self._next_generated += customer.generated

    def seed_bob(self) -> str:
        """Bob Norman and his order #1001, from ShopifyAPI's test fixtures; returns his GID.

        As the fixtures have them: 1 order, 41.94 USD spent (customer.json), though the order
        totals 409.94 USD (order.json); financial status "authorized", fulfillment status
        null (GraphQL's UNFULFILLED); tracking 1Z2345 with no company. The order's date is
        its fulfillment's (2014-01-22).
        """
        bob = self.add_customer(207119551, "Bob Norman", BOB_EMAIL, amount_spent="41.94")
        self.add_order(
            450789469,
            "#1001",
            customer=bob,
            processed_at=datetime.fromisoformat("2014-01-22T15:58:27-05:00"),
            financial_status="AUTHORIZED",
            fulfillment_status="UNFULFILLED",
            total="409.94",
            tracking=[{"number": "1Z2345", "url": UPS_TRACKING_URL, "company": None}],
        )
        return bob

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, retry_after: float | None = None) -> None:
        """Answer the next ``n`` requests with HTTP ``status`` (429s say ``Retry-After``)."""
        headers = {}
        if status == 429 or retry_after is not None:
            headers["Retry-After"] = f"{2.0 if retry_after is None else retry_after}"
        reply = _Reply(status, {"errors": HTTPStatus(status).phrase}, headers)
        with self._lock:
            self._faults.extend(itertools.repeat(reply, n))

    def throttle_next(self, n: int = 1, available: float = 0.0) -> None:
        """Answer the next ``n`` queries ``THROTTLED``, with ``available`` points in the bucket."""
        with self._lock:
            self._throttles.extend(itertools.repeat(available, n))

    # -- inspection --------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[RecordedCall]:
        """The calls whose root field is ``operation``, e.g. "customers"."""
        return [call for call in self.calls if call.operation == operation]

    # -- serving -----------------------------------------------------------------------------

    def _serve(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        if verb != "POST" or not _PATH.fullmatch(path.partition("?")[0]):
            return _Reply(404, {"errors": "Not Found"})
        time.sleep(self.delay)  # outside the lock: a slow answer holds up no other request
        try:
            request = json.loads(body or b"{}")
            query = str(request.get("query") or "")
            variables = dict(request.get("variables") or {})
            operation_name = request.get("operationName")
        except (ValueError, TypeError, AttributeError):
            return _Reply(400, {"errors": [{"message": "the body must be a JSON object"}]})
        found = _ROOT.match(query)
        root = found[1] if found and found[1] in _SCOPE_OF else None
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            reply = self._answer(root, query, variables, lowered)
            self._calls.append(
                RecordedCall(
                    root, operation_name, variables, query, lowered, reply.status, reply.body
                )
            )
        return reply

    def _answer(
        self, root: str | None, query: str, variables: dict[str, Any], headers: dict[str, str]
    ) -> _Reply:
        if self._faults:
            return self._faults.popleft()
        if headers.get("x-shopify-access-token") != self.token:
            return _Reply(401, {"errors": INVALID_TOKEN})
        try:
            if root is None:
                raise _Refused("fake_shopify knows no such query; see its module docstring")
            arguments = _arguments(query, root, variables)
            first = _count(arguments, "first") if root in ("customers", "orders") else 1
            # The customer's own orders(...), when the query asks for them.
            nested = _arguments(query, "orders", variables) if root != "orders" else {}
            orders = _count(nested, "first") if nested else 0
            requested = _cost(root, first, orders)
            if self._throttles:
                return _Reply(200, _throttled(requested, self._throttles.popleft()))
            if denied := self._denied(root, query):
                return _Reply(200, {"errors": denied, "data": None, **_cost_extension(requested)})
            data = {root: self._resolve(root, arguments, first, nested)}
        except _Refused as refusal:
            return _Reply(400, {"errors": [{"message": str(refusal)}]})
        return _Reply(200, {"data": data, **_cost_extension(requested, _actual_cost(data))})

    def _denied(self, root: str, query: str) -> list[dict[str, Any]]:
        """ACCESS_DENIED errors, as Shopify words them, for scopes the query needs but lacks."""
        needed = {_SCOPE_OF[root]: [root]}
        if root != "orders" and re.search(r"\borders\s*[({]", query):
            needed["read_orders"] = [root, "orders"]
        if root == "orders" and re.search(r"\bcustomer\s*\{", query):
            needed["read_customers"] = [root, "customer"]
        return [
            {
                "message": f"Access denied for {path[-1]} field. "
                f"Required access: `{scope}` access scope.",
                "path": path,
                "extensions": {
                    "code": "ACCESS_DENIED",
                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                    "requiredAccess": f"`{scope}` access scope.",
                },
            }
            for scope, path in needed.items()
            if scope is not None and scope not in self.scopes
        ]

    def _resolve(
        self, root: str, arguments: dict[str, Any], first: int, nested: dict[str, Any]
    ) -> Any:
        if root == "currentAppInstallation":
            return {"accessScopes": [{"handle": scope} for scope in sorted(self.scopes)]}
        if root == "customer":
            found = _CUSTOMER_GID.fullmatch(str(arguments.get("id")))
            customer = self._customers.get(int(found[1])) if found else None
            return self._customer_node(customer, nested) if customer else None
        groups = parse_query(str(arguments.get("query") or ""))
        if root == "customers":
            customers = (c for c in self._customers.values() if _matches(groups, _fields_of(c)))
            picked = itertools.islice(customers, first)
            return {"nodes": [self._customer_node(customer, nested) for customer in picked]}
        orders = (o for o in self._all_orders() if _matches(groups, _fields_of(o)))
        return {"nodes": [order.node() for order in itertools.islice(orders, first)]}

    def _customer_node(self, customer: _Customer, nested: dict[str, Any]) -> dict[str, Any]:
        node = {
            "id": customer.gid,
            "legacyResourceId": str(customer.legacy_id),
            "displayName": customer.name,
            "email": customer.email,
            "numberOfOrders": str(len(self._added_orders(customer)) + customer.generated),
            "amountSpent": {
                "amount": str(customer.amount_spent),
                "currencyCode": customer.currency,
            },
            "tags": list(customer.tags),
        }
        if nested:
            newest_first = nested.get("reverse") is True
            orders = self._orders_of(customer, newest_first)
            picked = itertools.islice(orders, _count(nested, "first"))
            node["orders"] = {"nodes": [order.node() for order in picked]}
        return node

    # -- orders, added and made up -----------------------------------------------------------

    def _customer(self, gid: str) -> _Customer:
        found = _CUSTOMER_GID.fullmatch(gid)
        if found is None or int(found[1]) not in self._customers:
            raise KeyError(f"no customer {gid!r}; add_customer() first")
        return self._customers[int(found[1])]

    def _added_orders(self, customer: _Customer) -> list[_Order]:
        return [order for order in self._orders.values() if order.customer is customer]

    def _orders_of(self, customer: _Customer, newest_first: bool) -> Iterator[_Order]:
        """The customer's orders by processing date, made-up ones created as they are read."""
        added = sorted(
            self._added_orders(customer), key=lambda o: o.processed_at, reverse=newest_first
        )
        ages = range(customer.generated) if newest_first else range(customer.generated)[::-1]
        made_up = (self._made_up(customer, age) for age in ages)
        return heapq.merge(added, made_up, key=lambda o: o.processed_at, reverse=newest_first)

    def _all_orders(self) -> Iterator[_Order]:
        made_up = (
            self._made_up(customer, age)
            for customer in self._customers.values()
            for age in range(customer.generated)
        )
        return itertools.chain(self._orders.values(), made_up)

    @staticmethod
    def _made_up(customer: _Customer, age: int) -> _Order:
        """The customer's ``age``-th newest made-up order (0 is the newest)."""
        number = customer.generated_from + customer.generated - 1 - age
        return _Order(
            legacy_id=9_000_000_000 + number,
            name=f"#{number}",
            processed_at=_GENERATED_NEWEST - timedelta(hours=age),
            financial_status="PAID",
            fulfillment_status="FULFILLED",
            total=Decimal("10.00"),
            currency=customer.currency,
            customer=customer,
        )


# -- helpers ---------------------------------------------------------------------------------


def _arguments(query: str, name: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of the first ``name(...)`` in ``query``, variables resolved; {} if none."""
    found = re.search(rf"\b{name}\s*\(([^)]*)\)", query)
    arguments: dict[str, Any] = {}
    for key, raw in _ARGUMENT.findall(found[1] if found else ""):
        if raw.startswith('"'):
            raise _Refused(f"argument {key}: pass strings as variables, not literals")
        if raw.startswith("$"):
            arguments[key] = variables.get(raw[1:])
        elif raw.lstrip("-").isdigit():
            arguments[key] = int(raw)
        else:
            arguments[key] = {"true": True, "false": False, "null": None}.get(raw, raw)
    return arguments


def _count(arguments: Mapping[str, Any], name: str) -> int:
    value = arguments.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 250:
        raise _Refused(f"argument {name} must be an Int from 0 to 250, not {value!r}")
    return value


def _fields_of(item: _Customer | _Order) -> dict[str, str | None]:
    """The searchable fields: what `email:` and `name:` (or a bare value) are matched against."""
    if isinstance(item, _Customer):
        return {"email": item.email, "name": item.name}
    return {"name": item.name, "email": item.customer.email if item.customer else None}


def _cost(root: str, first: int, orders: int) -> int:
    """A requestedQueryCost in the spirit of Shopify's: a point per object it may return.

    An order is 3 (itself, its customer, its fulfillments); a customer 2 plus its orders; a
    connection 2 plus `first` nodes.
    """
    order = 3
    customer = 2 + order * orders
    node = {"customers": customer, "customer": customer, "orders": order}.get(root, 1)
    return 2 + first * node if root in ("customers", "orders") else node


def _actual_cost(data: Any) -> int:
    """A point per object returned (anything with an id) and per connection; at least 1."""

    def points(value: Any) -> int:
        if isinstance(value, list):
            return sum(points(item) for item in value)
        if isinstance(value, dict):
            own = 1 if "id" in value or "nodes" in value else 0
            return own + sum(points(item) for item in value.values())
        return 0

    return max(1, points(data))


def _cost_extension(requested: int, actual: int | None = None) -> dict[str, Any]:
    spent = requested if actual is None else actual
    status = {
        "maximumAvailable": MAXIMUM_AVAILABLE,
        "currentlyAvailable": MAXIMUM_AVAILABLE - spent,
        "restoreRate": RESTORE_RATE,
    }
    cost = {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status}
    return {"extensions": {"cost": cost}}


def _throttled(requested: int, available: float) -> dict[str, Any]:
    answer = _cost_extension(requested)
    answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = available
    error = {
        "message": "Throttled",
        "extensions": {
            "code": "THROTTLED",
            "documentation": "https://shopify.dev/api/usage/rate-limits",
        },
    }
    return {"errors": [error], **answer}


def _timestamp(moment: datetime) -> str:
    """Shopify's DateTime: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
