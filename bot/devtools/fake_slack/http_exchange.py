"""One request to the fake Slack and its answer: how the answer is encoded, and the record of
the exchange that tests read back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.devtools.fake_slack.slack_error import Args


@dataclass(frozen=True)
class RecordedRequest:
    """One call as the fake saw and answered it. Header names are lower-cased."""

    method: str
    args: Args
    headers: dict[str, str]
    status: int
    response: dict[str, Any]
    time: float  # when it was answered (time.time())
    retry_after: int | None = None  # the answer's Retry-After, in seconds

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class Reply:
    """An answer ready to send: a JSON object, or raw bytes such as a file."""

    status: int
    body: dict[str, Any] | bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, dict[str, str]]:
        if isinstance(self.body, bytes):
            return self.body, {"Content-Type": "application/octet-stream", **self.headers}
        data = json.dumps(self.body).encode()
        return data, {"Content-Type": "application/json; charset=utf-8", **self.headers}
