"""Log lines for people (the default) or for log collectors (`HELPDESK_LOG_FORMAT=json`).

Every logger ends at the root's one handler: uvicorn's are told to propagate (see
`bot/app.py`) and aiosmtpd's (`mail.log`) always do, so one format covers the whole process.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.redaction import Redactor, redact_logs

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Every SMTP connection and scheduled run would otherwise log a few lines at INFO, and
# serve's migration at start one per schema version (errors still show).
CHATTY_LOGGERS = ("mail.log", "apscheduler", "alembic")
# What every record carries; anything else on a record came as `extra=` and becomes a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: time (ISO 8601, UTC), level, logger, message,
    the traceback as `exception` when there is one, and the record's extra fields."""

    def __init__(self, redactor: Redactor | None = None):
        super().__init__()
        self._redactor = redactor or Redactor(())

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redactor.scrub(record.getMessage()),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = self._redactor.scrub(record.exc_text)
        if record.stack_info:
            entry["stack"] = self._redactor.scrub(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = self._scrubbed(value)
        # ASCII only: a U+2028 in a customer's name must not split the line for a reader.
        return json.dumps(entry, default=str)

    def _scrubbed(self, value: Any) -> Any:
        """Extra fields are set on the record after it is made, so the record factory of
        `redact_logs` never saw them."""
        if isinstance(value, str):
            return self._redactor.scrub(value)
        if isinstance(value, Mapping):
            return {str(k): self._scrubbed(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._scrubbed(v) for v in value]
        if value is None or isinstance(value, bool | int | float):
            return value
        return self._redactor.scrub(str(value))


def configure_logging(level: str, log_format: str, redactor: Redactor) -> None:
    """Sets up `helpdesk serve`'s logs: one handler on stderr, in the chosen format, every
    record scrubbed of secrets, and warnings and uncaught exceptions logged like the rest."""
    handler = logging.StreamHandler()
    json_lines = log_format == "json"
    handler.setFormatter(JsonFormatter(redactor) if json_lines else logging.Formatter(HUMAN_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    redact_logs(redactor)
    # Python's own printing of these is multi-line and unscrubbed.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def writes_json() -> bool:
    """Whether the root logger writes JSON lines, so that other output should be log lines."""
    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)


def _log_uncaught(exc_type, exc_value, traceback) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc_value, traceback)
        return
    logging.getLogger("bot").critical(
        "uncaught exception", exc_info=(exc_type, exc_value, traceback)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return  # as Python's own hook: a thread may end itself that way
    name = args.thread.name if args.thread else "?"
    logging.getLogger("bot").critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )
