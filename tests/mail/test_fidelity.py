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
    "02-inline-quotes/quote-then-outlook-android-signoff.txt": (
        "class 2: quote followed only by a sign-off kept whole as an inline reply"
    ),
    "02-inline-quotes/quote-then-proton-signoff.txt": (
        "class 2: quote followed only by a sign-off kept whole as an inline reply"
    ),
    "02-inline-quotes/quote-then-samsung-signoff-fr.txt": (
        "class 2: quote followed only by a sign-off kept whole as an inline reply"
    ),
    "05-mobile-signoffs/blackberry-signoff.txt": ("class 5: BlackBerry sign-off not cut"),
    "05-mobile-signoffs/enviado-desde-outlook-es.txt": (
        'class 5: Spanish "Enviado desde Outlook<link>" not cut'
    ),
    "05-mobile-signoffs/envoye-outlook-pour-ios-fr.txt": (
        "class 5: French Outlook for iOS sign-off with link not cut"
    ),
    "05-mobile-signoffs/get-outlook-for-ios.txt": ('class 5: "Get Outlook for iOS<link>" not cut'),
    "05-mobile-signoffs/iphone-he.txt": ("class 5: Hebrew iPhone sign-off not cut"),
    "05-mobile-signoffs/iphone-ja.txt": ("class 5: Japanese iPhone sign-off not cut"),
    "05-mobile-signoffs/iphone-ko.txt": ("class 5: Korean iPhone sign-off not cut"),
    "05-mobile-signoffs/iphone-nl.txt": ("class 5: Dutch iPhone sign-off not cut"),
    "05-mobile-signoffs/iphone-zh.txt": ("class 5: Chinese iPhone sign-off not cut"),
    "05-mobile-signoffs/mailru-android-ru.txt": ("class 5: Mail.ru app sign-off not cut"),
    "05-mobile-signoffs/netease-master-zh.txt": ("class 5: NetEase Mail Master sign-off not cut"),
    "05-mobile-signoffs/outlook-android-de-link.txt": (
        "class 5: German Outlook for Android sign-off with link not cut"
    ),
    "05-mobile-signoffs/outlook-ios-whole-message.eml": (
        'class 5: "Get Outlook for iOS<link>" not cut'
    ),
    "05-mobile-signoffs/outlook-mobile-link.txt": (
        'class 5: "Sent from Outlook Mobile<link>" not cut'
    ),
    "05-mobile-signoffs/outlook-web-sent-from-outlook.txt": (
        'class 5: "Sent from Outlook<link>" not cut'
    ),
    "05-mobile-signoffs/samsung-de-nachricht.txt": ("class 5: German Samsung sign-off not cut"),
    "05-mobile-signoffs/superhuman.txt": ('class 5: "Sent via Superhuman ( link )" not cut'),
    "05-mobile-signoffs/verizon-galaxy.txt": ("class 5: carrier Samsung sign-off not cut"),
    "05-mobile-signoffs/windows-mail-link-mid-line.txt": (
        "class 5: Windows Mail sign-off with a link mid-line not cut"
    ),
    "05-mobile-signoffs/yahoo-android-link.txt": (
        "class 5: Yahoo sign-off with link not cut, run-together quote kept"
    ),
    "05-mobile-signoffs/yahoo-iphone-link.txt": (
        "class 5: Yahoo for iPhone sign-off with link not cut"
    ),
    "06-bottom-posted/apple-mail-de-bottom.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/bottom-post-fr-crlf.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/bottom-post-ja.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/bottom-post-then-iphone-signoff.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/bottom-post-two-paragraphs-and-list.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/gmail-answer-below-quote.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/horde-zitat-von-bottom.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/mutt-bottom-post-with-signature.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/outlook-original-message-bottom.txt": (
        "class 6: header block and quote kept above the answer"
    ),
    "06-bottom-posted/roundcube-bottom-post-with-valediction-crlf.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/ru-bottom-post-with-signature.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/sogo-bottom-post.txt": (
        "class 6: the answer is lost, only the SOGo header shown"
    ),
    "06-bottom-posted/thunderbird-bottom-post.txt": (
        "class 6: quote header and quote kept above the answer"
    ),
    "06-bottom-posted/thunderbird-html-bottom-post.eml": (
        "class 6: quote header and quote kept above the answer"
    ),
    "07-history-on-first-line/apple-html-quote-first.eml": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/blank-lines-then-header.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/crlf-header-first-line.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/indented-attribution-first-line.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/original-message-at-top-fr.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/pasted-outlook-block-at-top.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/quoted-header-block-at-top.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/reply-header-first-line-gmail.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/ru-header-first-line.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/whole-history-pasted-then-text.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/yahoo-header-first-line.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "07-history-on-first-line/zh-header-first-line.txt": (
        "class 7: history from the first line kept above the answer"
    ),
    "11-html-blockquotes/proton-quote-and-signature.eml": (
        "class 5: Proton Mail app sign-off (HTML) not cut"
    ),
    "11-html-blockquotes/unattributed-quote-at-end.eml": (
        "class 11: unattributed blockquote at the end dropped"
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
