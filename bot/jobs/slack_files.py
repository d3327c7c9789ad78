"""Fetches the files agents attach in Slack, to send them on by email."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

TIMEOUT_SECONDS = 30


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
        if int(info.get("size") or 0) > self._max_bytes:
            raise FileUnavailable(f"{info.get('name')} is too large to email", permanent=True)
        request = urllib.request.Request(
            info["url_private_download"],
            headers={"Authorization": f"Bearer {self._client.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                data = response.read(self._max_bytes + 1)
        except (urllib.error.URLError, OSError) as exc:
            reason = f"could not download a file from Slack: {exc}"
            raise FileUnavailable(reason, permanent=False) from None
        if len(data) > self._max_bytes:
            raise FileUnavailable(f"{info.get('name')} is too large to email", permanent=True)
        return FetchedFile(
            name=str(info.get("name") or "attachment"),
            content_type=str(info.get("mimetype") or "application/octet-stream"),
            data=data,
        )
