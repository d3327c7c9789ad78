"""A stand-in for Shopify's GraphQL Admin API, served over real HTTP on 127.0.0.1.

The helpdesk talks to it exactly as it talks to a shop: point ``SHOPIFY_API_URL`` (or
``ShopifyClient(api_url=...)``) at :attr:`FakeShopify.url`. It answers the helpdesk's
lookups and actions from a small simulated shop (customers, their orders with line items,
shipping, payments and refunds; draft orders; discount codes), records every call, and can
be told to fail the way Shopify fails: a wrong token (401), missing scopes
(``ACCESS_DENIED``), ``THROTTLED``, 5xx and 429 answers, slow answers, and a mutation
applied whose answer never comes (:meth:`FakeShopify.cut_after_apply`).

    with FakeShopify.with_bob() as shop:
        client = ShopifyClient(shop.shop, shop.token, api_url=shop.url)
        assert client.customer_by_email(BOB_EMAIL).name == "Bob Norman"
        assert shop.calls[0].variables["query"] == 'email:"bob.norman@hostmail.com"'

It is no full GraphQL server, but it reads documents with graphql-core's parser
(:mod:`bot.devtools.fake_shopify_graphql`): one root field per request (aliases, variables,
fragments and ``@idempotent`` understood), answered with exactly the fields selected. A root
field it does not know, a field it cannot answer, and any string literal in an argument
(values must come as variables) are refused with a 400. Search queries (``email:"…"``,
``name:"…"``, ``tag:"…"``) are parsed as Shopify's search syntax (:func:`parse_query`).

The mutations (:mod:`bot.devtools.fake_shopify_actions`) validate as Shopify does and answer
``userErrors`` with ``field`` paths. ``orderCancel`` answers a Job that is done, and the
order cancelled, from the next request on. ``refundCreate`` honours ``@idempotent(key:)``:
the same key answers the first result again without a second refund, a key reused with
other arguments is refused, and from version 2026-04 on the directive is mandatory.
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

from bot.devtools.fake_shopify_actions import ShopActions
from bot.devtools.fake_shopify_graphql import BadRequest, Request, RootField, project, read_request
from bot.devtools.fake_shopify_orders import (
    ADDRESS_FIELDS,
    Customer,
    LineItem,
    Order,
    Refund,
    Transaction,
)
from bot.devtools.loopback import DropConnection, LoopbackService

# Bob Norman and his order #1001, from ShopifyAPI's REST test fixtures (test/fixtures/
# customer.json and order.json of Shopify/shopify_python_api), in GraphQL Admin API shapes.
BOB_ID = "gid://shopify/Customer/207119551"
BOB_EMAIL = "bob.norman@hostmail.com"
BOB_ORDER_ID = "gid://shopify/Order/450789469"
BOB_LINE_IDS = ("gid://shopify/LineItem/466157049", "gid://shopify/LineItem/518995019")
UPS_TRACKING_URL = (
    "http://wwwapps.ups.com/etracking/tracking.cgi?InquiryNumber1=1Z2345"
    "&TypeOfInquiryNumber=T&AcceptUPSLicenseAgreement=yes&submit=Track"
)

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
READ_SCOPES = frozenset({"read_customers", "read_orders"})
WRITE_SCOPES = frozenset({"write_orders", "write_draft_orders", "write_discounts"})
ALL_SCOPES = READ_SCOPES | WRITE_SCOPES
DEFAULT_VERSION = "2026-10"
IDEMPOTENCY_MANDATORY_FROM = "2026-04"  # for refundCreate
MAXIMUM_AVAILABLE = 2000.0  # Shopify Plus's bucket, and its restore rate per second
RESTORE_RATE = 100.0

_PATH = re.compile(r"/admin/api/(\d{4}-\d{2}|unstable)/graphql\.json")
_FIELD = re.compile(r"([A-Za-z_][\w.]*):")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]+)")
_QUERY_SCOPES = {
    "customers": "read_customers",
    "customer": "read_customers",
    "orders": "read_orders",
    "order": "read_orders",
    "currentAppInstallation": None,
    "job": None,
    "draftOrders": "read_draft_orders",
    "codeDiscountNodeByCode": "read_discounts",
}
_MUTATION_SCOPES = {
    "refundCreate": "write_orders",
    "orderCancel": "write_orders",
    "orderUpdate": "write_orders",
    "draftOrderCreate": "write_draft_orders",
    "draftOrderComplete": "write_draft_orders",
    "discountCodeBasicCreate": "write_discounts",
}
_IDEMPOTENT = frozenset({"refundCreate"})  # of these, the mutations that take @idempotent
# Orders made up by set_customer_orders(): numbered from here, newest an hour apart.
_GENERATED_NUMBERS_FROM = 100_000
_GENERATED_NEWEST = datetime(2024, 1, 1, tzinfo=UTC)
_PAID = ("PAID", "PARTIALLY_REFUNDED", "REFUNDED")


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
    response: Any  # the JSON body sent back (or that would have been, for a cut one)


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeShopify(LoopbackService):
    """One shop's GraphQL Admin API on a local port. Thread-safe.

    Set :attr:`scopes` to the token's granted scopes, :attr:`delay` to slow every answer.
    Tests read the shop's state with :meth:`order` (line items, transactions, refunds, the
    address, ``cancelled_at``) and :attr:`actions` (``drafts``, ``discount(code)``, ``jobs``),
    and what was asked with :attr:`calls` and :meth:`calls_to` (by root field).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str = "shpat_fake",
        shop: str = "fakeshop",
        version: str = DEFAULT_VERSION,
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
        self._customers: dict[int, Customer] = {}
        self._orders: dict[int, Order] = {}
        self._faults: deque[_Reply] = deque()
        self._throttles: deque[float] = deque()  # currentlyAvailable of each throttled answer
        self._cuts: dict[str, int] = {}  # mutations to apply and then answer with a cut
        self._holds: deque[float] = deque()  # seconds to hold each next answer
        self._idempotent: dict[str, tuple[str, Any]] = {}  # key: (arguments, answer)
        self._next_generated = _GENERATED_NUMBERS_FROM
        self._ids = itertools.count(1_000_001)
        self._actions = ShopActions(
            self._orders, self._customers, self._ids, lambda: datetime.now(UTC)
        )

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
        customer = Customer(legacy_id, name, email, Decimal(amount_spent), currency, tuple(tags))
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
        line_items: Iterable[Mapping[str, Any]] | None = None,
        shipping: Decimal | str = "0.00",
        shipping_address: Mapping[str, Any] | None = None,
        gateway: str = "shopify_payments",
    ) -> str:
        """Add an order, of ``customer`` (a GID) if given; returns its GID.

        ``tracking``: ``{"number": ..., "url": ..., "company": ...}`` per tracking number.
        ``email`` is the order's contact address (the customer's when not given); the zips
        are its shipping and billing addresses' postcodes.

        ``line_items``: ``{"title", "price", "quantity"=1, "sku"=None, "variant_id"=None,
        "id"=None}`` each (quantities of a FULFILLED order count as fulfilled); without them
        the order has one line worth ``total`` less ``shipping``. ``shipping_address`` takes
        MailingAddressInput's fields (firstName, lastName, address1, city, provinceCode, zip,
        countryCode, ...). A PAID order has a SALE of ``total`` through ``gateway``, an
        AUTHORIZED one only an authorization, and a REFUNDED one is refunded in full.
        """
        total_amount, shipping_amount = Decimal(total), Decimal(shipping)
        items = (
            list(line_items)
            if line_items is not None
            else [{"title": "Order items", "price": total_amount - shipping_amount}]
        )
        fulfilled = fulfillment_status == "FULFILLED"
        address = dict(shipping_address) if shipping_address else None
        if address is None and shipping_zip:
            address = {"zip": shipping_zip}
        with self._lock:
            lines = []
            for item in items:
                quantity = int(item.get("quantity", 1))
                lines.append(
                    LineItem(
                        int(item.get("id") or next(self._ids)),
                        str(item["title"]),
                        item.get("sku"),
                        quantity,
                        Decimal(item["price"]),
                        item.get("variant_id"),
                        fulfilled=quantity if fulfilled else int(item.get("fulfilled", 0)),
                    )
                )
            order = Order(
                legacy_id,
                name,
                processed_at or datetime.now(UTC),
                financial_status,
                fulfillment_status,
                total_amount,
                currency,
                self._customer(customer) if customer else None,
                cancelled_at,
                tuple({key: t.get(key) for key in ("number", "url", "company")} for t in tracking),
                email,
                shipping_zip or (address or {}).get("zip"),
                billing_zip,
                lines,
                shipping_amount,
                shipping_address=(
                    {key: address.get(key) for key in ADDRESS_FIELDS} if address else None
                ),
            )
            self._pay(order, gateway)
            self._orders[legacy_id] = order
        return order.gid

    def _pay(self, order: Order, gateway: str) -> None:
        """The transactions an order of its financial status has."""
        if order.financial_status in _PAID and order.total > 0:
            order.transactions.append(Transaction(next(self._ids), "SALE", gateway, order.total))
        elif order.financial_status in ("AUTHORIZED", "PARTIALLY_PAID") and order.total > 0:
            order.transactions.append(
                Transaction(next(self._ids), "AUTHORIZATION", gateway, order.total)
            )
        if order.financial_status == "REFUNDED" and order.transactions:
            sale = order.transactions[0]
            order.transactions.append(
                Transaction(next(self._ids), "REFUND", gateway, sale.amount, parent=sale.legacy_id)
            )
            for line in order.line_items:
                line.refunded = line.quantity
            order.shipping_refunded = order.shipping_price
            lines = tuple(
                (line.legacy_id, line.quantity, "NO_RESTOCK") for line in order.line_items
            )
            order.refunds.append(
                Refund(
                    next(self._ids),
                    order.processed_at,
                    None,
                    sale.amount,
                    order.shipping_price,
                    lines,
                )
            )

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
        totals 409.94 USD (order.json); financial status "authorized" (nothing captured, so
        nothing to refund), fulfillment status null (GraphQL's UNFULFILLED); tracking 1Z2345
        with no company; two iPod Nano lines at 199.00 through the "bogus" gateway, shipped
        to Bob in Ottawa. The order's date is its fulfillment's (2014-01-22). Taxes and
        discounts are not modelled, so the lines and shipping don't add up to the total.
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
            line_items=[
                {
                    "id": 466157049,
                    "title": "IPod Nano - 8gb",
                    "sku": "IPOD2008GREEN",
                    "price": "199.00",
                    "variant_id": 39072856,
                },
                {
                    "id": 518995019,
                    "title": "IPod Nano - 8gb",
                    "sku": "IPOD2008RED",
                    "price": "199.00",
                    "variant_id": 49148385,
                },
            ],
            shipping="10.00",
            shipping_address={
                "firstName": "Bob",
                "lastName": "Norman",
                "address1": "Chestnut Street 92",
                "city": "Louisville",
                "provinceCode": "KY",
                "zip": "40202",
                "countryCode": "US",
                "phone": "555-625-1199",
            },
            gateway="bogus",
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
        """Answer the next ``n`` requests ``THROTTLED``, with ``available`` points in the bucket."""
        with self._lock:
            self._throttles.extend(itertools.repeat(available, n))

    def cut_after_apply(self, operation: str, n: int = 1) -> None:
        """Apply the next ``n`` ``operation`` mutations (e.g. "refundCreate"), then close the
        connection without answering: the client cannot know whether they were applied."""
        if operation not in _MUTATION_SCOPES:
            raise ValueError(f"not a mutation the fake knows: {operation!r}")
        with self._lock:
            self._cuts[operation] = self._cuts.get(operation, 0) + n

    def delay_next(self, seconds: float) -> None:
        """Answer the next request (applied as usual) only after ``seconds``: for timeouts."""
        with self._lock:
            self._holds.append(seconds)

    # -- inspection --------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[RecordedCall]:
        """The calls whose root field is ``operation``, e.g. "customers" or "refundCreate"."""
        return [call for call in self.calls if call.operation == operation]

    def order(self, gid: str) -> Order:
        """The order's live state (line items, transactions, refunds, address, cancellation)."""
        with self._lock:
            order = self._actions.order(gid)
        if order is None:
            raise KeyError(f"no order {gid!r}")
        return order

    @property
    def actions(self) -> ShopActions:
        """Draft orders, discount codes and jobs, for tests to read (not to change)."""
        return self._actions

    # -- serving -----------------------------------------------------------------------------

    def _serve(self, verb: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        found = _PATH.fullmatch(path.partition("?")[0])
        if verb != "POST" or not found:
            return _Reply(404, {"errors": "Not Found"})
        time.sleep(self.delay)  # outside the lock: a slow answer holds up no other request
        try:
            posted = json.loads(body or b"{}")
            query = str(posted.get("query") or "")
            variables = dict(posted.get("variables") or {})
            operation_name = posted.get("operationName")
        except (ValueError, TypeError, AttributeError):
            return _Reply(400, {"errors": [{"message": "the body must be a JSON object"}]})
        lowered = {name.lower(): value for name, value in headers.items()}
        with self._lock:
            self._actions.settle()  # what earlier requests started has finished meanwhile
            root: RootField | None = None
            try:
                request = read_request(query, operation_name, variables)
                root = request.fields[0] if request.fields else None
                reply = self._answer(request, root, found[1], lowered)
            except BadRequest as refusal:
                reply = _Reply(400, {"errors": [{"message": str(refusal)}]})
            name = (
                root.name
                if root and (root.name in _QUERY_SCOPES or root.name in _MUTATION_SCOPES)
                else None
            )
            self._calls.append(
                RecordedCall(
                    name, operation_name, variables, query, lowered, reply.status, reply.body
                )
            )
            cut = reply.status == 200 and name is not None and self._take_cut(name, reply)
            hold = self._holds.popleft() if self._holds else 0.0
        time.sleep(hold)  # outside the lock, as above
        if cut:
            raise DropConnection(f"{name} applied; answer withheld")
        return reply

    def _take_cut(self, name: str, reply: _Reply) -> bool:
        if not self._cuts.get(name) or "errors" in reply.body:
            return False
        self._cuts[name] -= 1
        return True

    def _answer(
        self, request: Request, root: RootField | None, version: str, headers: dict[str, str]
    ) -> _Reply:
        if self._faults:
            return self._faults.popleft()
        if headers.get("x-shopify-access-token") != self.token:
            return _Reply(401, {"errors": INVALID_TOKEN})
        known = _MUTATION_SCOPES if request.kind == "mutation" else _QUERY_SCOPES
        if root is None or root.name not in known:
            raise BadRequest("fake_shopify knows no such query; see its module docstring")
        if len(request.fields) > 1:
            raise BadRequest("fake_shopify answers one root field per request")
        if root.name in _QUERY_SCOPES:
            first = _count(root.arguments, "first") if root.name in ("customers", "orders") else 1
            nested = request.nested(root, "orders") if root.name != "orders" else None
            orders = _count(nested, "first") if nested is not None else 0
        else:
            first = orders = 0
        requested = _cost(root.name, first, orders)
        if self._throttles:
            return _Reply(200, _throttled(requested, self._throttles.popleft()))
        if denied := self._denied(request, root):
            return _Reply(200, {"errors": denied, "data": None, **_cost_extension(requested)})
        if refusal := self._idempotency_refusal(root, version):
            return _Reply(200, {"errors": [refusal], "data": None, **_cost_extension(requested)})
        value = self._resolve(request, root)
        data = {root.key: project(request, value, root.node.selection_set)}
        return _Reply(200, {"data": data, **_cost_extension(requested, _actual_cost(data))})

    def _denied(self, request: Request, root: RootField) -> list[dict[str, Any]]:
        """ACCESS_DENIED errors, as Shopify words them, for scopes the query needs but lacks."""
        scope = _QUERY_SCOPES.get(root.name) or _MUTATION_SCOPES.get(root.name)
        needed = {scope: [root.key]}
        if root.name not in ("orders", "order") and request.nested(root, "orders") is not None:
            needed["read_orders"] = [root.key, "orders"]
        if root.name in ("orders", "order") and request.nested(root, "customer") is not None:
            needed["read_customers"] = [root.key, "customer"]
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
            if scope is not None and not self._granted(scope)
        ]

    def _granted(self, scope: str) -> bool:
        """A write scope brings its read scope along, as Shopify's do."""
        return scope in self.scopes or scope.replace("read_", "write_", 1) in self.scopes

    def _idempotency_refusal(self, root: RootField, version: str) -> dict[str, Any] | None:
        directive = root.directives.get("idempotent")
        if directive is None:
            mandatory = root.name in _IDEMPOTENT and (
                version == "unstable" or version >= IDEMPOTENCY_MANDATORY_FROM
            )
            return _bad_request(f"{root.name} requires @idempotent(key:)") if mandatory else None
        if root.name not in _IDEMPOTENT:
            return _bad_request(f"{root.name} does not support @idempotent")
        if not str(directive.get("key") or "").strip():
            return _bad_request("The idempotency key cannot be empty")
        return None

    def _resolve(self, request: Request, root: RootField) -> Any:
        arguments = root.arguments
        if root.name in _MUTATION_SCOPES:
            return self._mutate(root)
        if root.name == "currentAppInstallation":
            return {"accessScopes": [{"handle": scope} for scope in sorted(self.scopes)]}
        if root.name == "customer":
            found = _CUSTOMER_GID.fullmatch(str(arguments.get("id")))
            customer = self._customers.get(int(found[1])) if found else None
            return self._customer_node(customer) if customer else None
        if root.name == "order":
            order = self._actions.order(arguments.get("id"))
            return order.node() if order else None
        if root.name == "job":
            return self._actions.job(arguments.get("id"))
        if root.name == "codeDiscountNodeByCode":
            discount = self._actions.discount(arguments.get("code"))
            return discount.node() if discount else None
        groups = parse_query(str(arguments.get("query") or ""))
        if root.name == "draftOrders":
            drafts = self._actions.drafts_matching(lambda fields: _matches(groups, fields))
            return {"nodes": [d.node() for d in drafts[: _count(arguments, "first")]]}
        first = _count(arguments, "first")
        if root.name == "customers":
            customers = (c for c in self._customers.values() if _matches(groups, _fields_of(c)))
            picked = itertools.islice(customers, first)
            return {"nodes": [self._customer_node(customer) for customer in picked]}
        orders = (o for o in self._all_orders() if _matches(groups, _fields_of(o)))
        return {"nodes": [order.node() for order in itertools.islice(orders, first)]}

    def _mutate(self, root: RootField) -> Any:
        """The mutation's payload; a repeated idempotency key answers the first payload."""
        key = (root.directives.get("idempotent") or {}).get("key")
        fingerprint = json.dumps([root.name, root.arguments], sort_keys=True, default=str)
        if key is not None and key in self._idempotent:
            earlier, payload = self._idempotent[key]
            if earlier != fingerprint:
                raise BadRequest("the idempotency key was used for another request")
            return payload
        run = {
            "refundCreate": self._actions.refund_create,
            "orderCancel": self._actions.order_cancel,
            "orderUpdate": self._actions.order_update,
            "draftOrderCreate": self._actions.draft_order_create,
            "draftOrderComplete": self._actions.draft_order_complete,
            "discountCodeBasicCreate": self._actions.discount_code_basic_create,
        }[root.name]
        payload = run(root.arguments)
        if key is not None:
            self._idempotent[key] = (fingerprint, payload)
        return payload

    def _customer_node(self, customer: Customer) -> dict[str, Any]:
        def orders(arguments: dict[str, Any]) -> dict[str, Any]:
            newest_first = arguments.get("reverse") is True
            picked = itertools.islice(
                self._orders_of(customer, newest_first), _count(arguments, "first")
            )
            return {"nodes": [order.node() for order in picked]}

        return {
            "__typename": "Customer",
            "id": customer.gid,
            "legacyResourceId": str(customer.legacy_id),
            "displayName": customer.name,
            "email": customer.email,
            "defaultEmailAddress": customer.brief()["defaultEmailAddress"],
            "numberOfOrders": str(len(self._added_orders(customer)) + customer.generated),
            "amountSpent": {
                "amount": str(customer.amount_spent),
                "currencyCode": customer.currency,
            },
            "tags": list(customer.tags),
            "orders": orders,
        }

    # -- orders, added and made up -----------------------------------------------------------

    def _customer(self, gid: str) -> Customer:
        found = _CUSTOMER_GID.fullmatch(gid)
        if found is None or int(found[1]) not in self._customers:
            raise KeyError(f"no customer {gid!r}; add_customer() first")
        return self._customers[int(found[1])]

    def _added_orders(self, customer: Customer) -> list[Order]:
        return [order for order in self._orders.values() if order.customer is customer]

    def _orders_of(self, customer: Customer, newest_first: bool) -> Iterator[Order]:
        """The customer's orders by processing date, made-up ones created as they are read."""
        added = sorted(
            self._added_orders(customer), key=lambda o: o.processed_at, reverse=newest_first
        )
        ages = range(customer.generated) if newest_first else range(customer.generated)[::-1]
        made_up = (self._made_up(customer, age) for age in ages)
        return heapq.merge(added, made_up, key=lambda o: o.processed_at, reverse=newest_first)

    def _all_orders(self) -> Iterator[Order]:
        made_up = (
            self._made_up(customer, age)
            for customer in self._customers.values()
            for age in range(customer.generated)
        )
        return itertools.chain(list(self._orders.values()), made_up)

    @staticmethod
    def _made_up(customer: Customer, age: int) -> Order:
        """The customer's ``age``-th newest made-up order (0 is the newest)."""
        number = customer.generated_from + customer.generated - 1 - age
        return Order(
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


def _bad_request(message: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": "BAD_REQUEST"}}


def _count(arguments: Mapping[str, Any], name: str) -> int:
    value = arguments.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 250:
        raise BadRequest(f"argument {name} must be an Int from 0 to 250, not {value!r}")
    return value


def _fields_of(item: Customer | Order) -> dict[str, str | None]:
    """The searchable fields: what `email:` and `name:` (or a bare value) are matched against."""
    if isinstance(item, Customer):
        return {"email": item.email, "name": item.name}
    return {"name": item.name, "email": item.customer.email if item.customer else None}


def _cost(root: str, first: int, orders: int) -> int:
    """A requestedQueryCost in the spirit of Shopify's: a point per object it may return.

    An order is 3 (itself, its customer, its fulfillments); a customer 2 plus its orders; a
    connection 2 plus `first` nodes.
    """
    order = 3
    customer = 2 + order * orders
    if root in _MUTATION_SCOPES:
        return 10  # what Shopify charges for a mutation
    node = {"customers": customer, "customer": customer, "orders": order, "order": order}
    return 2 + first * node.get(root, 1) if root in ("customers", "orders") else node.get(root, 1)


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
