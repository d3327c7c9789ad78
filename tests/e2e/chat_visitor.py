"""A website visitor as the chat API sees one: plain HTTP over a real socket, and SSE."""

from __future__ import annotations

import http.client
import json
import queue
import secrets
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class ChatVisitor:
    def __init__(self, port: int, origin: str | None = None, ip: str | None = None):
        self.port = port
        self.origin = origin
        self.ip = ip  # sent as X-Forwarded-For, which uvicorn trusts from 127.0.0.1
        self.conversation_id: str | None = None
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
        token = token or self.token
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if self.origin:
            sent["Origin"] = self.origin
        if self.ip:
            sent["X-Forwarded-For"] = self.ip
        try:
            connection.request(method, path, body=raw, headers=sent)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        kind = response.getheader("content-type", "")
        parsed = json.loads(content) if kind.startswith("application/json") else content
        return Answer(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})

    def start(self, message: str = "Hi, where is my order?", **fields) -> Answer:
        answer = self.request("POST", "/chat/api/conversations", {"message": message, **fields})
        if answer.status in (200, 201):
            self.conversation_id = answer.body["conversation"]["id"]
            self.token = answer.body["token"]
        return answer

    @property
    def path(self) -> str:
        return f"/chat/api/conversations/{self.conversation_id}"

    def say(self, text: str, client_id: str | None = None) -> Answer:
        body = {"text": text, "client_id": client_id or secrets.token_hex(8)}
        return self.request("POST", f"{self.path}/messages", body)

    def resume(self) -> Answer:
        return self.request("GET", self.path)

    def poll(self, after: int = 0) -> Answer:
        return self.request("GET", f"{self.path}/messages?after={after}")

    def stream(self, after: int = 0, last_event_id: str | None = None) -> EventStream:
        return EventStream(
            self.port, f"{self.path}/events?after={after}", self.token, last_event_id
        )


class EventStream:
    """Reads a text/event-stream in a thread; events arrive on `events` as (id, event, data)."""

    def __init__(self, port: int, path: str, token: str | None, last_event_id: str | None = None):
        self.events: queue.Queue[tuple[str | None, str, Any]] = queue.Queue()
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self._connection.request("GET", path, headers=headers)
        self.response = self._connection.getresponse()
        self.status = self.response.status
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if "data" in fields:
                        data = json.loads(fields["data"])
                        self.events.put((fields.get("id"), fields.get("event", "message"), data))
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except (OSError, ValueError, AttributeError):
            pass  # closed by the test, which http.client reports in several ways

    def next_message(self, timeout: float = 10) -> dict:
        _, _, data = self.events.get(timeout=timeout)
        return data

    def close(self) -> None:
        self._connection.sock and self._connection.sock.shutdown(2)
        self._connection.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
