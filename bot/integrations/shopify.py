"""The shop's customers and orders, read from Shopify's GraphQL Admin API.

ShopifyAPI (the ``shopify`` package) supplies the session: the Admin API endpoint for a shop
and version, and the headers that carry the token. The POST is ours, because the package's
``GraphQL.execute`` waits forever and prints failures to stdout.

Every lookup is a fixed GraphQL document plus variables, so nothing a customer wrote is ever
spliced into GraphQL; what goes into Shopify's search syntax is quoted by :func:`search_value`.
A failure is a :class:`ShopifyError` whose ``kind`` callers branch on (a passing outage is
retried later, a bad token needs a person) and whose text tells a person what to do.

    client = ShopifyClient("myshop", "shpat_...")
    bob = client.customer_by_email("bob.norman@hostmail.com")
    order = client.order_by_name("#1001")
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import shopify

log = logging.getLogger(__name__)

REQUIRED_SCOPES = {"read_customers", "read_orders"}
# The Admin API version the documents are written (and schema-checked) against; Shopify
# supports a version for a year, and refundCreate needs @idempotent from 2026-04.
PINNED_VERSION = "2026-10"

ErrorKind = Literal[
    "unauthorized",
    "missing_scope",
    "unavailable",
    "timeout",
    "throttled",
    "bad_response",
    "user_errors",  # a mutation Shopify refused: nothing applied (shopify_actions)
    "in_doubt",  # a mutation that may have been applied: reconcile (shopify_actions)
]

_MAX_PAGE = 250  # Shopify's largest `first:` for a connection
_MAX_WAIT = 10.0  # seconds; past this a caller is better off retrying the whole lookup later
_MIN_THROTTLE_WAIT = 0.1  # even when the bucket looks full enough, give it a moment
_SERVER_BACKOFF = 0.5  # seconds before retrying after a 5xx, doubled on each retry

_ORDER_NAME = re.compile(r"#?([0-9]{1,18})")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/[0-9]+")
_SCOPE = re.compile(r"\b((?:unauthenticated_)?(?:read|write)_[a-z_]+)")

# The operation comes first in each document, its fragments after it.
_ORDER_FIELDS = """
fragment HelpdeskOrder on Order {
  id
  legacyResourceId
  name
  processedAt
  displayFinancialStatus
  displayFulfillmentStatus
  cancelledAt
  totalPriceSet { shopMoney { amount currencyCode } }
  fulfillments(first: 10) { trackingInfo(first: 10) { number url company } }
  customer { id email displayName }
}
"""
_CUSTOMER_FIELDS = """
fragment HelpdeskCustomer on Customer {
  id
  legacyResourceId
  displayName
  email
  numberOfOrders
  amountSpent { amount currencyCode }
  tags
  orders(first: $orders, sortKey: PROCESSED_AT, reverse: true) { nodes { ...HelpdeskOrder } }
}
"""
_CUSTOMER_BY_EMAIL = (
    """
query HelpdeskCustomerByEmail($query: String!, $orders: Int!) {
  customers(first: 1, query: $query) { nodes { ...HelpdeskCustomer } }
}
"""
    + _CUSTOMER_FIELDS
    + _ORDER_FIELDS
)
_CUSTOMER_BY_ID = (
    """
query HelpdeskCustomerById($id: ID!, $orders: Int!) {
  customer(id: $id) { ...HelpdeskCustomer }
}
"""
    + _CUSTOMER_FIELDS
    + _ORDER_FIELDS
)
_ORDER_BY_NAME = (
    """
query HelpdeskOrderByName($query: String!) {
  orders(first: 1, query: $query) { nodes { ...HelpdeskOrder } }
}
"""
    + _ORDER_FIELDS
)
# What someone claiming an order may be asked: never cached, never shown, only compared.
_ORDER_PROOF = """
query HelpdeskOrderProof($query: String!) {
  orders(first: 1, query: $query) {
    nodes {
      name
      email
      customer { id email }
      shippingAddress { zip }
      billingAddress { zip }
    }
  }
}
"""
_ACCESS_SCOPES = """
query HelpdeskAccessScopes {
  currentAppInstallation { accessScopes { handle } }
}
"""

# An order number as customers quote it: after "order" (with "no.", "number", "#", ":" in
# between) or right after a "#". A bare "#" needs three digits ("#1 fan" is no order) and
# must not be inside a word, an HTML entity ("&#39;") or the helpdesk's own "[#42]" subject
# tag. Digits running on into more digits, a decimal part, a date or a phone number's dash
# ("2024-01-10", "1001.50", "555-1001") are not order numbers.
_ORDER_NUMBER = re.compile(
    r"""
    (?:
        \border s? [\s:\#]* (?: (?:number|num|nr|no) \.? [\s:\#]* )? (?P<after_word>[0-9]{1,12})
      | (?<![\w&\[]) \# (?P<after_hash>[0-9]{3,12})
    )
    (?! \w | [.,:/-][0-9] )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_MAX_QUOTED_ORDERS = 3

T = TypeVar("T")


class ShopifyError(Exception):
    """A lookup that failed. ``str()`` is one sentence for a person: what is wrong, what to do."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


class ShopifyInDoubt(ShopifyError):
    """A mutation may have reached Shopify, but no answer came: reconcile before retrying.

    ``operation`` names the mutation, ``reason`` what happened instead of an answer.
    """

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(
            "in_doubt",
            f"Shopify did not answer the {operation} ({reason}); it may have been applied: "
            "check the shop before trying again.",
        )
        self.operation = operation
        self.reason = reason


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        # Shopify's Decimal scalar drops trailing zeros ("10.0"); people expect cents.
        exponent = self.amount.as_tuple().exponent
        amount = f"{self.amount:.2f}" if exponent > -2 else f"{self.amount:f}"
        return f"{amount} {self.currency}"


@dataclass(frozen=True)
class Tracking:
    number: str | None
    url: str | None
    company: str | None


@dataclass(frozen=True)
class Order:
    id: str  # GID, e.g. gid://shopify/Order/450789469
    number: int  # legacyResourceId, as in the admin URL (not the 1001 of "#1001")
    name: str  # "#1001"
    processed_at: datetime  # aware
    financial_status: str | None  # displayFinancialStatus, e.g. "AUTHORIZED"
    fulfillment_status: str  # displayFulfillmentStatus, e.g. "UNFULFILLED"
    total: Money
    cancelled: bool
    tracking: tuple[Tracking, ...]
    admin_url: str
    customer_id: str | None  # GID
    customer_email: str | None
    customer_name: str | None = None  # shown only masked unless the order is the customer's

    def status_text(self) -> str:
        """One line for a customer, e.g. "Order #1001: paid, fulfilled — tracking 1Z2345 (UPS)"."""
        states = ["cancelled"] if self.cancelled else []
        states += [_words(s) for s in (self.financial_status, self.fulfillment_status) if s]
        text = f"Order {self.name}: {', '.join(states) or 'status unknown'}"
        tracking = "; ".join(filter(None, (_tracking_words(t) for t in self.tracking)))
        return f"{text} — tracking {tracking}" if tracking else text


@dataclass(frozen=True)
class OrderProof:
    """What the person an order belongs to can tell: its email addresses and postcodes."""

    name: str  # "#1001"
    customer_id: str | None  # GID; None for a guest checkout
    emails: frozenset[str]  # the order's contact address and its customer's
    postcodes: frozenset[str]  # of the shipping and the billing address


@dataclass(frozen=True)
class Customer:
    id: str  # GID, e.g. gid://shopify/Customer/207119551
    name: str
    email: str | None
    orders_count: int
    total_spent: Money
    tags: tuple[str, ...]
    recent_orders: tuple[Order, ...]  # newest first
    admin_url: str


def search_value(text: str) -> str:
    """``text`` as one quoted value of Shopify's search syntax, e.g. for ``email:<value>``.

    Inside double quotes only ``\\`` and ``"`` are special, so escaping those two keeps
    ``a" OR email:*`` a single value that matches nothing rather than a wider search.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def order_numbers_in(text: str) -> list[str]:
    """Order numbers a customer quotes ("#1001", "order no. 1001"), as "#1001": first three."""
    found: list[str] = []
    for match in _ORDER_NUMBER.finditer(text):
        name = f"#{int(match['after_word'] or match['after_hash'])}"
        if name not in found:
            found.append(name)
        if len(found) == _MAX_QUOTED_ORDERS:
            break
    return found


class ShopifyClient:
    """One shop's Admin API. Safe to share between threads: ShopifyAPI's session is per thread.

    ``shop`` is the handle (``myshop`` of ``myshop.myshopify.com``); it may be empty when
    ``api_url`` (SHOPIFY_API_URL, which then decides the version in its path) is given.
    ``attempts`` counts tries of one lookup through throttling and 5xx answers; ``sleep`` is
    how the client waits between them (tests pass a recorder).
    """

    def __init__(
        self,
        shop: str,
        token: str,
        version: str = PINNED_VERSION,
        api_url: str | None = None,
        timeout: float = 10,
        attempts: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        recent_orders: int = 5,
    ) -> None:
        self.shop = _shop_handle(shop)
        if not self.shop and not api_url:
            raise ValueError("a shop handle (SHOPIFY_SHOP) or SHOPIFY_API_URL is needed")
        try:
            shopify.ApiVersion.coerce_to_version(version)
        except shopify.VersionNotFoundError:
            raise ValueError(
                f"not a Shopify API version: {version!r} (e.g. {PINNED_VERSION})"
            ) from None
        if timeout <= 0 or attempts < 1 or not 0 <= recent_orders <= _MAX_PAGE:
            raise ValueError(
                f"expected timeout > 0, attempts >= 1 and recent_orders from 0 to {_MAX_PAGE}"
            )
        self.version = version
        self.api_url = api_url.rstrip("/") if api_url else None
        self.timeout = timeout
        self.attempts = attempts
        self.recent_orders = recent_orders
        self._token = token
        self._sleep = sleep
        if self.shop:
            self._admin = f"https://admin.shopify.com/store/{self.shop}"
        else:  # a stand-in shop (SHOPIFY_API_URL only): link to its host rather than nowhere
            parts = urlsplit(self.api_url or "")
            self._admin = f"{parts.scheme}://{parts.netloc}/admin"

    def __repr__(self) -> str:  # never the token
        return f"ShopifyClient(shop={self.shop!r}, version={self.version!r})"

    # -- lookups ------------------------------------------------------------------------------

    def customer_by_email(self, email: str) -> Customer | None:
        """The customer with this address (any case), with their newest orders; or None."""
        address = email.strip()
        if not address:
            raise ValueError("an email address is needed")
        variables = {"query": f"email:{search_value(address)}", "orders": self.recent_orders}
        return self._run(
            "HelpdeskCustomerByEmail",
            _CUSTOMER_BY_EMAIL,
            variables,
            lambda data: self._first(data["customers"]["nodes"], self._customer),
        )

    def customer_by_id(self, gid: str) -> Customer | None:
        """The customer ``gid://shopify/Customer/<n>``, with their newest orders; or None."""
        if not _CUSTOMER_GID.fullmatch(gid):
            raise ValueError(f"not a Shopify customer id: {gid!r}")
        return self._run(
            "HelpdeskCustomerById",
            _CUSTOMER_BY_ID,
            {"id": gid, "orders": self.recent_orders},
            lambda data: self._customer(data["customer"]) if data["customer"] else None,
        )

    def order_by_name(self, name: str) -> Order | None:
        """The order "#1001" (also written "1001"); ValueError for anything but that form."""
        return self._run(
            "HelpdeskOrderByName",
            _ORDER_BY_NAME,
            {"query": f"name:{search_value(_order_name(name))}"},
            lambda data: self._first(data["orders"]["nodes"], self._order),
        )

    def order_proof(self, name: str) -> OrderProof | None:
        """The order's email addresses and postcodes, to check what a claimant says; or None."""
        return self._run(
            "HelpdeskOrderProof",
            _ORDER_PROOF,
            {"query": f"name:{search_value(_order_name(name))}"},
            lambda data: self._first(data["orders"]["nodes"], _proof),
        )

    def access_scopes(self) -> set[str]:
        """The scopes the token was granted; compare with :data:`REQUIRED_SCOPES`."""
        return self._run(
            "HelpdeskAccessScopes",
            _ACCESS_SCOPES,
            {},
            lambda data: {s["handle"] for s in data["currentAppInstallation"]["accessScopes"]},
        )

    # -- reading answers ----------------------------------------------------------------------

    @staticmethod
    def _first(nodes: list[Any], read: Callable[[Any], T]) -> T | None:
        return read(nodes[0]) if nodes else None

    def _customer(self, node: Mapping[str, Any]) -> Customer:
        return Customer(
            id=node["id"],
            name=node["displayName"],
            email=node.get("email"),
            orders_count=int(node["numberOfOrders"]),  # UnsignedInt64: a string in JSON
            total_spent=read_money(node["amountSpent"]),
            tags=tuple(node["tags"]),
            recent_orders=tuple(self._order(order) for order in node["orders"]["nodes"]),
            admin_url=f"{self._admin}/customers/{int(node['legacyResourceId'])}",
        )

    def _order(self, node: Mapping[str, Any]) -> Order:
        number = int(node["legacyResourceId"])
        processed_at = datetime.fromisoformat(node["processedAt"])
        if processed_at.tzinfo is None:
            raise ValueError(f"processedAt {node['processedAt']!r} has no time zone")
        customer = node.get("customer") or {}
        return Order(
            id=node["id"],
            number=number,
            name=node["name"],
            processed_at=processed_at,
            financial_status=node.get("displayFinancialStatus"),
            fulfillment_status=node["displayFulfillmentStatus"],
            total=read_money(node["totalPriceSet"]["shopMoney"]),
            cancelled=node.get("cancelledAt") is not None,
            tracking=tuple(
                Tracking(info.get("number"), info.get("url"), info.get("company"))
                for fulfillment in node.get("fulfillments") or ()
                for info in fulfillment.get("trackingInfo") or ()
            ),
            admin_url=f"{self._admin}/orders/{number}",
            customer_id=customer.get("id"),
            customer_email=customer.get("email"),
            customer_name=customer.get("displayName"),
        )

    # -- talking to Shopify -------------------------------------------------------------------

    def run_query(
        self,
        operation: str,
        document: str,
        variables: dict[str, Any],
        read: Callable[[dict[str, Any]], T],
    ) -> T:
        """``read`` of the answer's data; retries throttling and 5xx answers (for other modules)."""
        return self._run(operation, document, variables, read)

    def run_mutation(
        self,
        operation: str,
        document: str,
        variables: dict[str, Any],
        read: Callable[[dict[str, Any]], T],
    ) -> T:
        """``read`` of the answer's data, never repeating a mutation that may have been applied.

        Retried only after an answer that proves Shopify did not apply it (HTTP 429, a
        ``THROTTLED`` error). A timeout, a cut connection, a 5xx, an internal error or an
        unreadable answer after the request went out raise :class:`ShopifyInDoubt`.
        """
        return self._run(operation, document, variables, read, mutation=True)

    def _run(
        self,
        operation: str,
        document: str,
        variables: dict[str, Any],
        read: Callable[[dict[str, Any]], T],
        *,
        mutation: bool = False,
    ) -> T:
        """Ask, retrying what may pass, and read the answer; every failure is logged once."""
        try:
            data = self._ask(operation, document, variables, mutation)
            try:
                return read(data)
            except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
                if mutation:  # Shopify answered, so it most likely applied it: check
                    shape = f"an answer of unexpected shape, {exc!r}"
                    raise ShopifyInDoubt(operation, shape) from exc
                raise ShopifyError(
                    "bad_response",
                    f"Shopify's answer had an unexpected shape ({exc!r}): check that "
                    f"SHOPIFY_API_VERSION ({self.version}) is {PINNED_VERSION} or close to it.",
                ) from exc
        except ShopifyError as error:
            log.warning("Shopify %s failed (%s): %s", operation, error.kind, error)
            raise

    def _ask(
        self, operation: str, document: str, variables: dict[str, Any], mutation: bool
    ) -> dict[str, Any]:
        for attempt in range(1, self.attempts):
            try:
                return self._attempt(operation, document, variables, mutation)
            except _Retry as retry:
                if mutation and not retry.unapplied:
                    raise ShopifyInDoubt(operation, retry.reason) from None
                wait = retry.wait
                if wait is None:
                    wait = min(_MAX_WAIT, _SERVER_BACKOFF * 2 ** (attempt - 1))
                log.info("Shopify %s: %s; retrying in %.2f s", operation, retry.error, wait)
                self._sleep(wait)
        try:
            return self._attempt(operation, document, variables, mutation)
        except _Retry as retry:
            if mutation and not retry.unapplied:
                raise ShopifyInDoubt(operation, retry.reason) from None
            raise retry.error from None

    def _attempt(
        self, operation: str, document: str, variables: dict[str, Any], mutation: bool
    ) -> dict[str, Any]:
        try:
            text = self._post(operation, document, variables)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response open
            raise self._refusal(exc.code, exc.headers) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if mutation and not _never_sent(exc):
                raise ShopifyInDoubt(operation, _lost_answer(exc, self.timeout)) from None
            raise self._unreachable(exc) from None
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if mutation:
                raise ShopifyInDoubt(operation, "an answer that is no GraphQL JSON")
            raise ShopifyError(
                "bad_response",
                "Shopify answered with something other than GraphQL JSON: check that "
                "SHOPIFY_API_URL points at the Admin API (…/admin/api/<version>).",
            )
        if answer.get("errors"):
            if mutation and _internal_error(answer["errors"]):
                raise ShopifyInDoubt(operation, "an internal error on Shopify's side")
            raise self._query_error(answer["errors"], answer.get("extensions"), self.version)
        if not isinstance(answer.get("data"), dict):
            if mutation:
                raise ShopifyInDoubt(operation, "an answer without data")
            raise ShopifyError("bad_response", "Shopify's answer had no data: try again later.")
        return answer["data"]

    def _post(self, operation: str, document: str, variables: dict[str, Any]) -> str:
        with shopify.Session.temp(self.shop, self.version, self._token):
            if self.api_url:
                shopify.ShopifyResource.site = self.api_url
            endpoint = _TimedGraphQL(self.timeout)
        # Sent after the block: Session.temp doesn't restore the previous session if it raises.
        return endpoint.execute(document, variables, operation)

    # -- what went wrong ----------------------------------------------------------------------

    def _refusal(self, status: int, headers: Mapping[str, str]) -> ShopifyError | _Retry:
        if status == 401:
            return ShopifyError(
                "unauthorized",
                "Shopify refused the access token (401): check SHOPIFY_ACCESS_TOKEN.",
            )
        if status == 403:
            return ShopifyError(
                "unauthorized",
                "Shopify refused access to the shop (403): check that SHOPIFY_ACCESS_TOKEN "
                "belongs to an app installed on SHOPIFY_SHOP.",
            )
        if status == 429:
            return _Retry(_throttled(), _retry_after(headers.get("Retry-After")), unapplied=True)
        if status >= 500:
            error = ShopifyError(
                "unavailable", f"Shopify is unavailable (HTTP {status}): try again later."
            )
            return _Retry(error, None, reason=f"HTTP {status}")
        if status == 404:
            return ShopifyError(
                "bad_response",
                f"Shopify has no Admin API for this shop and version (404): check SHOPIFY_SHOP, "
                f"SHOPIFY_API_VERSION ({self.version}) and SHOPIFY_API_URL.",
            )
        return ShopifyError(
            "bad_response",
            f"Shopify refused the request (HTTP {status}): check SHOPIFY_API_VERSION "
            f"({self.version}) and SHOPIFY_API_URL.",
        )

    def _unreachable(self, exc: Exception) -> ShopifyError:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, TimeoutError):
            return ShopifyError(
                "timeout", f"Shopify did not answer within {self.timeout:g} s: try again later."
            )
        return ShopifyError(
            "unavailable",
            f"Shopify could not be reached ({reason}): check SHOPIFY_SHOP, SHOPIFY_API_URL "
            "and the network.",
        )

    @staticmethod
    def _query_error(errors: object, extensions: object, version: str) -> ShopifyError | _Retry:
        entries = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
        codes = [(e.get("extensions") or {}).get("code") for e in entries]
        if "THROTTLED" in codes:
            return _Retry(_throttled(), _throttle_wait(extensions), unapplied=True)
        if "ACCESS_DENIED" in codes:
            # Shopify names the scope in the message and in extensions.requiredAccess.
            denied = [e for e, code in zip(entries, codes, strict=True) if code == "ACCESS_DENIED"]
            said = " ".join(f"{e.get('message')} {e.get('extensions')}" for e in denied)
            return ShopifyError("missing_scope", _missing_scope_text(set(_SCOPE.findall(said))))
        said = next((e["message"] for e in entries if e.get("message")), str(errors))
        return ShopifyError(
            "bad_response",
            f"Shopify refused the request ({said}): this helpdesk expects API version "
            f"{PINNED_VERSION}; check SHOPIFY_API_VERSION ({version}).",
        )


class _TimedGraphQL(shopify.GraphQL):
    """ShopifyAPI's endpoint and headers for the active session, posted with a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        # The package hands out its thread's live header dict; keep this session's token.
        self.headers = dict(self.headers)
        self.timeout = timeout

    def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> str:
        """The answer's text; HTTP errors and timeouts raise (urllib's exceptions)."""
        headers = self.merge_headers(
            {"Accept": "application/json", "Content-Type": "application/json"}, self.headers
        )
        body = {"query": query, "variables": variables or {}, "operationName": operation_name}
        request = urllib.request.Request(
            self.endpoint, json.dumps(body).encode(), headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return response.read().decode("utf-8")


class _Retry(Exception):
    """A failure that may pass: try again after ``wait`` seconds (None: the 5xx backoff).

    ``unapplied``: the answer proves Shopify did not apply the request, so even a mutation
    may be sent again; ``reason`` says in a few words what came back otherwise.
    """

    def __init__(
        self,
        error: ShopifyError,
        wait: float | None,
        *,
        unapplied: bool = False,
        reason: str = "",
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait
        self.unapplied = unapplied
        self.reason = reason or str(error)


def _never_sent(exc: Exception) -> bool:
    """Whether the request surely never reached Shopify: no connection was made."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else None
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


def _lost_answer(exc: Exception, timeout: float) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"no answer within {timeout:g} s"
    return f"the connection broke ({type(reason).__name__})"


def _internal_error(errors: object) -> bool:
    entries = errors if isinstance(errors, list) else []
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
        for e in entries
    )


def _throttled() -> ShopifyError:
    return ShopifyError(
        "throttled", "Shopify is rate-limiting this app: the lookup will work again in a minute."
    )


def _throttle_wait(extensions: object) -> float:
    """Seconds until the bucket holds the query's cost again (Shopify's ``extensions.cost``)."""
    try:
        cost = extensions["cost"]  # type: ignore[index]
        needed = float(cost["requestedQueryCost"]) - float(
            cost["throttleStatus"]["currentlyAvailable"]
        )
        wait = needed / float(cost["throttleStatus"]["restoreRate"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 1.0  # no usable figures: about what a small query needs on any plan
    return min(_MAX_WAIT, max(_MIN_THROTTLE_WAIT, wait))


def _retry_after(value: str | None) -> float:
    try:
        return min(_MAX_WAIT, max(0.0, float(value or "")))
    except ValueError:
        return 1.0  # missing, or an HTTP date Shopify doesn't send


def _missing_scope_text(scopes: set[str]) -> str:
    if not scopes:
        wanted = " and ".join(sorted(REQUIRED_SCOPES))
        return f"The Shopify token lacks a scope it needs: grant {wanted} to the app and reinstall."
    if len(scopes) == 1:
        (scope,) = scopes
        return f"The Shopify token lacks the {scope} scope: add it to the app and reinstall."
    names = " and ".join(sorted(scopes))
    return f"The Shopify token lacks the {names} scopes: add them to the app and reinstall."


def _order_name(name: str) -> str:
    """ "#1001" from "#1001" or "1001"; ValueError for anything but that form."""
    match = _ORDER_NAME.fullmatch(name.strip())
    if match is None:
        raise ValueError(f"not an order number: {name!r}")
    return f"#{int(match[1])}"


def _proof(node: Mapping[str, Any]) -> OrderProof:
    customer = node.get("customer") or {}
    addresses = (node.get("shippingAddress"), node.get("billingAddress"))
    return OrderProof(
        name=node["name"],
        customer_id=customer.get("id"),
        emails=frozenset(e for e in (node.get("email"), customer.get("email")) if e),
        postcodes=frozenset(a["zip"] for a in addresses if a and a.get("zip")),
    )


def _shop_handle(shop: str) -> str:
    """``myshop`` from ``myshop``, ``myshop.myshopify.com`` or ``https://myshop.myshopify.com``."""
    host = shop.strip().lower().removeprefix("https://").removeprefix("http://")
    return host.split("/")[0].split(".")[0]


def read_money(node: Mapping[str, Any]) -> Money:
    amount = Decimal(node["amount"])
    if not amount.is_finite():
        raise ValueError(f"amount {node['amount']!r} is not a number")
    return Money(amount, node["currencyCode"])


def _words(status: str) -> str:
    return status.replace("_", " ").lower()


def _tracking_words(tracking: Tracking) -> str:
    company = f"({tracking.company})" if tracking.company else None
    return " ".join(filter(None, (tracking.number, company, tracking.url)))
