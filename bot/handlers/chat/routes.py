"""The chat routes: the widget's script and page, and the visitor's JSON API (docs/chat.md).

Visitors are strangers on the internet, so every request passes the same gate first: the
page's origin must be the helpdesk's own or in the policy's `chat.allowed_origins`, and the
caller's address must be within its rate limit: in memory with SQLite, in PostgreSQL or Redis
otherwise, so that several processes share them (`bot/handlers/chat/limits.py`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.chat_bus import ChatBus
from bot.config import ChatPolicy
from bot.core import chat, self_service, text
from bot.core.business_time import BusinessCalendar
from bot.core.context import Desk
from bot.core.kb import KnowledgeBase, help_centre_url
from bot.handlers.chat import schemas
from bot.handlers.chat.errors import ChatError
from bot.handlers.chat.limits import RateLimiter, check_limit, client_ip
from bot.handlers.chat.self_service import add_self_service
from bot.handlers.chat.stream import event_stream
from bot.integrations.shopify_cache import CachedShopify
from bot.storage.db import transaction
from bot.storage.models import ChatConversation, Message, OrderLookup, Ticket, utcnow
from bot.storage.shared_state import SharedState

STATIC = Path(__file__).parent / "static"
ERRORS = {
    status: {"model": schemas.ErrorOut}
    for status in (400, 401, 403, 404, 410, 411, 413, 422, 429, 503)
}

# The visitor's token; documented in docs/chat.md rather than as a parameter of each path.
Token = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]


@dataclass
class ChatService:
    """What the chat routes need, built by the composition root."""

    engine: Engine
    desk: Desk
    bus: ChatBus
    public_url: str
    shared: SharedState
    kb: KnowledgeBase | None = None  # articles suggested as visitors type
    shopify: CachedShopify | None = None  # "Track my order"
    visitor_limit: RateLimiter = field(init=False)
    ip_limit: RateLimiter = field(init=False)
    start_limit: RateLimiter = field(init=False)
    suggestion_limit: RateLimiter = field(init=False)
    session_limit: RateLimiter = field(init=False)
    lookup_ip_limit: RateLimiter = field(init=False)
    lookup_order_limit: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        policy = self.policy
        self.visitor_limit = RateLimiter(
            self.shared, "visitor", policy.visitor_messages_per_minute, 60
        )
        self.ip_limit = RateLimiter(self.shared, "ip", policy.ip_requests_per_minute, 60)
        self.start_limit = RateLimiter(self.shared, "start", policy.ip_conversations_per_hour, 3600)
        self.suggestion_limit = RateLimiter(
            self.shared, "suggest", policy.ip_suggestions_per_minute, 60
        )
        self.session_limit = RateLimiter(
            self.shared, "session", policy.ip_self_service_sessions_per_hour, 3600
        )
        self.lookup_ip_limit = RateLimiter(
            self.shared, "lookup-ip", policy.ip_order_lookups_per_hour, 3600
        )
        self.lookup_order_limit = RateLimiter(
            self.shared, "lookup-order", policy.order_lookups_per_order_per_hour, 3600
        )

    @property
    def policy(self) -> ChatPolicy:
        return self.desk.policy.chat

    @property
    def calendar(self) -> BusinessCalendar:
        return self.desk.sla.calendar


def chat_router(service: ChatService) -> APIRouter:
    router = APIRouter()
    widget = _Asset((STATIC / "widget.js").read_bytes(), "text/javascript; charset=utf-8")
    page = _Asset((STATIC / "page.html").read_bytes(), "text/html; charset=utf-8")

    @router.get("/chat/widget.js", include_in_schema=False)
    def widget_script(request: Request) -> Response:
        return widget.response(request)

    @router.get("/chat/", include_in_schema=False)
    def chat_page(request: Request) -> Response:
        return page.response(request)

    def gate(request: Request) -> None:
        # Sync, so FastAPI runs it in its threadpool: the limit may be a PostgreSQL or Redis
        # round trip, which must not stall the event loop and every open stream with it.
        _check_origin(service, request)
        check_limit(service.ip_limit, client_ip(request), "Too many requests from your address.")

    api = APIRouter(prefix="/chat/api", tags=["live chat"], dependencies=[Depends(gate)])

    @api.get("/config", response_model=schemas.ChatConfig, responses=ERRORS)
    def config() -> schemas.ChatConfig:
        policy = service.policy
        now = utcnow()
        is_open = service.calendar.is_open(now)
        return schemas.ChatConfig(
            title=policy.title,
            color=policy.color,
            greeting=policy.greeting,
            open=is_open,
            back_at=None if is_open else service.calendar.next_open(now),
            max_message_chars=policy.max_message_chars,
            help_url=help_centre_url(service.public_url) if service.desk.policy.kb else None,
            suggestions=service.kb is not None,
            order_tracking=service.shopify is not None,
        )

    @api.post("/conversations", status_code=201, response_model=schemas.Started, responses=ERRORS)
    def start(
        body: schemas.StartConversation, request: Request, response: Response
    ) -> schemas.Started:
        _check_text(service, body.message, "message")
        if (
            body.email is None
            and body.order_lookup is None
            and not service.calendar.is_open(utcnow())
        ):
            raise ChatError(
                422,
                "email_required",
                "We're away right now: leave your email address so our answer can reach you.",
            )
        check_limit(service.start_limit, client_ip(request), "Too many new conversations.")
        with transaction(service.engine) as session:
            proof = _order_proof(session, body.order_lookup)
            visitor = chat.Visitor(
                name=body.name,
                # The order's address, proven by the look-up, when the visitor gave none.
                email=body.email or (proof.email if proof else None),
                page_url=body.page_url,
                user_agent=text.single_line(
                    request.headers.get("user-agent", ""), text.USER_AGENT_LIMIT
                ),
            )
            conversation, token, created = chat.start(
                session, service.desk, visitor, body.message, body.client_id
            )
            if created:
                self_service.conversation_started(session, body.self_service)
                if proof is not None:
                    ticket = session.get(Ticket, conversation.ticket_id)
                    self_service.attach_order(session, proof, conversation, ticket)
            view = _conversation_view(session, conversation, after=0)
        if not created:
            response.status_code = 200
        return schemas.Started(token=token, **view.model_dump())

    @api.get(
        "/conversations/{conversation_id}", response_model=schemas.Conversation, responses=ERRORS
    )
    def resume(conversation_id: str, authorization: Token = None) -> schemas.Conversation:
        with transaction(service.engine) as session:
            conversation = _authorized(service, session, conversation_id, authorization)
            _open_ticket(service, session, conversation)
            view = _conversation_view(session, conversation, after=0)
            chat.mark_seen(session, conversation, view.messages[-1].id if view.messages else None)
        return view

    @api.post(
        "/conversations/{conversation_id}/messages",
        status_code=201,
        response_model=schemas.Posted,
        responses=ERRORS,
    )
    def post_message(
        conversation_id: str,
        body: schemas.NewMessage,
        response: Response,
        authorization: Token = None,
    ) -> schemas.Posted:
        _check_text(service, body.text, "text")
        with transaction(service.engine) as session:
            conversation = _authorized(service, session, conversation_id, authorization)
            # Counted only once the token is checked: a stranger who knows the conversation's
            # id can't use up its visitor's limit.
            check_limit(
                service.visitor_limit,
                conversation.public_id,
                "You are sending messages too quickly.",
            )
            ticket = _open_ticket(service, session, conversation)
            message, created = chat.add_visitor_message(
                session, service.desk, conversation, ticket, body.text, body.client_id
            )
        if not created:
            response.status_code = 200
        return schemas.Posted(message=schemas.MessageOut.of(message))

    @api.put(
        "/conversations/{conversation_id}/contact",
        response_model=schemas.Conversation,
        responses=ERRORS,
    )
    def contact(
        conversation_id: str, body: schemas.Contact, authorization: Token = None
    ) -> schemas.Conversation:
        with transaction(service.engine) as session:
            conversation = _authorized(service, session, conversation_id, authorization)
            ticket = _open_ticket(service, session, conversation)
            chat.set_contact(session, conversation, ticket, body.name, body.email)
            view = _conversation_view(session, conversation, after=0)
        return view

    @api.get(
        "/conversations/{conversation_id}/messages",
        response_model=schemas.Messages,
        responses=ERRORS,
    )
    def poll(conversation_id: str, after: int = 0, authorization: Token = None) -> schemas.Messages:
        with transaction(service.engine) as session:
            conversation = _authorized(service, session, conversation_id, authorization)
            messages = chat.visible_messages(session, conversation.ticket_id, after)
            chat.mark_seen(session, conversation, messages[-1].id if messages else None)
        return schemas.Messages(messages=[schemas.MessageOut.of(m) for m in messages])

    @api.get(
        "/conversations/{conversation_id}/events",
        responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
        response_class=StreamingResponse,
    )
    async def events(
        conversation_id: str,
        request: Request,
        after: int = 0,
        authorization: Token = None,
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        def authorize() -> ChatConversation:
            with transaction(service.engine) as session:
                return _authorized(service, session, conversation_id, authorization)

        conversation = await run_in_threadpool(authorize)
        if last_event_id and last_event_id.isdigit():
            after = max(after, int(last_event_id))
        return StreamingResponse(
            event_stream(service.engine, service.bus, conversation, after, request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    add_self_service(api, service, ERRORS)
    router.include_router(api)
    return router


class _Asset:
    """A file served with an ETag, so returning visitors' browsers revalidate cheaply."""

    def __init__(self, content: bytes, media_type: str):
        self.content = content
        self.media_type = media_type
        self.etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'

    def response(self, request: Request) -> Response:
        headers = {
            "ETag": self.etag,
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        return Response(self.content, media_type=self.media_type, headers=headers)


def _order_proof(session: Session, token: str | None) -> OrderLookup | None:
    if not token:
        return None
    try:
        return self_service.usable_proof(session, token, utcnow())
    except self_service.ProofUnusable as unusable:
        raise ChatError(
            422,
            "invalid",
            "Your order look-up has expired: look the order up again, or just write to us.",
            fields={"order_lookup": str(unusable)},
        ) from None


def _conversation_view(
    session: Session, conversation: ChatConversation, after: int
) -> schemas.Conversation:
    ticket = session.get(Ticket, conversation.ticket_id)
    messages: list[Message] = chat.visible_messages(session, ticket.id, after)
    return schemas.Conversation(
        conversation=schemas.ConversationOut(
            id=conversation.public_id,
            ticket_number=ticket.number,
            status=ticket.status,
            name=conversation.visitor_name,
            email=conversation.visitor_email,
        ),
        messages=[schemas.MessageOut.of(m) for m in messages],
    )


def _authorized(
    service: ChatService, session: Session, conversation_id: str, authorization: str | None
) -> ChatConversation:
    """The conversation, for its token's holder only, and only while it hasn't expired: every
    endpoint that names a conversation answers an expired one the same way."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ChatError(
            401, "token_missing", "Send the conversation's token as Authorization: Bearer …"
        )
    conversation = chat.find(session, conversation_id[:64])
    if conversation is None:
        raise ChatError(404, "not_found", "There is no such conversation; start a new one.")
    if not chat.token_matches(conversation, token.strip()):
        raise ChatError(403, "wrong_token", "This token is not for this conversation.")
    _usable(chat.require_current, service, session, conversation)
    return conversation


def _open_ticket(service: ChatService, session: Session, conversation: ChatConversation) -> Ticket:
    return _usable(chat.require_open, service, session, conversation)


def _usable(require, service: ChatService, session: Session, conversation) -> Ticket:
    """`require`'s ticket; a conversation that can't take part any more is 410 Gone."""
    try:
        return require(session, conversation, service.policy.resume_for, utcnow())
    except chat.ConversationUnusable as gone:
        raise ChatError(410, gone.code, str(gone)) from None


def _check_text(service: ChatService, text: str, name: str) -> None:
    """Worded for the visitor, who sees it in the widget; `fields` names the field."""
    limit = service.policy.max_message_chars
    if not text:
        raise ChatError(422, "invalid", "Write a message first.", fields={name: "is empty"})
    if len(text) > limit:
        raise ChatError(
            422,
            "invalid",
            f"Your message is longer than {limit:,} characters; please shorten it.",
            fields={name: f"is longer than {limit:,} characters"},
        )


def _check_origin(service: ChatService, request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser page's request (curl, a server): CORS doesn't apply
    origin = origin.lower().rstrip("/")
    own = {
        _origin_of(service.public_url),
        f"{request.url.scheme}://{request.headers.get('host', '')}",
    }
    if origin in own or origin in service.policy.allowed_origins:
        return
    raise ChatError(
        403,
        "origin_not_allowed",
        f"{origin} may not use this chat; add it to chat.allowed_origins in the policy.",
    )


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
