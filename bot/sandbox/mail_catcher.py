"""Where the sandbox's outbound mail goes: a real SMTP server on loopback that keeps it."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import deque
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

# The page shows the latest mail; a sandbox left running keeps no more than this.
KEEP = 200


class MailCatcher:
    """Accepts every message for any recipient and keeps the latest `KEEP`, parsed."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = _free_port(host)
        self._controller = Controller(self, hostname=host, port=self.port)
        self._lock = threading.Lock()
        self._messages: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.received = 0  # ever, including those no longer kept; only grows

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailCatcher:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        """Forgets the mail kept; `received` still counts it, and numbers the next."""
        with self._lock:
            self._messages.clear()

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    async def handle_DATA(self, server, session, envelope) -> str:
        mail = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self._lock:
            self.received += 1
            self._messages.append(_summary(self.received, mail, envelope.rcpt_tos))
        return "250 OK: caught by the sandbox"


def _summary(number: int, mail: EmailMessage, recipients: list[str]) -> dict[str, Any]:
    body = mail.get_body(preferencelist=("plain", "html"))
    return {
        "id": number,
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "from": str(mail["From"] or ""),
        "to": list(recipients),
        "subject": str(mail["Subject"] or ""),
        "message_id": mail["Message-ID"],
        "in_reply_to": mail["In-Reply-To"],
        "references": mail["References"],
        "text": body.get_content() if body is not None else "",
        "attachments": [
            {
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(part.get_payload(decode=True) or b""),
            }
            for part in mail.iter_attachments()
        ],
    }


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
