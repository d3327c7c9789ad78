"""Regular expressions from the policy, matched against customers' text without hanging.

A pattern is compiled case-insensitive with the `regex` module, whose matching takes a time
limit (the standard `re` has none, and one bad pattern on one hostile mail would hold a
writer thread for minutes). Text is cut to `MAX_CHARS` before matching. At start-up a pattern
is refused when it does not compile, or when it runs out of time on inputs built to make
backtracking explode (long runs of the characters it mentions, ending in one it doesn't want).
"""

from __future__ import annotations

import regex

MAX_CHARS = 10_000  # of a subject or body; more is not looked at
TIME_LIMIT_SECONDS = 0.1  # per match; a pattern this slow on real text is a pattern to fix
_PROBE_ENDINGS = ("!", "\x00", " ")
_PROBE_UNITS = ("a", "1", " ", "x", "ab", "a1", "a ", ".", "\t", "é")


class PatternTimeout(Exception):
    """A match ran out of time: the condition is treated as not met."""


def compile_pattern(text: str) -> regex.Pattern:
    """The pattern, case-insensitive; ValueError, worded for the policy's author, when it does
    not compile or can backtrack catastrophically."""
    try:
        pattern = regex.compile(text, regex.IGNORECASE | regex.VERSION0)
    except (regex.error, TypeError) as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    for probe in _probes(text):
        try:
            pattern.search(probe, timeout=TIME_LIMIT_SECONDS)
        except TimeoutError:
            raise ValueError(
                "this regular expression can take exponential time (nested repetition such as "
                "(a+)+); rewrite it without a repeated group that can match the same text twice"
            ) from None
    return pattern


def matches(pattern: regex.Pattern, text: str) -> bool:
    """Whether the pattern occurs in (the first MAX_CHARS of) text; PatternTimeout if slow."""
    try:
        return (
            pattern.search(text[:MAX_CHARS], timeout=TIME_LIMIT_SECONDS, concurrent=True)
            is not None
        )
    except TimeoutError:
        raise PatternTimeout(f"the pattern {pattern.pattern!r} took too long") from None


def _probes(text: str) -> list[str]:
    """Adversarial inputs: each unit (and each letter or digit the pattern names) repeated to
    the longest text ever matched, followed by a character that ends the run."""
    named = {c for c in text if c.isalnum()}
    units = list(dict.fromkeys([*_PROBE_UNITS, *sorted(named)]))
    return [
        (unit * (MAX_CHARS // len(unit)))[: MAX_CHARS - 1] + ending
        for unit in units
        for ending in _PROBE_ENDINGS
    ]
