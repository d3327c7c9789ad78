"""Every chat API failure as `{"error", "code"}` JSON with the right status (docs/chat.md)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis import RedisError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.storage.problems import first_line

log = logging.getLogger(__name__)

API_PREFIX = "/chat/api/"
MAX_BODY_BYTES = 64 * 1024


class ChatError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict | None = None,
        fields: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.fields = fields


def error_response(
    status: int, code: str, message: str, headers: dict | None = None, **extra
) -> JSONResponse:
    return JSONResponse(
        {"error": message, "code": code, **extra}, status_code=status, headers=headers
    )


def install_error_handlers(http: FastAPI) -> None:
    @http.exception_handler(ChatError)
    async def chat_error(request: Request, exc: ChatError) -> JSONResponse:
        extra = {"fields": exc.fields} if exc.fields else {}
        return error_response(exc.status, exc.code, str(exc), exc.headers, **extra)

    @http.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if not request.url.path.startswith(API_PREFIX):
            return await request_validation_exception_handler(request, exc)
        errors = exc.errors()
        if any(error["type"] == "json_invalid" for error in errors):
            return error_response(400, "invalid_json", "The body is not valid JSON.")
        fields = {_field(error): _reason(error) for error in errors}
        summary = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        return error_response(422, "invalid", summary, fields=fields)

    @http.exception_handler(HTTPException)
    async def unreadable(request: Request, exc: HTTPException) -> JSONResponse:
        # FastAPI answers a body json.loads raised on (bytes that are not UTF-8, nesting past
        # the recursion limit) with a bare 400 and no code.
        if not request.url.path.startswith(API_PREFIX) or exc.status_code != 400:
            return await http_exception_handler(request, exc)
        if isinstance(exc.__cause__, UnicodeDecodeError):
            return error_response(400, "invalid_encoding", "The body is not valid UTF-8.")
        return error_response(400, "invalid_json", "The body could not be read as JSON.")

    async def store_away(request: Request, exc: Exception) -> JSONResponse:
        reason = first_line(exc)
        store = "Redis" if isinstance(exc, RedisError) else "database"
        log.warning("%s %s: %s error: %s", request.method, request.url.path, store, reason)
        return error_response(
            503,
            "unavailable",
            "The helpdesk can't reach its database; try again shortly.",
            {"Retry-After": "5"},
        )

    # Redis, when REDIS_URL is set, holds the rate limits every request passes first.
    http.add_exception_handler(DBAPIError, store_away)
    http.add_exception_handler(RedisError, store_away)


def _field(error: dict) -> str:
    location = [str(part) for part in error["loc"] if part != "body"]
    return ".".join(location) or "body"


def _reason(error: dict) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] in ("model_attributes_type", "dict_type"):
        return "expected a JSON object"
    return error["msg"].removeprefix("Value error, ")


class BodyLimit:
    """Refuses chat API bodies over `MAX_BODY_BYTES` before anything reads them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(API_PREFIX)
            or scope["method"] not in ("POST", "PUT", "PATCH")
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None:
            response = error_response(
                411, "length_required", "Send the body with a Content-Length header."
            )
        elif not length.isdigit() or int(length) > self.limit:
            response = error_response(
                413, "too_large", f"The body is over {self.limit // 1024} KB."
            )
        else:
            await self.app(scope, self._capped(receive, int(length)), send)
            return
        await response(scope, receive, send)

    @staticmethod
    def _capped(receive: Receive, declared: int) -> Receive:
        received = 0

        async def capped() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > declared:
                # More than Content-Length said: the server would stop reading anyway.
                return {"type": "http.disconnect"}
            return message

        return capped
