"""`IMAP_URL` decoded: where the mailbox is, who logs in, which folder is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from bot.config import ConfigError

DEFAULT_FOLDER = "INBOX"


@dataclass(frozen=True)
class ImapUrl:
    """`imaps://user:pass@host:993/INBOX` or `imap://user:pass@host:143/INBOX`, decoded."""

    secure: bool
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    folder: str

    @classmethod
    def parse(cls, url: str) -> ImapUrl:
        parts = urlsplit(url.strip())
        shown = _without_password(url)
        if parts.scheme not in ("imap", "imaps"):
            raise ConfigError(
                f"IMAP_URL={shown!r}: expected imaps://user:password@host:993/INBOX "
                "(or imap://… for port 143 with STARTTLS)"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"IMAP_URL={shown!r}: the port is not a number") from None
        if not parts.hostname:
            raise ConfigError(f"IMAP_URL={shown!r}: the host name is missing")
        if not parts.username:
            raise ConfigError(
                f"IMAP_URL={shown!r}: the user name is missing (imaps://user:password@host/INBOX)"
            )
        secure = parts.scheme == "imaps"
        return cls(
            secure=secure,
            host=parts.hostname,
            port=port or (993 if secure else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.strip("/")) or DEFAULT_FOLDER,
        )

    @property
    def key(self) -> str:
        """The cursor's key: `user@host/folder`."""
        return f"{self.user}@{self.host}/{self.folder}"


def _without_password(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
