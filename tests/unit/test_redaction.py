"""What redaction keeps of a secret, and that it finds secrets wherever a text quotes them."""

from __future__ import annotations

import logging

from bot.redaction import Redactor, redact_logs, redact_secret, redact_setting

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def test_a_secret_keeps_a_short_prefix_only():
    assert redact_secret(TOKEN) == "xoxb-12…"
    assert redact_secret("abcdefgh") == "ab…"
    assert redact_secret("abc") == "…"
    assert redact_setting("slack_bot_token", TOKEN) == "xoxb-12…"
    assert redact_setting("HELPDESK_HTTP_HOST", "127.0.0.1") == "127.0.0.1"


def test_urls_keep_everything_but_the_password():
    assert (
        redact_setting("DATABASE_URL", "postgresql://user:pa55word@db.example:5432/helpdesk")
        == "postgresql://user:***@db.example:5432/helpdesk"
    )
    assert redact_setting("DATABASE_URL", "sqlite:///./helpdesk.db") == "sqlite:///./helpdesk.db"
    assert redact_setting("IMAP_URL", "imaps://me@imap.example/INBOX") == (
        "imaps://me@imap.example/INBOX"
    )


def test_known_values_are_scrubbed_wherever_they_are_quoted():
    redactor = Redactor.of_values(
        {
            "slack_bot_token": TOKEN,
            # An unencoded @ in the password: a pattern alone would stop at the first one.
            "OUTBOUND_SMTP_URL": "smtp://me:p@ss-w0rd@mail.example:587",
            "IMAP_URL": "imap://me:s%2Fcret-pw@mail.example:notaport/INBOX",
            "HELPDESK_HTTP_HOST": "127.0.0.1",
        }
    )
    text = redactor.scrub(
        f"refused {TOKEN}; login p@ss-w0rd failed; imap s/cret-pw and s%2Fcret-pw; 127.0.0.1"
    )
    for secret in (TOKEN, "p@ss-w0rd", "s/cret-pw", "s%2Fcret-pw"):
        assert secret not in text
    assert "xoxb-12…" in text and "127.0.0.1" in text


def test_log_records_are_scrubbed_as_they_are_made_whatever_handles_them():
    # A library's own logger with its own handler and no propagation, as uvicorn sets up.
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    library = logging.getLogger("test_redaction.library")
    library.addHandler(handler)
    library.propagate = False
    factory = logging.getLogRecordFactory()
    try:
        redact_logs(Redactor([TOKEN]))
        try:
            raise RuntimeError(f"Slack refused {TOKEN}")
        except RuntimeError:
            library.exception("posting with %s failed", TOKEN)
    finally:
        logging.setLogRecordFactory(factory)
        library.removeHandler(handler)
    [record] = records
    assert record.getMessage() == "posting with xoxb-12… failed"
    formatted = logging.Formatter().format(record)
    assert TOKEN not in formatted and "RuntimeError: Slack refused xoxb-12…" in formatted
