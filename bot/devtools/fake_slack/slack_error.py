"""How the fake Slack says no: an ``ok: false`` answer, and the arguments methods receive."""

from __future__ import annotations

from typing import Any

Args = dict[str, Any]


class SlackError(Exception):
    """An ``ok: false`` answer: raised by method handlers, turned into the response body."""

    def __init__(self, error: str, *messages: str, **fields: Any) -> None:
        """``fields``: more of the answer, as Slack adds ``needed`` to ``missing_scope``."""
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.fields = fields

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.fields}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body
