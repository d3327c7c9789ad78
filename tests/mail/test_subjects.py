from __future__ import annotations

import pytest

from bot.mail.subjects import is_forward_subject, normalize_subject, ticket_number_in_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: [#1234] Where is my order?", 1234),
        ("AW: RE: Fwd: Order [#7] and [#8]", 7),
        ("[#0042]", 42),
        ("[# 12] spaced", None),
        ("#12 without brackets", None),
        ("[12] no hash", None),
        ("[#] empty", None),
        ("[#" + "9" * 30 + "]", None),
        ("", None),
    ],
)
def test_ticket_number_in_subject(subject: str, expected: int | None) -> None:
    assert ticket_number_in_subject(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE : TR : Commande", "Commande"),
        ("Re[2]: SV: Vs: WG: hello", "hello"),
        ("回复\uff1a转发\uff1a你好", "你好"),
        ("Re: [#1234] Where is my order?", "Where is my order?"),
        ("[#1234]", "[#1234]"),
        ("Review: the product", "Review: the product"),
        ("Invoice (fwd)", "Invoice"),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


# No time limit asserted: the watchdog fails a hang (ReDoS, quadratic loop); speed is
# for benchmarks.
@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("re: " * 200_000 + "x", "x"),
        ("(fwd)" * 200_000, ""),
        ("[a] re: " * 100_000 + "x", "x"),
        ("[a]" * 200_000, "[a]" * 200_000),  # nothing but tags: they stay
    ],
    ids=["prefixes", "trailing markers", "tags and prefixes", "tags"],
)
def test_normalize_subject_stays_linear(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


def test_forward_subjects() -> None:
    for subject in ("Fwd: Order", "FW: Order", "WG: Bestellung", "TR : Commande", "[shop] Fwd: x"):
        assert is_forward_subject(subject), subject
    for subject in ("Re: Fwd: Order", "Order FW: x", "Forward planning", "AW: WG: x", ""):
        assert not is_forward_subject(subject), subject
