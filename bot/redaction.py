"""Secrets are never printed whole: errors, `helpdesk check` and logs show a recognisable prefix.

Terminal output and logs end up in bug reports, CI logs and chat; a token or password
there is as good as published. Enough is kept to tell which value is meant (`xoxb-12…`,
`postgresql://user:***@host/db`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values

if TYPE_CHECKING:
    from bot.config import Settings

# Settings whose whole value is a secret.
SECRET_SETTINGS = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "HELPDESK_SECRET_KEY",
        "SHOPIFY_ACCESS_TOKEN",
        "AI_API_KEY",
    }
)
# Settings that are URLs and may carry a password.
URL_SETTINGS = frozenset(
    {
        "DATABASE_URL",
        "OUTBOUND_SMTP_URL",
        "IMAP_URL",
        "SLACK_API_URL",
        "SHOPIFY_API_URL",
        "REDIS_URL",
    }
)
# The password of any scheme://user:password@ in a text, whatever produced it.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.IGNORECASE)
# Shorter values would mask ordinary words; URL passwords are still masked by the pattern.
_MIN_SCRUBBED = 4
_PREFIX = 7


def redact_secret(value: str) -> str:
    """At most a quarter of the value, and never more than its first seven characters."""
    return value[: min(_PREFIX, len(value) // 4)] + "…"


def redact_url(value: str) -> str:
    return _URL_PASSWORD.sub(r"\g<head>***@", value)


def redact_setting(name: str, value: str) -> str:
    """A setting's value as it may be shown: secrets cut to a prefix, URL passwords masked."""
    if name.upper() in SECRET_SETTINGS:
        return redact_secret(value)
    if name.upper() in URL_SETTINGS:
        return redact_url(value)
    return value


class Redactor:
    """Removes known secret values, and any URL's password, from a text."""

    def __init__(self, secrets: Iterable[str]):
        unique = {s for s in secrets if s and len(s) >= _MIN_SCRUBBED}
        self._secrets = sorted(unique, key=len, reverse=True)

    @classmethod
    def of_values(cls, values: Mapping[str, str | None]) -> Redactor:
        """From setting names (any case) and their values."""
        secrets: list[str] = []
        for name, value in values.items():
            if not value:
                continue
            if name.upper() in SECRET_SETTINGS:
                secrets.append(value)
            elif name.upper() in URL_SETTINGS:
                secrets.extend(_url_passwords(value))
        return cls(secrets)

    @classmethod
    def of_environment(cls, env_file: Path = Path(".env")) -> Redactor:
        """From the environment and `.env`, where settings come from, even ones that failed
        validation."""
        from_file = dotenv_values(env_file) if env_file.is_file() else {}
        return cls.of_values({**from_file, **os.environ})

    @classmethod
    def of_settings(cls, settings: Settings) -> Redactor:
        names = SECRET_SETTINGS | URL_SETTINGS
        return cls.of_values({name: getattr(settings, name.lower(), None) for name in names})

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, redact_secret(secret))
        return redact_url(text)


def _url_passwords(url: str) -> list[str]:
    try:
        password = urlsplit(url).password
    except ValueError:
        # Unparseable (a bad port, a stray bracket): the text between the scheme's
        # "user:" and the last "@" is what a reader would take for the password.
        match = re.match(r"[a-z][a-z0-9+.-]*://[^/:@]*:(.+)@", url, re.IGNORECASE)
        password = match.group(1) if match else None
    return [p for p in {password, unquote(password or "")} if p]


def redact_logs(redactor: Redactor) -> None:
    """Every log record from now on is scrubbed as it is made, its message and its traceback.

    At creation rather than in a handler's filter, so records reaching handlers that libraries
    set up for themselves (uvicorn's, say) are scrubbed too.
    """
    make_record = logging.getLogRecordFactory()

    def scrubbed_record(*args, **kwargs) -> logging.LogRecord:
        return scrub_record(make_record(*args, **kwargs), redactor)

    logging.setLogRecordFactory(scrubbed_record)


def scrub_record(record: logging.LogRecord, redactor: Redactor) -> logging.LogRecord:
    message = record.getMessage()
    scrubbed = redactor.scrub(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse exc_text when it is set, so the traceback is shown scrubbed.
        record.exc_text = redactor.scrub(logging.Formatter().formatException(record.exc_info))
    return record
