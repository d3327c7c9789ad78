"""The widget's self-service endpoints (docs/chat.md, "Self-service"): articles suggested as a
visitor types, the session that counts a deflection, and "Track my order".

Each is limited per IP address on top of the chat API's gate; an order look-up also per order
number, whoever asks, so an order's email address can't be found by trying. A wrong number and
a wrong address get the same answer, so neither is confirmed by a miss.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Request
from sqlmodel import Session

from bot.core import self_service
from bot.core.kb import MARK_END, MARK_START, article_url, search_articles, stored
from bot.handlers.chat import schemas
from bot.handlers.chat.errors import ChatError
from bot.handlers.chat.limits import check_limit, client_ip
from bot.integrations.shopify import Order, ShopifyError
from bot.storage.db import reader, transaction
from bot.storage.models import SelfServiceSession

if TYPE_CHECKING:
    from bot.handlers.chat.routes import ChatService

log = logging.getLogger(__name__)

SUGGESTIONS = 3
# What a search box needs; the rest of a 5,000-character query is cut, not refused.
QUERY_CHARS = 200
TEXT_CHARS = 200  # a carrier's name or tracking number, as Shopify gave it
# The session's token, as the conversation's is sent (docs/chat.md).
Token = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
NOT_FOUND = (
    "We couldn't find an order with that number and email address. Check both (the address "
    "is the one you ordered with) and try again, or write to us."
)


def add_self_service(api: APIRouter, service: ChatService, errors: dict) -> None:
    @api.get("/articles", response_model=schemas.Suggestions, responses=errors)
    def suggestions(request: Request, q: str = "") -> schemas.Suggestions:
        check_limit(service.suggestion_limit, client_ip(request), "Too many searches.")
        if service.kb is None:
            return schemas.Suggestions(articles=[])
        service.kb.refresh(service.engine)
        with Session(reader(service.engine)) as session:
            hits = search_articles(session, q[:QUERY_CHARS], public_only=True, limit=SUGGESTIONS)
        return schemas.Suggestions(
            articles=[
                schemas.Suggestion(
                    slug=hit.slug,
                    title=hit.title,
                    snippet=hit.snippet.replace(MARK_START, "").replace(MARK_END, ""),
                    url=article_url(service.public_url, hit.slug),
                )
                for hit in hits
            ]
        )

    @api.post("/self-service", status_code=201, response_model=schemas.SessionOut, responses=errors)
    def open_session(request: Request) -> schemas.SessionOut:
        check_limit(service.session_limit, client_ip(request), "Too many chat sessions.")
        with transaction(service.engine) as session:
            token = self_service.open_session(session)
        return schemas.SessionOut(session=token)

    @api.post("/self-service/opened", response_model=schemas.Deflection, responses=errors)
    def opened(body: schemas.ArticleOpened, authorization: Token = None) -> dict:
        with transaction(service.engine) as session:
            row = _session(session, authorization)
            if stored(session, body.slug, public_only=True) is None:
                raise ChatError(404, "not_found", "There is no such article.")
            self_service.article_opened(row)
            return {"deflected": row.deflected_at is not None}

    @api.post("/self-service/closed", response_model=schemas.Deflection, responses=errors)
    def closed(authorization: Token = None) -> dict:
        with transaction(service.engine) as session:
            row = _session(session, authorization)
            return {"deflected": self_service.closed_without_writing(session, row)}

    @api.post("/orders/lookup", response_model=schemas.OrderFound, responses=errors)
    def look_up(body: schemas.OrderLookupIn, request: Request) -> schemas.OrderFound:
        shopify = service.shopify
        if shopify is None:
            raise ChatError(404, "orders_unavailable", "This shop doesn't look orders up here.")
        ip = client_ip(request)
        check_limit(service.lookup_ip_limit, ip, "Too many order look-ups.")
        check_limit(service.lookup_order_limit, body.order, "Too many look-ups of this order.")
        try:
            proof = shopify.order_proof(body.order)
            matched = proof is not None and self_service.email_matches(body.email, proof.emails)
            order = shopify.order_by_name(body.order) if matched else None
        except ShopifyError as exc:
            log.warning("order look-up from %s: Shopify: %s", ip, exc)
            raise ChatError(
                503,
                "unavailable",
                "We can't look orders up right now; try again shortly, or write to us.",
                {"Retry-After": "30"},
            ) from None
        with transaction(service.engine) as session:
            token = self_service.record_lookup(
                session,
                order_name=order.name if order else None,
                email=body.email,
                shopify_customer_id=proof.customer_id if order else None,
            )
        if order is None or token is None:
            log.info("order look-up from %s: no order with that number and address", ip)
            raise ChatError(404, "order_not_found", NOT_FOUND)
        return schemas.OrderFound(order=order_out(order), lookup=token)


def _session(session: Session, authorization: str | None) -> SelfServiceSession:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ChatError(
            401, "token_missing", "Send the self-service session as Authorization: Bearer …"
        )
    row = self_service.session_of(session, token.strip()[:64])
    if row is None:
        raise ChatError(404, "not_found", "There is no such session; open a new one.")
    return row


def order_out(order: Order) -> schemas.OrderOut:
    return schemas.OrderOut(
        name=order.name,
        placed_at=order.processed_at,
        cancelled=order.cancelled,
        payment=_words(order.financial_status),
        fulfilment=_words(order.fulfillment_status) or "unknown",
        tracking=[
            schemas.TrackingOut(
                company=_cut(tracking.company),
                number=_cut(tracking.number),
                url=self_service.safe_tracking_url(tracking.url),
            )
            for tracking in order.tracking
        ],
    )


def _words(status: str | None) -> str | None:
    return status.replace("_", " ").lower() if status else None


def _cut(value: str | None) -> str | None:
    return value[:TEXT_CHARS] if value else None
