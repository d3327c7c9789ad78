"""Delivery status notifications from the corpora: which message bounced, and why."""

from __future__ import annotations

import pytest

from bot.mail.parse import parse_email

REPORTS = "imap_tools/tests/messages/multipart_report_emails"


@pytest.mark.parametrize(
    ("name", "original", "status", "reason"),
    [
        ("report_530.eml", "200712232303.lBNN3jDq002941@mail12.rrrr.com.au", "5.3.0",
         "553 5.3.0 <edwin@zzzzzzz.com>... Unknown E-Mail Address"),
        ("multi_address_bounce1.eml", "118707422.15521266992174819.JavaMail.root@lvmail01",
         "5.1.1", "550-5.1.1 The email account that you tried to reach does not exist."),
        ("multipart_report_multiple_status.eml", "4c2a146147ac8_61ff157c4ec1652df@s.h.c.mail",
         "5.3.0", "status 5.3.0"),
    ],
)  # fmt: skip
def test_a_bounce_names_the_message_and_the_reason(corpora, name, original, status, reason):
    bounce = parse_email((corpora / REPORTS / name).read_bytes()).bounce
    assert bounce.original_message_id == original
    assert bounce.status == status
    assert bounce.reason.startswith(reason)


def test_a_delay_report_is_no_bounce(corpora):
    assert parse_email((corpora / REPORTS / "report_422.eml").read_bytes()).bounce is None


def test_ordinary_and_broken_mail_is_no_bounce():
    assert parse_email(b"From: a@b.example\r\nSubject: hi\r\n\r\nhello").bounce is None
    broken = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\n\xff\xfe garbage\r\n--x--"
    )
    assert parse_email(broken).bounce is None
