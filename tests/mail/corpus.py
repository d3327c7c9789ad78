"""Plumbing shared by the corpus-scored tests: where the corpora live and how scores report.

The corpora are real material from other projects (see shared/corpora/README.md). They are
read in place, never copied into this repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"

_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


@dataclass
class Score:
    corpus: str
    passed: int
    total: int
    failing: list[str]
    unscored: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        line = f"{self.corpus}: {self.passed}/{self.total} passed"
        if self.failing:
            line += f"; failing: {', '.join(self.failing)}"
        if self.unscored:
            line += f"; unscored: {', '.join(self.unscored)}"
        return line


# Filled by the corpus tests, printed by conftest.py at the end of the run (even without -s).
SCORES: list[Score] = []


def assert_score(
    corpus: str,
    outcomes: dict[str, bool],
    *,
    min_passed: int,
    known_failures: dict[str, str],
    unscored: dict[str, str] | None = None,
) -> None:
    """Records and prints the pass rate; fails below the bar or on any unexpected failure."""
    failing = sorted(name for name, passed in outcomes.items() if not passed)
    score = Score(corpus, len(outcomes) - len(failing), len(outcomes), failing, unscored or {})
    SCORES.append(score)
    print(score.summary())
    unexpected = [name for name in failing if name not in known_failures]
    assert score.passed >= min_passed and not unexpected, (
        f"{score.summary()} (bar {min_passed}); unexpected failures: {unexpected}"
    )


def normalized(text: str) -> str:
    """A body as the parser promises to deliver it: \\n line ends, no control characters
    but tab and newline. Applied to expected values before comparing."""
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", text))
