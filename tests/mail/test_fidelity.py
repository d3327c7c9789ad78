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
KNOWN_FAILURES: dict[str, str] = {}


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
    # The list says what fails today: a case that passes (or is gone) leaves it.
    stale = [name for name in known if outcomes.get(name, True)]
    assert not stale, f"KNOWN_FAILURES lists cases of {folder.name} that pass or are gone: {stale}"


def test_every_case_has_its_expected_text() -> None:
    for folder in _classes():
        for case in _inputs(folder):
            assert case.with_name(case.stem + _EXPECTED).exists(), f"{case} has no {_EXPECTED}"
