"""The sandbox page at `/sandbox/` and its JSON API, on loopback only.

The page shows the fake Slack's channels and the mail catcher; each click, submission and
message it sends becomes the signed request Slack would send to `/slack/events`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import mimetypes
import shlex
from datetime import datetime
from pathlib import Path
from threading import Event
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.exception_handlers import (
    request_validation_exception_handler as request_validation_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.app import Helpdesk
from bot.config import Policy, Settings
from bot.jobs.daily_digest import enqueue_digest
from bot.sandbox.agent import SandboxAgent, SandboxError
from bot.sandbox.demo_data import reset_sandbox, seed_database
from bot.sandbox.sample_mail import sample_customer_mail, send_to_helpdesk
from bot.sandbox.workspace import Sandbox

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
LONG_POLL_SECONDS = 25
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
# Sent by the page's script with every call that changes something (see from_the_page).
PAGE_HEADER = "X-Sandbox"
# The page's script is ES modules, which a browser runs only when served as JavaScript: not left
# to the machine's MIME table (Windows' registry, for one, can map .js to text/plain).
_ASSET_TYPES = {".js": "text/javascript; charset=utf-8"}


class Refused(Exception):
    """A request from off this machine, or naming another host."""


def loopback_only(request: Request) -> None:
    """The sandbox acts as an agent without any login: only this machine may use it. The
    Host check stops a web page elsewhere from reaching it through DNS rebinding."""
    client = request.client.host if request.client else ""
    host = request.headers.get("host", "").rsplit(":", 1)[0]
    try:
        local = ipaddress.ip_address(client).is_loopback
    except ValueError:
        local = False
    if not local or host not in _LOOPBACK_NAMES:
        log.warning("sandbox: refused a request from %s for host %r", client, host)
        raise Refused()


def from_the_page(request: Request) -> None:
    """Calls that change something must come from the sandbox page itself.

    Any web page open in the same browser can send a form or a simple `fetch` here, and the
    browser delivers it; it can't add the page's own header without a CORS preflight, which
    is never granted for it, and its `Origin` names it.
    """
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if request.headers.get(PAGE_HEADER) != "1" or (origin is not None and origin != own):
        log.warning("sandbox: refused %s from origin %r", request.url.path, origin)
        raise SandboxError(
            f"only the sandbox page may do this: open {own}/sandbox/ and use its buttons", 403
        )


class MessageAction(BaseModel):
    channel: str = ""
    message_ts: str = ""
    ephemeral_id: str = ""
    view_id: str = ""
    action: dict[str, Any]
    values: dict[str, Any] = {}


class Submission(BaseModel):
    view_id: str
    values: dict[str, Any] = {}


class Closing(BaseModel):
    view_id: str


class OptionsQuery(BaseModel):
    view_id: str
    block_id: str
    action_id: str
    value: str = ""


class ThreadMessage(BaseModel):
    channel: str
    thread_ts: str
    text: str = Field(max_length=40_000)


class AppTab(BaseModel):
    tab: Literal["home", "messages"]


class SlashCommand(BaseModel):
    command: str = Field(pattern=r"^/[a-z0-9_-]+$")
    text: str = ""
    channel: str


def sandbox_router(
    sandbox: Sandbox, settings: Settings, policy: Policy, engine: Engine, stopping: Event
) -> APIRouter:
    router = APIRouter(prefix="/sandbox", include_in_schema=False)
    api = APIRouter(prefix="/api")
    guarded = [Depends(loopback_only)]
    changing = [*guarded, Depends(from_the_page)]
    commands = _slash_commands()

    def agent(request: Request) -> SandboxAgent:
        events = f"http://127.0.0.1:{request.url.port}/slack/events"
        return SandboxAgent(sandbox.slack, sandbox.you, events, sandbox.signing_secret)

    @router.get("/", dependencies=guarded)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @router.get("/static/{name}", dependencies=guarded)
    def asset(name: str) -> FileResponse:
        path = STATIC / name
        if name not in {p.name for p in STATIC.iterdir()}:
            raise SandboxError("No such file.", 404)
        return FileResponse(path, media_type=_ASSET_TYPES.get(path.suffix))

    @router.get("/files/{file_id}", dependencies=guarded)
    def file(file_id: str) -> Response:
        """A file shared in the workspace, such as the digest's chart."""
        data = sandbox.slack.file_content(file_id)
        if data is None:
            raise SandboxError("No such file.", 404)
        kind = mimetypes.guess_type(sandbox.slack.file_name(file_id) or "")[0]
        return Response(data, media_type=kind or "application/octet-stream")

    @api.get("/state", dependencies=guarded)
    async def state(request: Request, after: int = 0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + LONG_POLL_SECONDS
        while _version(sandbox) <= after and asyncio.get_running_loop().time() < deadline:
            if stopping.is_set() or await request.is_disconnected():
                break
            await asyncio.sleep(0.2)
        return await run_in_threadpool(_state, sandbox, settings, commands)

    @api.post("/actions", dependencies=changing)
    def actions(body: MessageAction, request: Request) -> dict:
        if body.view_id:
            agent(request).click_in_view(body.view_id, body.action, body.values)
        else:
            agent(request).click_message(
                body.channel,
                body.action,
                message_ts=body.message_ts,
                ephemeral_ts=body.ephemeral_id,
            )
        return {"ok": True}

    @api.post("/submit", dependencies=changing)
    def submit(body: Submission, request: Request) -> dict:
        errors = agent(request).submit(body.view_id, body.values)
        return {"errors": errors} if errors else {"ok": True}

    @api.post("/close", dependencies=changing)
    def close(body: Closing, request: Request) -> dict:
        agent(request).close(body.view_id)
        return {"ok": True}

    @api.post("/options", dependencies=changing)
    def options(body: OptionsQuery, request: Request) -> dict:
        return agent(request).options(body.view_id, body.block_id, body.action_id, body.value)

    @api.post("/messages", dependencies=changing)
    def messages(body: ThreadMessage, request: Request) -> dict:
        return {"ok": True, "ts": agent(request).write(body.channel, body.thread_ts, body.text)}

    @api.post("/commands", dependencies=changing)
    def command(body: SlashCommand, request: Request) -> dict:
        if body.command not in {c["command"] for c in commands}:
            known = ", ".join(c["command"] for c in commands)
            raise SandboxError(f"{body.command} is not a command of this app; try {known}.")
        return {
            "ok": True,
            "response": agent(request).command(body.command, body.text, body.channel),
        }

    @api.post("/app", dependencies=changing)
    def app_tab(body: AppTab, request: Request) -> dict:
        agent(request).open_app(body.tab)
        return {"ok": True}

    @api.post("/page-loaded", dependencies=changing)
    def page_loaded(request: Request) -> dict:
        """A page (re)loaded, as Slack's client would: no modal is left open."""
        agent(request).close_all()
        return {"ok": True}

    @api.post("/reset", dependencies=changing)
    def reset() -> dict:
        reset_sandbox(sandbox, engine)
        return {"ok": True}

    @api.post("/sample-email", dependencies=changing)
    def sample_email() -> dict:
        mail = sample_customer_mail(settings.helpdesk_support_address, sandbox.mail.received)
        code, message = send_to_helpdesk(settings, mail)
        if code != 250:
            raise SandboxError(f"the helpdesk's SMTP server answered {code} {message}", 502)
        return {"ok": True, "code": code, "message": message}

    @api.post("/digest", dependencies=changing)
    def digest() -> dict:
        zone = ZoneInfo(policy.timezone)
        today = datetime.now(zone).date()
        channel = settings.digest_channel
        if not enqueue_digest(engine, today, channel, policy.timezone):
            raise SandboxError("Today's digest is already posted; it is posted once a day.", 409)
        return {"ok": True}

    router.include_router(api)
    return router


def mount_sandbox(sandbox: Sandbox, helpdesk: Helpdesk) -> None:
    """Adds the page and its API to the helpdesk's HTTP server, and the demo's data to its
    database: `create_app`'s `mount` on the sandbox's path (bot/cli.py), so that production
    never loads the stand-ins."""
    seed_database(helpdesk.engine)
    http = helpdesk.http
    http.include_router(
        sandbox_router(
            sandbox, helpdesk.settings, helpdesk.policy, helpdesk.engine, helpdesk.stopping
        )
    )

    @http.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        port = request.scope["server"][1]
        where = f"http://127.0.0.1:{port}/sandbox/"
        return JSONResponse(
            {"error": f"the sandbox answers only on this machine: open {where} there"},
            status_code=403,
        )

    others = http.exception_handlers.get(RequestValidationError, request_validation_handler)

    @http.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if not request.url.path.startswith("/sandbox/"):
            return await others(request, exc)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'][1:]) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        return JSONResponse({"error": f"the page sent a bad request ({problems})"}, 422)

    @http.exception_handler(SandboxError)
    async def sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("sandbox: %s", exc)
        return JSONResponse({"error": str(exc)}, status_code=exc.status)


def _version(sandbox: Sandbox) -> int:
    # Both only grow, so their sum changes whenever either does; a page that has seen
    # nothing asks with after=0, and must get the state at once.
    return 1 + sandbox.slack.version + sandbox.mail.received


def _state(sandbox: Sandbox, settings: Settings, commands: list[dict]) -> dict[str, Any]:
    version = _version(sandbox)
    workspace = sandbox.slack.snapshot()
    you = workspace["users"].get(sandbox.you, {})
    host, port = settings.smtp_listen or ("127.0.0.1", 2525)
    return {
        "version": version,
        "you": {"id": sandbox.you, "name": you.get("name", "you")},
        "users": {
            user_id: {
                "name": user["name"],
                "real_name": user.get("real_name") or user["name"],
                "is_bot": user.get("is_bot", False),
            }
            for user_id, user in workspace["users"].items()
        },
        "channels": _conversations(workspace, sandbox, settings),
        "home": sandbox.slack.home_view(sandbox.you),
        "view": sandbox.slack.open_modal(sandbox.you),
        "ephemeral": [
            {**message, "id": message["ts"]}
            for message in sandbox.slack.ephemeral_messages(sandbox.you)
        ],
        "mail": sandbox.mail.messages(),
        "links": {"chat": "/sandbox/static/shop.html", "chat_page": "/chat/", "docs": "/docs"},
        "smtp": _smtp_examples(host, port, settings.helpdesk_support_address),
        "commands": commands,
    }


def _conversations(workspace: dict, sandbox: Sandbox, settings: Settings) -> list[dict]:
    """Channels with the support channel first, then the app's direct messages with the user
    (its Messages tab)."""
    purposes = {
        settings.helpdesk_support_channel: "New tickets: one thread each",
        settings.escalation_channel: "Escalated tickets",
        settings.digest_channel: "The daily metrics digest",
    }
    for tier in reversed(sandbox.policy.escalation.tiers):
        purposes[tier.channel] = f"Tickets escalated to {tier.name}"
    channels, direct = [], []
    for conversation in workspace["channels"]:
        for message in conversation["messages"]:
            for posted in (message, *message["replies"]):
                _link_files(posted)
        if conversation["dm_user"] == sandbox.you:
            direct.append({**conversation, "name": "Helpdesk", "purpose": ""})
        elif conversation["dm_user"] is None:
            purpose = purposes.get(conversation["id"], "")
            channels.append({**conversation, "purpose": purpose})
    channels.sort(key=lambda c: c["id"] != settings.helpdesk_support_channel)
    return [*channels, *direct]


def _link_files(message: dict) -> None:
    """Files point at the page's own URL: Slack's need the bot token to be read."""
    for file in message.get("files", []):
        file["url"] = f"/sandbox/files/{file['id']}"


def _smtp_examples(host: str, port: int, to: str) -> dict[str, Any]:
    swaks = (
        f"swaks --server {host}:{port} --to {to} --from jane@customer.example "
        "--header 'Subject: Where is my order?' --body 'Hi, my order has not arrived yet.'"
    )
    script = (
        "import smtplib; from email.message import EmailMessage; m = EmailMessage(); "
        f'm["From"] = "jane@customer.example"; m["To"] = "{to}"; '
        'm["Subject"] = "Where is my order?"; m.set_content("Hi, my order has not arrived."); '
        f'smtplib.SMTP("{host}", {port}).send_message(m)'
    )
    return {
        "host": host,
        "port": port,
        "to": to,
        "swaks": swaks,
        "python": f"python3 -c {shlex.quote(script)}",
    }


def _slash_commands() -> list[dict]:
    """The app's commands, as the manifest declares them to Slack."""
    try:
        manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    except OSError:
        return []
    declared = manifest.get("features", {}).get("slash_commands", [])
    return [{k: c.get(k, "") for k in ("command", "usage_hint", "description")} for c in declared]
