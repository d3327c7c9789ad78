"""Outside text cleaned at the edge: whatever comes in, what is kept fits every output."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.utils import formataddr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import text
from bot.views.text import escape_mrkdwn

# Every code point, lone surrogates and controls included, and the usual suspects often.
NASTY = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF),
        st.sampled_from(
            '\x00\r\n\t\x0b\x0c\x1c\x85\u2028\u2029\x7f\x9b\ud800\udfff\u202e\u2066\u200f <>&:;"'
        ),
    ),
    max_size=300,
)
# Hypothesis's usual hundred examples a run: the runs' examples differ, so CI keeps searching
# (three hundred cost the suite about ten seconds of CPU for the same properties).
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fits_a_header(value: str) -> None:
    mail = EmailMessage()
    mail["Subject"] = value
    mail["To"] = formataddr((value, "jane@customer.example"))
    mail.set_content("body")
    mail.as_bytes(policy=policy.SMTP)
    mail.as_bytes()


def fits_a_body(value: str) -> None:
    mail = EmailMessage()
    mail["Subject"] = "s"
    mail.set_content(value)
    mail.as_bytes(policy=policy.SMTP)


def fits_slack(value: str) -> None:
    json.dumps({"text": escape_mrkdwn(value)}, ensure_ascii=False).encode("utf-8")


def storable(value: str) -> bool:
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


@FAST
@given(NASTY)
def test_one_line_fields_fit_headers_and_slack(raw):
    for cleaned in (text.name(raw), text.subject(raw), text.single_line(raw, 100)):
        assert storable(cleaned)
        assert not any(c < " " or "\x7f" <= c <= "\x9f" for c in cleaned)
        assert len(cleaned.splitlines()) <= 1 and cleaned == cleaned.strip()
        assert "  " not in cleaned
        fits_a_header(cleaned)
        fits_slack(cleaned)
    assert len(text.single_line(raw, 100)) <= 100


@FAST
@given(NASTY)
def test_names_carry_no_bidirectional_controls(raw):
    cleaned = text.name(raw)
    assert not any("\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069" for c in cleaned)
    assert len(cleaned) <= text.NAME_LIMIT


@FAST
@given(NASTY)
def test_bodies_fit_email_and_slack(raw):
    cleaned = text.multi_line(raw)
    assert storable(cleaned)
    assert "\r" not in cleaned
    assert all(c in "\t\n" for c in cleaned if c < " " or "\x7f" <= c <= "\x9f")
    fits_a_body(cleaned)
    fits_slack(cleaned)


@FAST
@given(NASTY)
def test_cleaning_twice_changes_nothing(raw):
    for clean in (text.name, text.subject, text.multi_line, text.address):
        assert clean(clean(raw)) == clean(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jane\r\nBcc: all@example.com", "Jane Bcc: all@example.com"),
        ("  Jane \t\t Doe\x00 ", "Jane Doe"),
        ("Jane\x1b[31m", "Jane[31m"),
        ("Jane\x85Doe", "Jane Doe"),
        ("Jane\ud800", "Jane\ufffd"),
        ("\ud83d\ude00 Jane", "\U0001f600 Jane"),  # a pair, as surrogatepass decoding leaves it
        ("\u202eelgoog\u202c", "elgoog"),
        ("admin\u2066\u2069", "admin"),
        ("\u200fJane\u200e", "Jane"),  # marks in a name without right-to-left letters
        ("\u05d3\u05e0\u05d4 \u200f2", "\u05d3\u05e0\u05d4 \u200f2"),  # Hebrew keeps its mark
        ("x" * 500, "x" * text.NAME_LIMIT),
    ],
)
def test_names(raw, expected):
    assert text.name(raw) == expected


def test_bodies_keep_their_lines_and_tabs():
    raw = "Hi\r\nthere\rtab\there\x00\x07\x9b\u2028end\ud800"
    assert text.multi_line(raw) == "Hi\nthere\ntab\there\nend\ufffd"


def test_addresses_lose_controls():
    assert text.address(" Jane@Customer.example\r\n") == "Jane@Customer.example"
    assert text.address("jane@\u202ex.example\x00") == "jane@x.example"
