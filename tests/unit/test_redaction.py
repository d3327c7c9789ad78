"""What redaction keeps of a secret, and that it finds secrets wherever a text quotes them."""

from __future__ import annotations

import logging

from bot.redaction import RedactingFilter, Redactor, redact_secret, redact_setting

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


def test_the_log_filter_scrubs_messages_arguments_and_tracebacks():
    handler = logging.Handler()
    handler.addFilter(RedactingFilter(Redactor([TOKEN])))
    try:
        raise RuntimeError(f"Slack refused {TOKEN}")
    except RuntimeError as error:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "posting with %s failed",
            (TOKEN,),
            (type(error), error, None),
        )
    assert handler.filter(record)
    assert record.getMessage() == "posting with xoxb-12… failed"
    assert TOKEN not in record.exc_text and "Slack refused xoxb-12…" in record.exc_text
