"""Fetches the files agents attach in Slack, to send them on by email.

The download carries the bot token, and its address comes from Slack's answer to
`files.info`, so it is fetched only from Slack's file host (or the configured Slack API's
own origin: the fake Slack in tests and the sandbox), over https unless that origin is
loopback; a redirect is followed only within the same origin, a few times at most. Anything
else (another host, `file:`, plain http) fails the reply with the reason rather than hand
the token, or a local file, to whoever named the address.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

TIMEOUT_SECONDS = 30
# Slack's documented host for url_private and url_private_download.
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})
MAX_REDIRECTS = 3
_REDIRECTS = {301, 302, 303, 307, 308}


class FileUnavailable(Exception):
    """The file can't be had; `permanent` when trying again can't help (deleted, too big)."""

    def __init__(self, reason: str, *, permanent: bool):
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class FetchedFile:
    name: str
    content_type: str
    data: bytes


class SlackFiles:
    def __init__(self, client: WebClient, max_bytes: int):
        self._client = client
        self._max_bytes = max_bytes
        self._api_origin = _origin(client.base_url)
        # No redirect handler and no file: handler; redirects are decided in _download.
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            self._opener.add_handler(handler)

    def fetch(self, file_id: str) -> FetchedFile:
        try:
            info = self._client.files_info(file=file_id)["file"]
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in ("file_not_found", "file_deleted"):
                raise FileUnavailable(
                    "an attached file was deleted from Slack", permanent=True
                ) from None
            raise FileUnavailable(f"Slack: {error or exc}", permanent=False) from None
        name = str(info.get("name") or "attachment")
        if int(info.get("size") or 0) > self._max_bytes:
            raise FileUnavailable(f"{name} is too large to email", permanent=True)
        data = self._download(name, str(info.get("url_private_download") or ""))
        if len(data) > self._max_bytes:
            raise FileUnavailable(f"{name} is too large to email", permanent=True)
        return FetchedFile(
            name=name,
            content_type=str(info.get("mimetype") or "application/octet-stream"),
            data=data,
        )

    def _download(self, name: str, url: str) -> bytes:
        self._refuse_unless_slack(name, url)
        for _ in range(MAX_REDIRECTS + 1):
            request = urllib.request.Request(
                url, headers={"Authorization": f"Bearer {self._client.token}"}
            )
            try:
                with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                    return response.read(self._max_bytes + 1)
            except urllib.error.HTTPError as exc:
                if exc.code not in _REDIRECTS:
                    reason = f"could not download {name} from Slack: HTTP {exc.code}"
                    raise FileUnavailable(reason, permanent=False) from None
                url = self._same_origin(name, url, urljoin(url, exc.headers.get("Location", "")))
            except (urllib.error.URLError, OSError) as exc:
                reason = f"could not download {name} from Slack: {exc}"
                raise FileUnavailable(reason, permanent=False) from None
        raise FileUnavailable(f"{name}: Slack redirected its download too often", permanent=True)

    def _refuse_unless_slack(self, name: str, url: str) -> None:
        parts = urlsplit(url)
        origin = _origin(url)
        from_slack = parts.scheme == "https" and parts.hostname in SLACK_FILE_HOSTS
        from_api = origin == self._api_origin and (
            parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))
        )
        if not (from_slack or from_api):
            where = f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else repr(url[:40])
            raise FileUnavailable(
                f"{name} was not fetched: its address ({where}) is not Slack's file host",
                permanent=True,
            )

    def _same_origin(self, name: str, current: str, target: str) -> str:
        if _origin(target) != _origin(current):
            where = urlsplit(target).netloc or target[:40]
            raise FileUnavailable(
                f"{name} was not fetched: its download was redirected to another host ({where})",
                permanent=True,
            )
        return target


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1  # never equal to a real origin's
    return parts.scheme.lower(), (parts.hostname or "").lower() or None, port


def _loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False
