"""Start the real helpdesk on free loopback ports against a fake Slack, and mail it."""

from __future__ import annotations

import email
import email.policy
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid
from functools import partial
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from bot.app import Helpdesk, create_app
from bot.config import Policy, Settings
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.fake_socket_mode import SocketModeSender
from bot.devtools.slack_signing import (
    SlackEventSender,
    SlackHttpResponse,
    SlackRequestSigner,
    new_trigger_id,
)
from bot.sandbox.routes import mount_sandbox
from bot.sandbox.workspace import Sandbox, start_sandbox
from bot.storage.models import OutboxItem, OutboxStatus
from bot.views import ids
from tests.conftest import free_port

SUPPORT = "support@shop.example"
CHANNEL = "C0SUPPORT"
SIGNING_SECRET = "test-signing-secret"


def serve_environment(database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    """The environment of a `helpdesk` subprocess: this one's, less any real Slack settings."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "HELPDESK_"))}
    return {
        **inherited,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.url,
        "HELPDESK_SUPPORT_CHANNEL": CHANNEL,
        "HELPDESK_SUPPORT_ADDRESS": SUPPORT,
        "DATABASE_URL": database_url,
        "HELPDESK_HTTP_PORT": str(free_port()),
        "HELPDESK_SMTP_LISTEN": f"127.0.0.1:{free_port()}",
        "HELPDESK_DATA_DIR": tempfile.mkdtemp(prefix="helpdesk-data-"),
        **extra,
    }


def start_serve(
    database_url: str, slack: FakeSlack, smtp_port: int, cwd: Path, **extra: str
) -> subprocess.Popen:
    """`helpdesk serve` as a subprocess, once its /healthz answers; its log goes to a file in
    `cwd` (a pipe nobody reads would stall it once full)."""
    env = serve_environment(
        database_url,
        slack,
        HELPDESK_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        HELPDESK_OUTBOX_LEASE_SECONDS="5",
        **extra,
    )
    log = cwd / f"serve-{env['HELPDESK_HTTP_PORT']}.log"
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    wait_until_healthy(process, env["HELPDESK_HTTP_PORT"], log)
    return process


def wait_until_healthy(
    process: subprocess.Popen, http_port: str | int, log: Path | None = None
) -> dict:
    """Waits up to a minute (start-up takes seconds, more on a loaded machine) for a started
    `helpdesk serve` to answer /healthz; returns the answer. Fails the test with the
    process's stderr if it exits first (a pipe, or the file `log`)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            url = f"http://127.0.0.1:{http_port}/healthz"
            with urllib.request.urlopen(url, timeout=1) as answer:
                return json.load(answer)
        except OSError:
            if process.poll() is not None:
                stderr = log.read_text() if log else process.stderr.read().decode()
                pytest.fail(f"serve exited: {stderr}")
            time.sleep(0.1)
    process.kill()
    pytest.fail("serve did not come up within a minute")


def run_helpdesk(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """The `helpdesk` program in a subprocess, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_for(database_url: str, slack: FakeSlack, **overrides) -> Settings:
    values = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.url,
        "helpdesk_support_channel": CHANNEL,
        "helpdesk_support_address": SUPPORT,
        "database_url": database_url,
        "helpdesk_http_port": 0,
        "helpdesk_smtp_listen": f"127.0.0.1:{free_port()}",
        "helpdesk_outbox_lease_seconds": 5,
        "helpdesk_data_dir": tempfile.mkdtemp(prefix="helpdesk-data-"),
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextmanager
def running_helpdesk(
    database_url: str,
    slack: FakeSlack,
    policy: Policy | None = None,
    extra_deliverers: dict | None = None,
    **overrides,
) -> Iterator[Helpdesk]:
    settings = settings_for(database_url, slack, **overrides)
    helpdesk = create_app(settings, policy, extra_deliverers=extra_deliverers)
    helpdesk.start()
    try:
        yield helpdesk
    finally:
        helpdesk.stop()


def customer_mail(
    body: str = "Hello, where is my order?",
    *,
    subject: str = "Where is my order?",
    sender: str = "Jane Doe <jane@customer.example>",
    to: str = SUPPORT,
    in_reply_to: str | None = None,
    references: list[str] = (),
    message_id: str | None = None,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="customer.example")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    mail.set_content(body)
    return mail


def smtp_send(
    port: int,
    mail: EmailMessage | bytes,
    recipients: list[str] | None = None,
    envelope_sender: str = "jane@customer.example",
) -> tuple:
    """Sends over a real SMTP connection; returns the server's (code, message) for DATA.
    `envelope_sender` "" is the null sender, `MAIL FROM:<>`."""
    # On the wire, lines end in CRLF; smtplib leaves bytes as they are.
    raw = mail if isinstance(mail, bytes) else mail.as_bytes(policy=email.policy.SMTP)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        client.mail(envelope_sender)
        for recipient in recipients or [SUPPORT]:
            code, message = client.rcpt(recipient)
            if code >= 400:
                return code, message
        try:
            return client.data(raw)
        except smtplib.SMTPDataError as refused:
            return refused.smtp_code, refused.smtp_error


def eventually(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    """Polls a condition on state the test can't be notified about, such as the database."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def outbox_drained(engine, timeout: float = 15) -> None:
    """Waits until the outbox has delivered every row waiting (posts, updates, notices)."""

    def drained() -> bool:
        with Session(engine) as session:
            return not session.exec(
                select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.PENDING)
            ).first()

    assert eventually(drained, timeout=timeout)


class MailSink:
    """A real SMTP server standing in for the team's outbound mail provider."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refusals: list[str] = []  # answers to give to the next RCPTs, first first
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def parsed(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default) for _, raw in self.messages
        ]

    def __enter__(self) -> MailSink:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()


AGENT = {"id": "U0AGENT1", "username": "alex", "name": "alex", "team_id": "T0FAKE"}


def slack_sender(helpdesk: Helpdesk, slack: FakeSlack) -> SlackEventSender | SocketModeSender:
    """How Slack reaches this helpdesk: envelopes in Socket Mode, else signed HTTP requests."""
    if helpdesk.settings.slack_app_token:
        return SocketModeSender(slack.socket_mode)
    return http_sender(helpdesk.http_port)


def http_sender(http_port: int) -> SlackEventSender:
    url = f"http://127.0.0.1:{http_port}/slack/events"
    return SlackEventSender(url, SlackRequestSigner(SIGNING_SECRET))


def answer_block(view: dict) -> dict:
    return next(
        b for b in view["blocks"] if b.get("element", {}).get("action_id") == ids.REPLY_ANSWER
    )


def answer_values(view: dict, text: str, status: str | None = None) -> dict:
    """The Reply modal's state as Slack sends it when the agent has typed `text`."""
    answer = {ids.REPLY_ANSWER: {"type": "plain_text_input", "value": text}}
    selected = {"selected_option": {"value": status}} if status else {"selected_option": None}
    return {
        answer_block(view)["block_id"]: answer,
        ids.REPLY_STATUS_BLOCK: {ids.REPLY_STATUS: {"type": "static_select", **selected}},
    }


class SlackAgent:
    """An agent's clicks and modal submissions, sent to the helpdesk signed as Slack sends them."""

    def __init__(
        self,
        http_port: int,
        slack: FakeSlack,
        user: dict = AGENT,
        sender: SlackEventSender | SocketModeSender | None = None,
    ):
        self.slack, self.user = slack, user
        self.sender = sender or http_sender(http_port)

    def click(
        self, ticket_id: int, root_ts: str, action_id: str, user: dict | None = None, **action
    ) -> SlackHttpResponse:
        """A click on the ticket's root message: each one new, as Slack's are (a fresh trigger
        and time), so none is taken for Slack's retry of another."""
        action = {"action_id": action_id, "block_id": f"{ids.ROOT_ACTIONS_BLOCK}:{ticket_id}",
                  "value": str(ticket_id), **action}  # fmt: skip
        return self.sender.send_interaction(
            {
                "type": "block_actions",
                "user": user or self.user,
                "team": {"id": "T0FAKE", "domain": "fake"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": new_trigger_id(),
                "channel": {"id": CHANNEL, "name": "support"},
                "container": {"type": "message", "message_ts": root_ts},
                "message": {"ts": root_ts, "text": "#1"},
                "actions": [{"type": "button", "action_ts": f"{time.time():.6f}", **action}],
            }
        )

    def message_shortcut(
        self, callback_id: str, channel: str, message: dict, user: dict | None = None
    ) -> SlackHttpResponse:
        """A message shortcut on `message` (as the fake Slack stores it), as Slack sends it."""
        return self.sender.send_interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "user": user or self.user,
                "team": {"id": "T0FAKE", "domain": "fake"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": new_trigger_id(),
                "channel": {"id": channel, "name": channel.lower()},
                "message_ts": message["ts"],
                "message": message,
                "response_url": "https://hooks.fake.slack.test/actions/1",
            }
        )

    def react(
        self, channel: str, ts: str, reaction: str, user: dict | None = None, **envelope
    ) -> SlackHttpResponse:
        """`user` adds an emoji reaction to a message: Slack's `reaction_added` event
        (`envelope`: `event_id` and the like, see `event_body`; `type` for another event)."""
        kind = envelope.pop("type", "reaction_added")
        event = {
            "type": kind,
            "user": (user or self.user)["id"],
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "item_user": "U0SOMEONE",
            "event_ts": f"{time.time():.6f}",
        }
        return self.sender.send_event(event, **envelope)

    def opened_view(self, after: int = 0) -> dict:
        """The latest view opened, once there are more than `after`, as Slack stored it (with
        the `id` and `hash` later updates must name)."""
        self.slack.wait_for(lambda: len(self.slack.calls("views.open")) > after, timeout=10)
        return self.slack.calls("views.open")[-1].response["view"]

    def submit(
        self, view: dict, values: dict, user: dict | None = None, view_id: str | None = None
    ) -> SlackHttpResponse:
        payload = {
            "type": "view_submission",
            "user": user or self.user,
            "team": {"id": "T0FAKE", "domain": "fake"},
            "api_app_id": "A0HELPDESK",
            "trigger_id": "1.3.trigger",
            "view": {
                **view,
                "id": view_id or view.get("id", "V0REPLY"),
                "hash": view.get("hash", "1.abc"),
                "state": {"values": values},
            },
        }
        return self.sender.send_interaction(payload)

    def reply(
        self, ticket_id: int, root_ts: str, text: str, submit_via: SlackAgent | None = None
    ) -> None:
        """Answers the ticket through the Reply modal: the button, then the submission (sent
        `submit_via` another process's agent, if given)."""
        opened = len(self.slack.calls("views.open"))
        assert self.click(ticket_id, root_ts, ids.TICKET_REPLY).status == 200
        view = self.opened_view(after=opened)
        assert view["callback_id"] == ids.REPLY_MODAL
        answer = (submit_via or self).submit(view, answer_values(view, text))
        assert answer.status == 200 and answer.body in ("", "{}"), answer.body


@contextmanager
def staffed_helpdesk(
    database_url: str, policy: Policy | None = None, **overrides
) -> Iterator[tuple[Helpdesk, FakeSlack, MailSink]]:
    """A running helpdesk whose support channel has AGENT in it, mailing through a MailSink."""
    with FakeSlack() as slack, MailSink() as sink:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        with running_helpdesk(
            database_url, slack, policy, outbound_smtp_url=sink.url, **overrides
        ) as helpdesk:
            yield helpdesk, slack, sink


@contextmanager
def running_sandbox(data_dir) -> Iterator[tuple[Helpdesk, Sandbox]]:
    """`helpdesk serve --sandbox on`, in this process, on free loopback ports."""
    settings = Settings(
        _env_file=None,
        helpdesk_http_port=free_port(),
        helpdesk_smtp_listen=f"127.0.0.1:{free_port()}",
        helpdesk_data_dir=data_dir,
        helpdesk_outbox_lease_seconds=5,
    )
    sandbox, settings = start_sandbox(settings, Policy())  # no HELPDESK_CONFIG: the demo's
    try:
        helpdesk = create_app(settings, sandbox.policy, mount=partial(mount_sandbox, sandbox))
        helpdesk.start()
        try:
            yield helpdesk, sandbox
        finally:
            helpdesk.stop()
    finally:
        sandbox.stop()
