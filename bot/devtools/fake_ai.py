"""A fake OpenAI-compatible chat-completions server over real HTTP, for tests and the sandbox.

It answers `POST /v1/chat/completions` as hosted and local servers (llama.cpp, Ollama, vLLM)
do: a JSON completion, or server-sent events when the request says `"stream": true`. Tests
script what comes next (an HTTP error, a slow answer, a refusal, garbage) and read every
request it was sent, to see exactly what the helpdesk told the model.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from bot.devtools.loopback import LoopbackService

_PATH = "/v1/chat/completions"

# What the fake answers when nothing else is scripted: a reply for drafts, JSON for triage.
Answerer = Callable[[list[dict[str, Any]]], str]


def echo_last_words(messages: list[dict[str, Any]]) -> str:
    """A stand-in model: says how many messages it was given, so tests can recognise it."""
    return f"Thanks for writing. (drafted from {len(messages)} messages)"


@dataclass
class _Fault:
    status: int = 200
    delay: float = 0.0
    body: bytes | None = None  # sent as it is, whatever the request asked
    refusal: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeAi(LoopbackService):
    """One model on a local port, `/v1` its base URL. Requests must carry `api_key`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str = "sk-fake-ai",
        answer: Answerer = echo_last_words,
    ) -> None:
        self.api_key = api_key
        self.answer = answer
        self._address = (host, port)
        self._lock = threading.Lock()
        self._requests: list[dict[str, Any]] = []
        self._next: deque[_Fault] = deque()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"{self._origin}/v1"

    # -- scripting ---------------------------------------------------------------------------

    def fail_next(self, status: int = 500, retry_after: float | None = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        error = {"error": {"message": f"fake error {status}", "type": "server_error"}}
        self._queue(_Fault(status, body=json.dumps(error).encode(), headers=headers))

    def slow_next(self, seconds: float) -> None:
        self._queue(_Fault(delay=seconds))

    def garbage_next(self, body: bytes = b"<html>502 Bad Gateway</html>") -> None:
        """An answer that is no completion: HTML from a proxy, half a JSON document, …"""
        self._queue(_Fault(body=body))

    def refuse_next(self, reason: str = "I can't help with that.") -> None:
        self._queue(_Fault(refusal=reason))

    def _queue(self, fault: _Fault) -> None:
        with self._lock:
            self._next.append(fault)

    # -- inspection --------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every chat-completions request body received, oldest first."""
        with self._lock:
            return list(self._requests)

    # -- serving -----------------------------------------------------------------------------

    def _before_stop(self) -> None:
        self._stopping.set()

    def _respond(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if method != "POST" or path.partition("?")[0] != _PATH:
            return _error(404, "not found")
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid api key")
        try:
            request = json.loads(body)
            messages = list(request["messages"])
        except (ValueError, TypeError, KeyError):
            return _error(400, "expected a JSON body with messages")
        with self._lock:
            self._requests.append(request)
            fault = self._next.popleft() if self._next else _Fault()
        if fault.delay:
            self._stopping.wait(fault.delay)
        if fault.body is not None:
            kind = "application/json" if fault.status != 200 else "text/html"
            return fault.status, {"Content-Type": kind, **fault.headers}, fault.body
        text = "" if fault.refusal else self.answer(messages)
        usage = _usage(messages, text)
        if request.get("stream"):
            with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
            events = _stream(request, text, fault.refusal, usage if with_usage else None)
            return 200, {"Content-Type": "text/event-stream"}, events
        message = {"role": "assistant", "content": text or None, "refusal": fault.refusal}
        completion = {
            **_envelope(request, "chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(completion).encode()


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
    return status, {"Content-Type": "application/json"}, body.encode()


def _envelope(request: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": str(request.get("model", "")),
    }


def _usage(messages: list[dict[str, Any]], text: str) -> dict[str, int]:
    """Words stand in for tokens: close enough to count, and predictable in tests."""
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
    completion = len(text.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _stream(
    request: dict[str, Any], text: str, refusal: str | None, usage: dict[str, int] | None
) -> bytes:
    """The completion as server-sent events: a few words per chunk, then `[DONE]`."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {**_envelope(request, "chat.completion.chunk"), "choices": [choice]}

    words = text.split(" ")
    pieces = [" ".join(words[i : i + 3]) + " " for i in range(0, len(words), 3)] if text else []
    if pieces:
        pieces[-1] = pieces[-1].removesuffix(" ")
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": piece}) for piece in pieces]
    if refusal:
        chunks.append(chunk({"refusal": refusal}))
    chunks.append(chunk({}, "stop"))
    if usage is not None:
        last = {**_envelope(request, "chat.completion.chunk"), "choices": [], "usage": usage}
        chunks.append(last)
    lines = [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()
