"""Agents' replies through OUTBOUND_SMTP_URL over TLS, to real aiosmtpd servers on 127.0.0.1.

The servers present a self-signed certificate made here, which the helpdesk trusts only
through SSL_CERT_FILE (read by `ssl.create_default_context()` each time it sends): so the
tests also show that the certificate is checked, and that no password goes to a server
whose certificate can't be verified.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import json
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import Delivery, Direction, Message, OutboxItem
from bot.views import ids
from tests.conftest import free_port
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SUPPORT,
    MailSink,
    answer_values,
    eventually,
    running_helpdesk,
)
from tests.e2e.test_agent_workflow import Desk


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


USER = "helpdesk@shop.example"
PASSWORD = "s3cret:pass/word"  # URL-quoted in OUTBOUND_SMTP_URL, like a real one must be


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(folder: Path) -> Certificate:
    """A certificate for 127.0.0.1, valid for a day: with `cryptography` if installed."""
    made = Certificate(folder / "cert.pem", folder / "key.pem")
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor the openssl command is available")
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", str(made.key), "-out", str(made.cert), "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return made
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    made.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    made.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return made


@dataclass(frozen=True)
class Received:
    recipients: list[str]
    content: bytes
    login: bytes | None
    over_tls: bool

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


class TlsMailServer:
    """A mail provider that takes mail only from USER, logged in over TLS.

    `implicit`: TLS from the first byte (smtps://, port 465 style); otherwise plain SMTP
    that must be upgraded with STARTTLS before anything else. `mechanisms`: the AUTH
    mechanisms offered. Answers queued in `rcpt_answers` / `data_answers` are given, first
    first, instead of accepting.
    """

    def __init__(
        self, certificate: Certificate, *, implicit: bool = False, mechanisms=("LOGIN", "PLAIN")
    ):
        self.implicit = implicit
        self.messages: list[Received] = []
        self.logins: list[tuple[str, bytes, bool]] = []  # mechanism, login, accepted
        self.rcpts: list[str] = []
        self.rcpt_answers: list[str] = []
        self.data_answers: list[str] = []
        self.port = free_port()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate.cert, certificate.key)
        if implicit:
            # aiosmtpd counts only STARTTLS as TLS for `auth_require_tls`; here every byte
            # is encrypted anyway.
            tls = {"ssl_context": context, "auth_require_tls": False}
        else:
            tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_required=True,
            auth_exclude_mechanism=[m for m in ("LOGIN", "PLAIN") if m not in mechanisms],
            **tls,
        )

    def url(self, password: str = PASSWORD) -> str:
        scheme, query = ("smtps", "") if self.implicit else ("smtp", "?starttls=true")
        credentials = f"{quote(USER, safe='')}:{quote(password, safe='')}"
        return f"{scheme}://{credentials}@127.0.0.1:{self.port}{query}"

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        accepted = isinstance(auth_data, LoginPassword) and auth_data == (
            USER.encode(),
            PASSWORD.encode(),
        )
        login = auth_data.login if isinstance(auth_data, LoginPassword) else b""
        self.logins.append((mechanism, login, accepted))
        # handled=False: aiosmtpd answers (235 or 535) itself; auth_data reaches the session.
        return AuthResult(success=accepted, handled=False, auth_data=auth_data)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        self.rcpts.append(address)
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        credentials = session.auth_data
        login = credentials.login if isinstance(credentials, LoginPassword) else None
        self.messages.append(
            Received(list(envelope.rcpt_tos), envelope.original_content, login, over_tls)
        )
        return "250 OK"

    def __enter__(self) -> TlsMailServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusted(certificate, monkeypatch) -> Certificate:
    """The helpdesk trusts the servers' certificate (and, in these tests, nothing else)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificate


@pytest.fixture
def open_desk(database_url) -> Iterator[Callable[..., Desk]]:
    """Starts the helpdesk sending through `server` (at `url`, by default its own)."""
    with ExitStack() as stack:

        def start(server: TlsMailServer | MailSink, url: str | None = None) -> Desk:
            stack.enter_context(server)
            slack = stack.enter_context(FakeSlack())
            slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
            slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
            helpdesk = stack.enter_context(
                running_helpdesk(database_url, slack, outbound_smtp_url=url or server.url())
            )
            return Desk(helpdesk, slack, server)

        yield start


def reply(desk: Desk, text: str) -> None:
    """The agent answers through the signed Reply modal, as Slack would send it."""
    assert desk.click(ids.TICKET_REPLY).status == 200
    view = desk.opened_view()
    assert view["callback_id"] == ids.REPLY_MODAL
    answer = desk.submit(view, answer_values(view, text))
    assert answer.status == 200 and answer.body in ("", "{}"), answer.body


def the_reply(desk: Desk) -> Message:
    with Session(desk.helpdesk.engine) as session:
        return session.exec(select(Message).where(Message.direction == Direction.OUTBOUND)).one()


def email_rows(desk: Desk) -> list[OutboxItem]:
    with Session(desk.helpdesk.engine) as session:
        return list(
            session.exec(select(OutboxItem).where(OutboxItem.kind == kinds.EMAIL_SEND)).all()
        )


def assert_threaded_reply(desk: Desk, received: Received, text: str) -> None:
    mail = received.parsed()
    customer_id = desk.first_mail["Message-ID"]
    assert received.recipients == ["jane@customer.example"]
    assert mail["From"] == SUPPORT
    assert mail["To"] == "Jane Doe <jane@customer.example>"
    assert mail["Subject"] == "Re: Where is my order?"
    assert mail["In-Reply-To"] == customer_id
    assert customer_id in mail["References"].split()
    assert mail["Message-ID"].endswith("@shop.example>")
    assert mail["Message-ID"].strip("<>") == the_reply(desk).email_message_id
    assert text in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_starttls_with_a_login_delivers_a_threaded_reply(open_desk, trusted, mechanism):
    server = TlsMailServer(trusted, mechanisms=(mechanism,))
    desk = open_desk(server)
    reply(desk, "Hi Jane,\n\nIt ships today.")
    assert eventually(lambda: server.messages, timeout=15)
    desk.wait_for_outbox()

    [received] = server.messages
    assert received.over_tls and received.login == USER.encode()
    assert server.logins == [(mechanism, USER.encode(), True)]
    assert_threaded_reply(desk, received, "It ships today.")
    assert the_reply(desk).delivery == Delivery.SENT
    assert desk.thread_texts()[-1].startswith("Sent to the customer")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_implicit_tls_delivers_a_threaded_reply(open_desk, trusted):
    server = TlsMailServer(trusted, implicit=True)
    desk = open_desk(server)
    reply(desk, "Your refund was issued.")
    assert eventually(lambda: server.messages, timeout=15)
    desk.wait_for_outbox()

    [received] = server.messages
    assert received.over_tls and received.login == USER.encode()
    assert_threaded_reply(desk, received, "Your refund was issued.")
    assert the_reply(desk).delivery == Delivery.SENT


def test_a_wrong_password_fails_at_once_and_says_to_check_the_url(open_desk, trusted):
    server = TlsMailServer(trusted)
    desk = open_desk(server, server.url(password="not-the-password"))
    reply(desk, "Hello again")
    desk.wait_for_outbox()

    # smtplib tries each mechanism offered, once; the refusal is final, so no retry.
    assert server.messages == []
    assert server.logins == [("PLAIN", USER.encode(), False), ("LOGIN", USER.encode(), False)]
    failed = the_reply(desk)
    assert failed.delivery == Delivery.FAILED
    assert "OUTBOUND_SMTP_URL" in failed.delivery_error and "535" in failed.delivery_error
    assert "not-the-password" not in failed.delivery_error
    shown = desk.slack.thread(CHANNEL, desk.root_ts)[-1]
    assert "Not delivered" in shown["text"]
    assert "OUTBOUND_SMTP_URL" in json.dumps(shown["blocks"])
    [row] = email_rows(desk)
    assert row.attempts == 1


def test_a_temporary_refusal_is_retried_then_sent(open_desk, trusted):
    server = TlsMailServer(trusted)
    server.rcpt_answers.append("451 4.7.1 Greylisted, please try again later")
    desk = open_desk(server)
    reply(desk, "Your parcel is on its way")
    assert eventually(lambda: server.messages, timeout=20)
    desk.wait_for_outbox()

    assert server.rcpts == ["jane@customer.example"] * 2
    [received] = server.messages
    assert_threaded_reply(desk, received, "Your parcel is on its way")
    assert the_reply(desk).delivery == Delivery.SENT
    [row] = email_rows(desk)
    assert row.attempts == 2 and row.last_error is None
    assert desk.thread_texts()[-1].startswith("Sent to the customer")


def test_a_permanent_refusal_is_shown_failed_in_the_thread(open_desk, trusted):
    server = TlsMailServer(trusted)
    server.data_answers.append("550 5.7.1 Message rejected as spam")
    desk = open_desk(server)
    reply(desk, "Buy now")
    desk.wait_for_outbox()

    assert server.messages == [] and len(server.rcpts) == 1
    failed = the_reply(desk)
    assert failed.delivery == Delivery.FAILED
    assert "550 5.7.1 Message rejected as spam" in failed.delivery_error
    shown = desk.slack.thread(CHANNEL, desk.root_ts)[-1]
    assert "Not delivered" in shown["text"] and "Buy now" in shown["text"]
    assert "550 5.7.1 Message rejected as spam" in json.dumps(shown["blocks"])
    assert [e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_an_unverifiable_certificate_gets_no_password_and_no_mail(
    open_desk, monkeypatch, certificate
):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system's authorities only
    server = TlsMailServer(certificate)
    desk = open_desk(server)
    reply(desk, "Hello over an unverified link")
    desk.wait_for_outbox()  # three tries, a few seconds apart

    assert server.logins == [] and server.messages == []
    failed = the_reply(desk)
    assert failed.delivery == Delivery.FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in failed.delivery_error
    [row] = email_rows(desk)
    assert row.attempts == 3


def test_a_server_without_starttls_gets_neither_the_password_nor_the_mail(open_desk, trusted):
    plain = MailSink()  # no TLS at all: with ?starttls=true, nothing may go in the clear
    credentials = f"{quote(USER, safe='')}:{quote(PASSWORD, safe='')}"
    desk = open_desk(plain, f"smtp://{credentials}@127.0.0.1:{plain.port}?starttls=true")
    reply(desk, "Hello in the clear?")
    desk.wait_for_outbox()

    assert plain.messages == []
    failed = the_reply(desk)
    assert failed.delivery == Delivery.FAILED and "STARTTLS" in failed.delivery_error
