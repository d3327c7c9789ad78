"""This project's own email-fidelity suite: what the customer newly wrote, class by class.

Each folder of tests/mail/fidelity/ is one failure class of issue 24 (a kind of mail that
reply stripping or MIME decoding used to get wrong). A case is an input and the exact text
the helpdesk must show for it:

- `<name>.txt` is a decoded text body, scored through `visible_reply`;
- `<name>.eml` is a whole message, scored through `parse_email(...).visible_text`;
- `<name>.expected.txt` is the expected visible text, compared after stripping both sides.

The cases are written by hand after real clients' formats (see the folder's README); none is
copied from another project's fixtures. Every case must pass unless it is listed below with
the reason, and each class's score is printed at the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.mail.parse import parse_email
from bot.mail.quotes import visible_reply
from tests.mail.corpus import assert_score, normalized

SUITE = Path(__file__).parent / "fidelity"
_EXPECTED = ".expected.txt"

# case path relative to SUITE -> why it fails today
KNOWN_FAILURES: dict[str, str] = {
    "00-everyday/gift-note-from-to-lines.txt": (
        "typed From:/To: gift-note lines taken for a header block: text lost"
    ),
    "01-reply-header-wordings/apple-pl-wiadomosc-napisana.txt": (
        "class 1: Apple Mail Polish header not recognised"
    ),
    "01-reply-header-wordings/gmail-ar-bidi-marks.txt": (
        "class 1: Arabic Gmail header not recognised"
    ),
    "01-reply-header-wordings/gmail-he-bidi-marks.txt": (
        "class 1: Hebrew Gmail header (bidi marks) not recognised"
    ),
    "01-reply-header-wordings/gmail-uk.txt": (
        'class 1: Ukrainian header ("… пише:") not recognised'
    ),
    "01-reply-header-wordings/gmail-verbless-iso-date.txt": (
        'class 1: verbless "2026/11/3 Name <address>" header not recognised'
    ),
    "01-reply-header-wordings/groupwise.txt": (
        'class 1: GroupWise ">>> Name <address> date >>>" not recognised; history kept'
    ),
    "01-reply-header-wordings/horde-quoting.txt": (
        'class 1: Horde "Quoting Name <address>:" left above the cut'
    ),
    "01-reply-header-wordings/mobile-wrote-no-colon.txt": (
        'class 1: "… wrote" without a colon left above the cut'
    ),
    "01-reply-header-wordings/sent-instead-of-wrote.txt": (
        'class 1: "… <address> sent:" left above the cut'
    ),
    "01-reply-header-wordings/thunderbird-uk-pyshe.txt": (
        'class 1: Ukrainian "… пише:" left above the cut'
    ),
    "01-reply-header-wordings/zendesk-reply-above-line.txt": (
        'class 1: Zendesk "##- Please type your reply above this line -##" not recognised'
    ),
    "03-forward-header-blocks/gmx-freemail-gesendet-block.txt": (
        "class 3: block opened by Gesendet: cut late, its first line left"
    ),
    "03-forward-header-blocks/hotmail-date-first-plain.txt": (
        "class 3: block opened by Date: cut late, Date: and Subject: left"
    ),
    "03-forward-header-blocks/hotmail-html-stop-spelling.eml": (
        "class 3: block opened by Date: cut late, Date: and Subject: left"
    ),
    "03-forward-header-blocks/hotmail-sent-first-es.txt": (
        "class 3: block opened by Enviado: cut late, its first line left"
    ),
    "03-forward-header-blocks/mailcom-sent-first.txt": (
        "class 3: block opened by Sent: cut late, its first line left"
    ),
    "04-wrapped-reply-headers/gmail-de-schrieb-am-um-uhr.txt": (
        'class 4: German "schrieb am …" wrapped before the year left above the cut'
    ),
    "04-wrapped-reply-headers/gmail-de-schrieb-am-wrapped-mid-date.txt": (
        'class 4: German "schrieb am …" wrapped mid-date left above the cut'
    ),
    "04-wrapped-reply-headers/gmail-en-wrote-on-next-line.txt": (
        'class 4: header split at "> wrote:" leaves its first line'
    ),
    "04-wrapped-reply-headers/gmail-hu-wrapped.txt": (
        "class 4: Hungarian header wrapped inside the date left above the cut"
    ),
    "04-wrapped-reply-headers/gmail-pl-wrapped.txt": (
        'class 4: Polish header wrapped before "napisał(a):" left above the cut'
    ),
    "04-wrapped-reply-headers/gmail-ru-wrapped.txt": (
        'class 4: verbless Russian header wrapped at "<" left above the cut'
    ),
    "08-glued-reply-headers/apple-glued-after-period.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/es-glued-crlf.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/fr-glued.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/gmail-de-glued-no-space.txt": (
        "class 8: the valediction the header is glued to is lost"
    ),
    "08-glued-reply-headers/gmail-en-glued.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/gmail-html-only-glued.eml": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/ja-glued.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/ko-glued.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/multi-line-reply-last-line-glued.txt": (
        "class 8: the line the header is glued to is lost"
    ),
    "08-glued-reply-headers/nl-glued.txt": ("class 8: glued header and quote kept"),
    "08-glued-reply-headers/original-message-glued.txt": (
        'class 8: glued "-----Original Message-----" left on the name\'s line'
    ),
    "08-glued-reply-headers/outlook-from-sent-glued.txt": (
        "class 8: glued Outlook header line and history kept"
    ),
    "08-glued-reply-headers/pt-br-glued.txt": ("class 8: glued header and quote kept"),
    "10-dashed-separators/banner-introducing-return-details.txt": (
        "class 10: dashed banner cuts the text below it"
    ),
    "10-dashed-separators/bare-dashes-before-device-details.txt": (
        "class 10: bare --- cuts the device details"
    ),
    "10-dashed-separators/dashed-banner-de.txt": ("class 10: dashed banner cuts the text below it"),
    "10-dashed-separators/dashed-line-then-address.txt": (
        "class 10: dashed line cuts the address below it"
    ),
    "10-dashed-separators/dashed-ps.txt": ("class 10: dashed line cuts the P.S."),
    "10-dashed-separators/dashes-between-two-questions.txt": (
        "class 10: dashed rule cuts the second question"
    ),
    "10-dashed-separators/html-dashed-banner.eml": (
        "class 10: dashed banner cuts the text below it"
    ),
    "10-dashed-separators/long-dashes-order-list-de.txt": (
        "class 10: dashed line cuts the order list below it"
    ),
    "10-dashed-separators/markdown-style-rule-and-list.txt": (
        "class 10: --- rule cuts the last paragraph"
    ),
}


def _classes() -> list[Path]:
    return sorted(path for path in SUITE.iterdir() if path.is_dir())


def _inputs(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix in (".txt", ".eml") and not path.name.endswith(_EXPECTED)
    )


def shown(case: Path) -> str:
    """What the helpdesk shows of the case's input."""
    raw = case.read_bytes()
    if case.suffix == ".eml":
        return parse_email(raw).visible_text
    return visible_reply(raw.decode("utf-8"))


def expected(case: Path) -> str:
    return normalized(case.with_name(case.stem + _EXPECTED).read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", _classes(), ids=lambda folder: folder.name)
def test_fidelity_class(folder: Path) -> None:
    cases = _inputs(folder)
    assert cases, f"{folder.name} has no cases"
    outcomes = {case.name: shown(case).strip() == expected(case).strip() for case in cases}
    known = {
        path.rpartition("/")[2]: reason
        for path, reason in KNOWN_FAILURES.items()
        if path.startswith(folder.name + "/")
    }
    assert_score(
        f"fidelity/{folder.name}",
        outcomes,
        min_passed=len(cases) - len(known),
        known_failures=known,
    )


def test_every_case_has_its_expected_text() -> None:
    for folder in _classes():
        for case in _inputs(folder):
            assert case.with_name(case.stem + _EXPECTED).exists(), f"{case} has no {_EXPECTED}"
