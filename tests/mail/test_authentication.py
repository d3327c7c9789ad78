"""Authentication-Results (RFC 8601): the syntax, and which headers are trusted."""

from __future__ import annotations

import pytest

from bot.mail.authentication import parse_authentication_results, unverified_reason
from bot.mail.parse import parse_email

GMAIL = (
    "mx.google.com;\r\n       dkim=pass header.i=@cust.example header.s=s1 header.b=Ab+c/d;\r\n"
    "       spf=pass (google.com: domain of ann@cust.example designates 192.0.2.1 as "
    "permitted sender) smtp.mailfrom=ann@cust.example;\r\n"
    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=cust.example"
)


def test_a_real_header_is_read_method_by_method():
    parsed = parse_authentication_results(" ".join(GMAIL.split()))
    assert parsed.authserv_id == "mx.google.com"
    assert parsed.results == (("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass"))


@pytest.mark.parametrize(
    ("value", "authserv_id", "results"),
    [
        # RFC 8601 appendix B examples
        ("example.org 1; none", "example.org", ()),
        ("example.com; spf=pass smtp.mailfrom=example.net", "example.com", (("spf", "pass"),)),
        ("example.com; sender-id=fail header.from=example.com; dkim=pass (good signature) "
         "header.d=example.com", "example.com", (("sender-id", "fail"), ("dkim", "pass"))),
        # Case, spaces around "=" and "/version", comments anywhere, nested ones included.
        ("MX.Example.ORG; DMARC = FAIL; Spf/1=SoftFail", "mx.example.org",
         (("dmarc", "fail"), ("spf", "softfail"))),
        ("(the server (nested) ; with ; semicolons) mx.example.org (c); (x) dkim (y) = (z) none",
         "mx.example.org", (("dkim", "none"),)),
        # A ";" inside a quoted string or a comment does not start a result.
        ('mx.example.org; dkim=pass header.b="a;dmarc=fail"; spf=fail', "mx.example.org",
         (("dkim", "pass"), ("spf", "fail"))),
        ('"quoted.example"; dmarc=fail', "quoted.example", (("dmarc", "fail"),)),
        # Junk after the results is ignored, not a crash.
        ("mx.example.org; =fail; dmarc; ; dkim=", "mx.example.org", ()),
    ],
)  # fmt: skip
def test_the_syntax(value, authserv_id, results):
    parsed = parse_authentication_results(value)
    assert (parsed.authserv_id, parsed.results) == (authserv_id, results)


@pytest.mark.parametrize("value", ["", "   ", "(only a comment)", "; dmarc=fail"])
def test_no_authserv_id_is_no_header(value):
    assert parse_authentication_results(value) is None


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        (["mx.example.org; dmarc=fail header.from=cust.example"], "dmarc=fail"),
        (["mx.example.org; spf=fail; dkim=fail"], "spf=fail, dkim=fail"),
        (["mx.example.org; spf=fail smtp.mailfrom=cust.example"], "spf=fail, dkim=none"),
        (["mx.example.org; spf=fail; dkim=neutral; dkim=fail"], "spf=fail, dkim=neutral"),
        # One passing signature is enough when SPF fails (forwarded mail breaks SPF).
        (["mx.example.org; spf=fail; dkim=fail; dkim=pass"], None),
        (["mx.example.org; spf=softfail; dkim=none"], None),
        (["mx.example.org; dmarc=pass; spf=pass; dkim=pass"], None),
        (["mx.example.org; none"], None),
        ([], None),
        # The topmost header is the receiving server's; a forged pass below doesn't count...
        (["mx.example.org; dmarc=fail", "mx.example.org; dmarc=pass"], "dmarc=fail"),
        # ...nor does a forged fail below a pass (the sender only hurts itself, but still).
        (["mx.example.org; dmarc=pass", "evil.example; dmarc=fail"], None),
        # An unreadable topmost header isn't replaced by the next one.
        (["; dmarc=pass", "mx.example.org; dmarc=fail"], None),
    ],
)
def test_only_the_topmost_header_is_trusted_without_a_policy(values, reason):
    assert unverified_reason(values, None) == reason


def test_with_an_authserv_id_only_its_headers_count():
    values = [
        "other-hop.example; dmarc=pass",
        "MX.Example.org; spf=fail",
        "mx.example.org; dkim=fail",
        "evil.example; dkim=pass; dmarc=pass",  # forged: another authserv-id
    ]
    assert unverified_reason(values, "mx.example.org") == "spf=fail, dkim=fail"
    assert unverified_reason(values, "other-hop.example") is None
    assert unverified_reason(["evil.example; dmarc=fail"], "mx.example.org") is None


def test_parsed_mail_keeps_every_header_topmost_first():
    raw = (
        f"Authentication-Results: {GMAIL}\r\nAuthentication-Results: evil.example; dmarc=fail\r\n"
        "From: Ann <ann@cust.example>\r\nSubject: x\r\n\r\nbody\r\n"
    ).encode()
    values = parse_email(raw).authentication_results
    assert len(values) == 2 and values[0].startswith("mx.google.com;")
    assert unverified_reason(values, None) is None
    assert unverified_reason(values, "evil.example") == "dmarc=fail"
