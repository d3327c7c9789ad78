"""The JSON log formatter: one parseable line per record, with its fields, never a secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.monitoring.logs import JsonFormatter
from bot.redaction import Redactor

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def record(message: str, *args, exc_info=None, **extra) -> logging.LogRecord:
    made = logging.getLogger("bot.delivery.worker").makeRecord(
        "bot.delivery.worker", logging.WARNING, __file__, 1, message, args, exc_info, extra=extra
    )
    made.created = datetime(2026, 12, 3, 4, 5, 6, 789000, tzinfo=UTC).timestamp()
    return made


def formatted(made: logging.LogRecord, redactor: Redactor | None = None) -> dict:
    line = JsonFormatter(redactor).format(made)
    assert "\n" not in line and line.isascii()
    return json.loads(line)


def test_a_record_is_one_json_object_with_its_fields():
    assert formatted(record("row %s not delivered", 12)) == {
        "time": "2026-12-03T04:05:06.789Z",
        "level": "WARNING",
        "logger": "bot.delivery.worker",
        "message": "row 12 not delivered",
    }


def test_the_traceback_is_a_field_of_the_same_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        entry = formatted(record("could not store mail", exc_info=sys.exc_info()))
    assert entry["message"] == "could not store mail"
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert entry["exception"].endswith("ValueError: bad\nvalue")


def test_extra_fields_are_kept_and_cannot_replace_the_standard_ones():
    entry = formatted(
        record("sent", outbox_id=7, kinds=("slack", "email"), at=datetime(2026, 1, 2), level="x")
    )
    assert entry["outbox_id"] == 7
    assert entry["kinds"] == ["slack", "email"]
    assert entry["at"] == "2026-01-02 00:00:00"
    assert entry["level"] == "WARNING"


def test_secrets_are_scrubbed_from_message_traceback_and_extra_fields():
    redactor = Redactor.of_values({"SLACK_BOT_TOKEN": TOKEN})
    try:
        raise RuntimeError(f"refused {TOKEN}")
    except RuntimeError:
        made = record(
            "token %s",
            TOKEN,
            exc_info=sys.exc_info(),
            headers={"Authorization": f"Bearer {TOKEN}"},
            proxy="http://me:pa55word@proxy.example:3128",
        )
    line = JsonFormatter(redactor).format(made)
    assert TOKEN[:12] not in line and "pa55word" not in line
    entry = json.loads(line)
    assert entry["message"] == "token xoxb-12…"
    assert entry["exception"].endswith("RuntimeError: refused xoxb-12…")
    assert entry["headers"] == {"Authorization": "Bearer xoxb-12…"}
    assert entry["proxy"] == "http://me:***@proxy.example:3128"


def test_a_line_separator_in_a_message_does_not_split_the_line():
    entry = formatted(record("name: Ann\u2028Lee\x85"))
    assert entry["message"] == "name: Ann\u2028Lee\x85"
