"""Prints every corpus pass rate in pytest's terminal summary, so runs without -s show it."""

from __future__ import annotations

import pytest

from tests.mail.corpus import SCORES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCORES:
        terminalreporter.section("mail corpus scores")
        for score in SCORES:
            terminalreporter.write_line(score.summary())
