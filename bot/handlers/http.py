"""HTTP routes: Slack's requests, the health check, live chat, and the survey pages when on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import nullcontext

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.core.deliveries import backlog
from bot.handlers.api_docs import mount_api_docs
from bot.handlers.chat.errors import BodyLimit, install_error_handlers
from bot.handlers.slack.inbox import SlackInbox
from bot.storage.db import reader
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

# Slack's own payloads are a few KB; view submissions with many inputs stay well below this.
MAX_SLACK_BODY_BYTES = 1024 * 1024


def _outbox_backlog(engine: Engine) -> dict:
    with Session(reader(engine)) as session:  # never queued behind SQLite's writers
        return backlog(session, utcnow())


def build_http_app(
    bolt: App | None,
    engine: Engine,
    surveys: Sequence[APIRouter] = (),
    chat: APIRouter | None = None,
    chat_origins: list[str] = (),
    *,
    signing_secret: str | None = None,
    inbox: SlackInbox | None = None,
) -> FastAPI:
    http = FastAPI(title="helpdesk-bot", docs_url=None, redoc_url=None)
    mount_api_docs(http)
    for survey in surveys:
        http.include_router(survey)
    if chat is not None:
        http.include_router(chat)
        install_error_handlers(http)
        http.add_middleware(BodyLimit)
        # The widget's script shrinks to a third; event streams are left alone by Starlette.
        http.add_middleware(GZipMiddleware, minimum_size=1024)
        # Storefronts call the API from their own origin; their pages may, others may not.
        http.add_middleware(
            CORSMiddleware,
            allow_origins=list(chat_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    @http.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            outbox = await run_in_threadpool(_outbox_backlog, engine)
        except Exception as exc:
            log.warning("health check: database unreachable: %s", exc)
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        # Still 200 with a backlog: the process is alive; the figures say whether it keeps up.
        return JSONResponse({"status": "ok", "database": "ok", "outbox": outbox})

    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    @http.post("/slack/events")
    async def slack_events(request: Request) -> Response:
        with inbox.answering() if inbox is not None else nullcontext():
            return await answer_slack(request)

    async def answer_slack(request: Request) -> Response:
        if bolt is None:
            return JSONResponse(
                {"error": "Slack is connected over Socket Mode; this path is not used"},
                status_code=404,
            )
        body = await _limited_body(request)
        if body is None:
            return JSONResponse({"error": "request body too large"}, status_code=413)
        headers = {k: v for k, v in request.headers.items()}
        try:
            # Slack sends UTF-8; the signature is over the bytes, and Bolt reads text.
            decoded = body.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("refused a Slack request whose body is not UTF-8")
            return JSONResponse({"error": "the body is not UTF-8"}, status_code=400)
        # Checked here, on the event loop: forged and replayed requests never take one of the
        # threads that Slack's real requests wait for. Bolt checks again; that costs microseconds.
        if verifier is not None and not _signed(verifier, decoded, headers):
            return JSONResponse({"error": "invalid request signature"}, status_code=401)
        try:
            bolt_request = BoltRequest(body=decoded, query=request.url.query, headers=headers)
        # Bolt reads the body as it builds the request: bad JSON, JSON that is no object, or
        # JSON nested deeper than the parser's recursion allows.
        except (ValueError, AttributeError, TypeError, RecursionError) as exc:
            log.warning("refused a Slack request whose body is not a payload: %s", exc)
            return JSONResponse({"error": "the body is not a Slack payload"}, status_code=400)
        # Acknowledged as soon as it is stored, before any work: see bot/handlers/slack/inbox.py.
        if inbox is not None and await inbox.accepted(bolt_request.body, decoded, headers):
            return Response(status_code=200)
        # Bolt is synchronous; running it here would stall every other request.
        bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers={k: v[0] for k, v in bolt_response.headers.items() if v},
        )

    return http


def _signed(verifier: SignatureVerifier, body: str, headers: dict[str, str]) -> bool:
    # slack_sdk turns the timestamp into an int and raises on anything else.
    timestamp = headers.get("x-slack-request-timestamp", "")
    return timestamp.isascii() and timestamp.isdigit() and verifier.is_valid_request(body, headers)


async def _limited_body(request: Request) -> bytes | None:
    """The body, or None once it is over the limit: a bigger one is never held in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SLACK_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SLACK_BODY_BYTES:
            return None
    return bytes(body)
