"""Sends one email through OUTBOUND_SMTP_URL, telling a retryable failure from a final one."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

TIMEOUT_SECONDS = 30


class SendFailed(Exception):
    """`unreachable`: the mail server could not be talked to at all (refused or dropped
    connections, timeouts, `421`), which says nothing about this mail."""

    def __init__(self, reason: str, *, permanent: bool, unreachable: bool = False):
        super().__init__(reason)
        self.permanent = permanent
        self.unreachable = unreachable


class SmtpSender:
    def __init__(self, url: str | None):
        self._url = urlsplit(url) if url else None

    def send(self, mail: EmailMessage) -> None:
        url = self._url
        if url is None:
            raise SendFailed(
                "OUTBOUND_SMTP_URL is not set, so the helpdesk cannot send email", permanent=True
            )
        if url.scheme not in ("smtp", "smtps"):
            raise SendFailed(
                "OUTBOUND_SMTP_URL must start with smtp:// or smtps://", permanent=True
            )
        try:
            with self._connect(url) as smtp:
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _from_codes(exc.recipients, "the recipient was refused") from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise _from_code(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPNotSupportedError as exc:
            # STARTTLS or AUTH not offered: asking again won't make the server offer it.
            raise SendFailed(
                f"the mail server doesn't support what OUTBOUND_SMTP_URL asks for: {exc}",
                permanent=True,
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(
                f"the mail server refused the login ({exc.smtp_code}); check OUTBOUND_SMTP_URL",
                permanent=True,
            ) from None
        except (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            raise SendFailed(
                f"could not reach the mail server: {exc}", permanent=False, unreachable=True
            ) from None
        except smtplib.SMTPResponseException as exc:
            # 421 at any step, or a greeting other than 220: the server isn't serving now.
            unreachable = exc.smtp_code == 421 or isinstance(exc, smtplib.SMTPConnectError)
            raise SendFailed(
                f"could not reach the mail server: {exc}",
                permanent=False,
                unreachable=unreachable,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"could not reach the mail server: {exc}", permanent=False) from None
        if refused:
            raise _from_codes(refused, "the recipient was refused")

    def _connect(self, url) -> smtplib.SMTP:
        host, user = url.hostname, unquote(url.username or "")
        if url.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(
                host, url.port or 465, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, url.port or 587, timeout=TIMEOUT_SECONDS)
        try:
            if parse_qs(url.query).get("starttls", ["false"])[0].lower() == "true":
                smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, unquote(url.password or ""))
        except BaseException:
            smtp.close()
            raise
        return smtp


def _from_code(code: int, error: bytes | str) -> SendFailed:
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return SendFailed(
        f"the mail server answered {code} {text}", permanent=code >= 500, unreachable=code == 421
    )


def _from_codes(recipients: dict, what: str) -> SendFailed:
    address, (code, error) = next(iter(recipients.items()))
    failed = _from_code(code, error)
    return SendFailed(
        f"{what} ({address}): {failed}",
        permanent=failed.permanent,
        unreachable=failed.unreachable,
    )
