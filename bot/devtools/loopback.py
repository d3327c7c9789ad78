"""What every fake service shares: its HTTP server on loopback, run in a thread."""

from __future__ import annotations

import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class DropConnection(Exception):
    """Raised by `_respond` to close the connection without answering (a fake's fault)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of concurrent clients queue rather than being reset

    def __init__(self, address: tuple[str, int], service: LoopbackService) -> None:
        super().__init__(address, _Handler)
        self.service = service


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, headers, data = self.server.service._respond(
                self.command, self.path, self.headers, body
            )
        except DropConnection:
            self.close_connection = True  # closed with nothing sent: the client sees a cut
            return
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, e.g. killed while its answer was held

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fakes record their calls for tests to read instead."""


class LoopbackService:
    """Start, stop and `with` for a fake that answers HTTP requests with `_respond`.

    Subclasses set `_address` (host, port; port 0 picks a free one)."""

    _address: tuple[str, int]
    _server: _Server | None = None
    _thread: threading.Thread | None = None

    def _respond(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one request; runs on the server's threads."""
        raise NotImplementedError

    def _before_stop(self) -> None:
        """Lets a fake release requests it is holding, so shutdown doesn't wait on them."""

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._server = _Server(self._address, self)
        # A short poll interval keeps stop() fast; serve_forever checks for shutdown this often.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._before_stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def _origin(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
