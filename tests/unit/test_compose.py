"""Outbound replies' headers, and tag normalisation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.tickets import normalize_tag
from bot.mail.compose import MAX_REFERENCES, OutboundReply, compose_reply, reply_subject
from bot.mail.survey import SurveyMail, compose_survey
from tests.unit.test_text import FAST, NASTY


def reply(**overrides) -> OutboundReply:
    values = {
        "support_address": "support@shop.example",
        "support_name": "",
        "customer_address": "jane@customer.example",
        "customer_name": "Jane, the Customer",
        "subject": "Where is my order?",
        "body": "Hi <Jane> & co,\n\nIt ships today.\nBest",
        "in_reply_to": "c2@customer.example",
        "references": ["c1@customer.example", "r1@shop.example", "c2@customer.example"],
        "message_id": "r2@shop.example",
        "date": datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return OutboundReply(**values)


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Where is my order?", "Re: Where is my order?"),
        ("Re: Where is my order?", "Re: Where is my order?"),
        ("RE:shouting", "RE:shouting"),
        ("", "Re: Your message"),
    ],
)
def test_reply_subject(subject, expected):
    assert reply_subject(subject) == expected


def test_headers_thread_into_the_customers_conversation():
    mail = message_from_bytes(compose_reply(reply()).as_bytes(), policy=policy.default)
    assert mail["From"] == "support@shop.example"
    assert mail["To"] == '"Jane, the Customer" <jane@customer.example>'
    assert mail["Subject"] == "Re: Where is my order?"
    assert mail["Message-ID"] == "<r2@shop.example>"
    assert mail["In-Reply-To"] == "<c2@customer.example>"
    assert mail["References"] == "<c1@customer.example> <r1@shop.example> <c2@customer.example>"
    html = mail.get_body(("html",)).get_content()
    assert "Hi &lt;Jane&gt; &amp; co," in html and "It ships today.<br>" in html


def test_references_keep_the_first_and_the_newest():
    chain = [f"m{n}@x.example" for n in range(50)]
    mail = compose_reply(reply(references=chain, in_reply_to=chain[-1]))
    references = mail["References"].split()
    assert len(references) == MAX_REFERENCES
    assert references[0] == "<m0@x.example>" and references[-1] == "<m49@x.example>"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Order Status!", "order-status"),
        ("  REFUND  ", "refund"),
        ("<!channel>", "channel"),
        ("a--b__c", "a-b__c"),
        ("!!!", ""),
        ("x" * 100, "x" * 64),
    ],
)
def test_normalize_tag(raw, expected):
    assert normalize_tag(raw) == expected


# --- nothing stored can make composition raise (bot/core/text.py) ---


@FAST
@given(NASTY, NASTY, NASTY, NASTY, NASTY, st.lists(NASTY, max_size=3))
def test_a_reply_composes_from_whatever_the_database_holds(
    name, address, subject, body, file_name, references
):
    """Rows written before the edge cleaned text can hold anything."""
    mail = compose_reply(
        reply(
            support_name=name,
            customer_address=address,
            customer_name=name,
            subject=subject,
            body=body,
            in_reply_to=address,
            references=references,
            attachments=((file_name, subject, b"data"),),
        )
    )
    mail.as_bytes(policy=policy.SMTP)


@FAST
@given(NASTY, NASTY, NASTY)
def test_a_survey_composes_from_whatever_the_database_holds(name, subject, address):
    mail = compose_survey(
        SurveyMail(
            question=name,
            support_address="support@shop.example",
            customer_address=address,
            customer_name=name,
            customer_first_name=name,
            ticket_number=7,
            subject=subject,
            choices=[("★★★★★", "https://help.example/csat/t?rating=5")],
            links_expire=date(2026, 12, 8),
            in_reply_to=None,
            references=[],
            message_id="s1@shop.example",
            date=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        )
    )
    mail.as_bytes(policy=policy.SMTP)


@pytest.mark.parametrize("address", ["", "@", "<a@", "a@b>", "\r\n"])
def test_a_reply_to_an_address_mail_cannot_reach_still_composes(address):
    mail = compose_reply(reply(customer_address=address, customer_name="Jane"))
    assert "\n" not in mail["To"] and "Jane" in mail["To"]
    assert b"\r\nTo: " in mail.as_bytes(policy=policy.SMTP)


def test_a_name_with_a_line_break_is_one_header_line():
    mail = compose_reply(
        reply(
            customer_name="Jane\r\nBcc: everyone@example.com",
            subject="Hi\r\nBcc: everyone@example.com",
        )
    )
    raw = mail.as_bytes(policy=policy.SMTP)
    assert b"\r\nBcc:" not in raw
    assert mail["To"] == '"Jane Bcc: everyone@example.com" <jane@customer.example>'
    assert mail["Subject"] == "Re: Hi Bcc: everyone@example.com"
