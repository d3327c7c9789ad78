"""parse_email field by field, and the detection of machine-written mail."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.mail.parse import Address, AttachmentInfo, parse_email
from tests.mail.corpus import CORPORA

REPLY = b"""\
Message-ID: <CAB123=abc@mail.gmail.com>
In-Reply-To: <ticket-42.1@helpdesk.example>
References: <ticket-42.0@helpdesk.example>
 <ticket-42.1@helpdesk.example>
From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <Joerg@Example.COM>
Reply-To: "Smith, Ann" <ann@example.com>, undisclosed-recipients:;
To: Support <support@shop.example>, "broken" <no-domain>
Cc: =?iso-8859-1?q?Fran=E7ois?= <f@example.fr>
Date: Tue, 1 Mar 2011 18:02:00 +0530
Subject: =?utf-8?b?UmU6IFsjNDJdIE1laW5lIEJlc3RlbGx1bmc=?= =?utf-8?q?_ist_sp=C3=A4t?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Wo bleibt sie?=0D=0A
On Mon, 28 Feb 2011 at 10:00, Shop <support@shop.example> wrote:
> Your order shipped.
--alt
Content-Type: text/html; charset=utf-8

<p>Wo bleibt sie?</p><blockquote>Your order shipped.</blockquote>
--alt--
"""


def test_a_typical_reply() -> None:
    parsed = parse_email(REPLY)
    assert parsed.message_id == "CAB123=abc@mail.gmail.com"
    assert parsed.in_reply_to == ["ticket-42.1@helpdesk.example"]
    assert parsed.references == ["ticket-42.0@helpdesk.example", "ticket-42.1@helpdesk.example"]
    assert parsed.subject == "Re: [#42] Meine Bestellung ist spät"
    assert parsed.sender == Address("Jörg Müller", "Joerg@Example.COM")
    assert parsed.sender.normalized == "joerg@example.com"
    assert parsed.reply_to == [Address("Smith, Ann", "ann@example.com")]
    assert parsed.to == [Address("Support", "support@shop.example")]  # "no-domain" dropped
    assert parsed.cc == [Address("François", "f@example.fr")]
    assert parsed.date == datetime(2011, 3, 1, 18, 2, tzinfo=timezone(timedelta(hours=5.5)))
    assert parsed.text.startswith("Wo bleibt sie?\n\nOn Mon")
    assert parsed.html is not None and parsed.html.startswith("<p>Wo bleibt sie?</p>")
    assert parsed.visible_text == "Wo bleibt sie?"
    assert parsed.attachments == []
    assert parsed.auto_submitted_reason is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Message-ID: <a@b>", "a@b"),
        (b"Message-ID:   <a@b> (comment)", "a@b"),
        (b"Message-ID: a@b", "a@b"),
        (b"Message-ID: 12345", "12345"),
        (b"Message-ID: <>", None),
        (b"Message-ID:", None),
        (b"Message-ID: two words", None),
        (b"Message-ID: <" + b"x" * 1000 + b"@b>", None),
    ],
)
def test_message_id(header: bytes, expected: str | None) -> None:
    assert parse_email(header + b"\n\nbody").message_id == expected


def test_reference_lists() -> None:
    raw = (
        b"In-Reply-To: Your message of Mon, 1 Jan 2024 <old@x.org>\n"
        b"References: a@x.org, b@x.org junk\n\nbody"
    )
    parsed = parse_email(raw)
    assert parsed.in_reply_to == ["old@x.org"]
    assert parsed.references == ["a@x.org", "b@x.org"]
    many = b"References: " + b" ".join(b"<%d@x>" % n for n in range(500)) + b"\n\nbody"
    references = parse_email(many).references
    assert references == ["0@x", *(f"{n}@x" for n in range(401, 500))]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"Date: Mon, 1 Jan 2024 10:00:00 +0100", datetime(2024, 1, 1, 9, tzinfo=UTC)),
        (b"Date: Mon, 1 Jan 2024 10:00:00 -0000", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        (b"Date: 1 Jan 2024 10:00 GMT", datetime(2024, 1, 1, 10, tzinfo=UTC)),
        (b"Date: Wed, 15 Dec 2010    59:10 -0500", None),
        (b"Date: whenever", None),
        (b"Date: Mon, 1 Jan 99999 10:00:00 +0100", None),
    ],
)
def test_date(header: bytes, expected: datetime | None) -> None:
    parsed = parse_email(header + b"\n\nbody")
    assert parsed.date == expected
    assert parsed.date is None or parsed.date.tzinfo is not None


def test_subject_is_decoded_unfolded_and_clean() -> None:
    raw = b"Subject: =?utf-8?q?caf=C3?=\n =?utf-8?q?=A9?= ok\n\tnext\x07 line \xc3\xa9\n\nx"
    assert parse_email(raw).subject == "café ok\tnext line é".replace("\t", " ")
    assert parse_email(b"Subject: caf\xe9\n\nx").subject == "café"  # raw latin-1
    assert parse_email(b"From: a@b.c\n\nx").subject == ""


def test_sender_is_the_first_usable_from_address() -> None:
    assert parse_email(b"From: Whomever\n\nx").sender is None
    assert parse_email(b"From: <>\n\nx").sender is None
    assert parse_email(b"\n\nx").sender is None
    parsed = parse_email(b"From: nobody, Ann <ann@x.org>\n\nx")
    assert parsed.sender == Address("Ann", "ann@x.org")


def test_text_prefers_plain_and_falls_back_to_html() -> None:
    html_only = parse_email(b"Content-Type: text/html\n\n<p>Hi <b>there</b></p>")
    assert (html_only.text, html_only.html) == ("Hi there", "<p>Hi <b>there</b></p>")
    empty_plain = parse_email(
        b"Content-Type: multipart/alternative; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b"\n--b\nContent-Type: text/html\n\n<div>Real text</div>\n--b--\n"
    )
    assert empty_plain.text == "Real text"
    nothing = parse_email(b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBO")
    assert (nothing.text, nothing.html, nothing.visible_text) == ("", None, "")


def test_crlf_becomes_lf() -> None:
    parsed = parse_email(b"Subject: x\r\nContent-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n")
    assert parsed.text == "line 1\nline 2\n"


def test_mixed_parts_are_read_in_order() -> None:
    raw = b"""\
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: text/plain

Before the picture.
--m
Content-Type: image/jpeg; name="photo.jpg"
Content-ID: <photo@x>
Content-Transfer-Encoding: base64

/9j/4AAQ
--m
Content-Type: text/plain

After the picture.
--m--
"""
    parsed = parse_email(raw)
    # The line break before a boundary belongs to the boundary (RFC 2046).
    assert parsed.text == "Before the picture.\nAfter the picture."
    assert parsed.attachments == [
        AttachmentInfo(
            filename="photo.jpg",
            content_type="image/jpeg",
            size=6,
            content_id="photo@x",
            inline=True,
        )
    ]


def test_attachments() -> None:
    raw = b"""\
Content-Type: multipart/mixed; boundary=m

--m
Content-Type: text/plain

See attached.
--m
Content-Type: application/pdf
Content-Disposition: attachment; filename="=?utf-8?q?Rechnung_M=C3=A4rz.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--m
Content-Type: text/plain; charset=utf-8
Content-Disposition: attachment; filename*=utf-8''..%2F..%2Fetc%2Fnotes%E2%82%AC.txt

secret
--m
Content-Type: message/rfc822

Subject: forwarded
From: a@b.c

inner text
--m--
"""
    parsed = parse_email(raw)
    assert parsed.text == "See attached."
    assert [(a.filename, a.content_type, a.inline) for a in parsed.attachments] == [
        ("Rechnung März.pdf", "application/pdf", False),
        ("notes€.txt", "text/plain", False),
        (None, "message/rfc822", False),
    ]
    assert [a.size for a in parsed.attachments][:2] == [9, 6]
    assert parsed.attachments[2].size > 0


def test_content_transfer_encoding_with_stray_whitespace_is_decoded() -> None:
    raw = b"Content-Transfer-Encoding: quoted-printable   \r\n\r\ncaf=C3=A9\r\n"
    assert parse_email(raw).text == "café\n"


def test_boundaries_mailers_got_wrong() -> None:
    missing_semicolon = b'Content-Type: multipart/mixed\n\tboundary="b"\n\n--b\n\nhello\n--b--\n'
    assert parse_email(missing_semicolon).text == "hello"
    folded = (
        b'Content-Type: multipart/mixed; boundary="foo\n bar"\n\n--foo bar\n\nhello\n--foo bar--\n'
    )
    assert parse_email(folded).text == "hello"


def test_an_encoded_word_whose_charset_lies_is_seen_through() -> None:
    # Foxmail-style: the word says GB2312, the bytes are UTF-8 ("订单 8842 什么时候发货?").
    utf8 = base64.b64encode("订单 8842 什么时候发货?".encode()).decode()
    parsed = parse_email(f"Subject: =?gb2312?B?{utf8}?=\n\nx".encode())
    assert parsed.subject == "订单 8842 什么时候发货?"


def test_a_boundary_that_matches_no_part_is_found_in_the_body() -> None:
    raw = (
        b'Content-Type: multipart/alternative; boundary="declared"\n\npreamble\n'
        b"--sent\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\naGVsbG8=\n"
        b"--sent\nContent-Type: text/html\n\n<p>hello</p>\n--sent--\n"
    )
    parsed = parse_email(raw)
    assert (parsed.text, parsed.html) == ("hello", "<p>hello</p>")


def test_a_multipart_without_delimiter_lines_reads_the_part_it_starts_with() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="x"\n\n\nContent-Type: text/plain\n'
        b"Content-Transfer-Encoding: base64\n\nSGVsbG8gdGhlcmU=\n"
    )
    assert parse_email(raw).text == "Hello there"


def test_dashed_lines_without_part_headers_are_not_boundaries() -> None:
    # A signature separator, a ruler and a "--name" line, none followed by part headers:
    # the multipart stays unsplit and its text is shown as it came.
    raw = (
        b"Content-Type: multipart/mixed; boundary=zz\n\nhello\n-- \nAnn\n"
        b"--------\n--ann\nSubject: not a part header\n\nbye\n"
    )
    assert parse_email(raw).text.startswith("hello\n-- \nAnn\n--------\n--ann\n")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600) + "__substg1.0_0037001F".encode("utf-16-le")


@pytest.mark.parametrize(
    ("head", "expected_note"),
    [
        (
            b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(OLE + bytes(range(256)) * 8),
            "[The message body was a binary file (Outlook .msg, 2.6 KB) and is kept as an "
            "attachment]",
        ),
        (
            b"Content-Type: application/octet-stream\n\n" + b"%PDF-1.7\n" + bytes(range(256)),
            "[The message body was a binary file (PDF, 265 bytes) and is kept as an attachment]",
        ),
        (
            b"Content-Type: text/plain; charset=utf-8\n\n" + bytes(range(32)) * 4,
            "[The message body was a binary file (binary file, 128 bytes) and is kept as an "
            "attachment]",
        ),
    ],
    ids=["msg as text/plain", "pdf as the only part", "control bytes as text"],
)
def test_a_binary_body_is_a_note_and_an_attachment(head: bytes, expected_note: str) -> None:
    parsed = parse_email(b"From: ann@x.org\nSubject: file\n" + head)
    assert parsed.text == parsed.visible_text == expected_note
    assert len(parsed.attachments) == 1


def test_text_and_wide_charsets_are_not_taken_for_binary() -> None:
    utf16 = "Where is my order? " * 10
    raw = b"Content-Type: text/plain; charset=utf-16\n\n" + utf16.encode("utf-16")
    assert parse_email(raw).text == utf16
    tabs = b"Content-Type: text/plain\n\n" + b"a\tb\tc\r\n\x0c" * 40
    assert parse_email(tabs).attachments == []
    korean = "주문 번호 1042 상품이 도착하지 않았습니다. " * 8
    iso_2022_kr = b"Content-Type: text/plain; charset=iso-2022-kr\n\n" + korean.encode(
        "iso-2022-kr"
    )
    assert parse_email(iso_2022_kr).text == korean


def test_a_file_beside_the_text_gets_no_note() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
        b"See the invoice.\n--b\nContent-Type: application/pdf; name=i.pdf\n\n%PDF-1.4 x\n--b--\n"
    )
    assert parse_email(raw).text == "See the invoice."


def _headers(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n\nI am away until Monday.\n").encode()


AUTOMATIC = {
    "auto-replied": _headers("From: ann@x.org", "Auto-Submitted: auto-replied"),
    "auto-generated": _headers("From: ann@x.org", "Auto-Submitted: auto-generated; owner=x"),
    "precedence bulk": _headers("From: news@x.org", "Precedence: bulk", "List-Unsubscribe: <u>"),
    "precedence junk": _headers("From: ann@x.org", "Precedence: junk"),
    "precedence auto_reply": _headers("From: ann@x.org", "Precedence: auto_reply"),
    "x-autoreply": _headers("From: ann@x.org", "X-Autoreply: yes"),
    "x-autorespond": _headers("From: ann@x.org", "X-Autorespond: vacation"),
    "mailer-daemon": _headers("From: Mail Delivery System <MAILER-DAEMON@mx.example>"),
    "local mailer-daemon": _headers("From: MAILER-DAEMON (Mail Delivery System)"),
    "postmaster": _headers("From: postmaster@x.org"),
    "null return path": _headers("Return-Path: <>", "From: ann@x.org"),
    "delivery report": (
        b"From: ann@x.org\nContent-Type: multipart/report; report-type=delivery-status; "
        b"boundary=r\n\n--r\nContent-Type: text/plain\n\nfailed\n--r\n"
        b"Content-Type: message/delivery-status\n\nStatus: 5.0.0\n--r--\n"
    ),
}
HUMAN = {
    "plain mail": _headers("From: ann@x.org", "Subject: refund"),
    # Outlook and Exchange stamp this on ordinary mail: it asks others not to auto-reply.
    "outlook": _headers(
        "From: Ann <ann@corp.example>",
        "X-Auto-Response-Suppress: All",
        "X-MS-Has-Attach: ",
        "X-MS-Exchange-Organization-AuthAs: Internal",
        "Thread-Topic: refund",
    ),
    "outlook oof suppress": _headers(
        "From: ann@x.org", "X-Auto-Response-Suppress: DR, OOF, AutoReply"
    ),
    "auto-submitted no": _headers("From: ann@x.org", "Auto-Submitted: no"),
    "x-autoreply no": _headers("From: ann@x.org", "X-Autoreply: no"),
    # A support address run as a Google Group relays every customer with these headers.
    "google group": _headers(
        "From: ann@x.org",
        "Precedence: list",
        "Mailing-list: list support@shop.example; contact support+owners@shop.example",
        "List-ID: <support.shop.example>",
        "List-Unsubscribe: <mailto:googlegroups-manage+1+unsubscribe@googlegroups.com>",
    ),
    "newsletter without precedence": _headers("From: news@x.org", "List-Unsubscribe: <u>"),
    "postmaster in the name only": _headers("From: The Postmaster <ann@x.org>"),
}


@pytest.mark.parametrize("raw", AUTOMATIC.values(), ids=AUTOMATIC.keys())
def test_machine_written_mail_is_recognised(raw: bytes) -> None:
    reason = parse_email(raw).auto_submitted_reason
    assert reason and len(reason) < 80


@pytest.mark.parametrize("raw", HUMAN.values(), ids=HUMAN.keys())
def test_mail_from_people_is_not_flagged(raw: bytes) -> None:
    assert parse_email(raw).auto_submitted_reason is None


def test_reason_texts() -> None:
    assert parse_email(AUTOMATIC["auto-replied"]).auto_submitted_reason == (
        "Auto-Submitted: auto-replied"
    )
    assert parse_email(AUTOMATIC["precedence bulk"]).auto_submitted_reason == "Precedence: bulk"
    assert parse_email(AUTOMATIC["delivery report"]).auto_submitted_reason == (
        "multipart/report (delivery-status)"
    )


def test_real_bounces_are_recognised() -> None:
    reports = CORPORA / "imap_tools" / "tests" / "messages" / "multipart_report_emails"
    bounces = sorted(reports.glob("*.eml"))
    assert bounces
    for path in bounces:
        assert parse_email(path.read_bytes()).auto_submitted_reason, path.name


def test_html_only_replies_are_stripped_too() -> None:
    gmail = (
        b"Content-Type: text/html; charset=utf-8\n\n"
        b'<div dir="ltr">Thanks, that fixed it!</div><br><div class="gmail_quote">'
        b'<div class="gmail_attr">On Mon, 1 Jan 2024 at 10:00, Shop &lt;help@shop.example&gt; '
        b'wrote:<br></div><blockquote class="gmail_quote">Try again?</blockquote></div>'
    )
    assert parse_email(gmail).visible_text == "Thanks, that fixed it!"
    outlook = (
        b"Content-Type: text/html; charset=utf-8\n\n"
        b"<p>Yes please.</p><hr><div id='divRplyFwdMsg'><b>From:</b> Shop &lt;help@shop.example"
        b"&gt;<br><b>Sent:</b> Monday, 1 January 2024 10:00<br><b>To:</b> Ann<br>"
        b"<b>Subject:</b> Refund?</div><p>Shall we refund?</p>"
    )
    assert parse_email(outlook).visible_text == "Yes please."
