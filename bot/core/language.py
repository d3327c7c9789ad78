"""The language a customer wrote in, told only with confidence.

py3langid (a maintained fork of langid.py): its model ships inside the package (no download),
it is deterministic (langdetect is random unless seeded), and it classifies a message in well
under a millisecond. Loading the model takes most of a second, so `warm_up` is called when the
desk is built, never first inside a write transaction.
"""

from __future__ import annotations

from functools import cache

CONFIDENCE = 0.9  # below this the language is unknown, and a `language` condition is not met
MIN_LETTERS = 15  # "ok thanks" is no language at all
LOOKED_AT_CHARS = 2_000


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    _identifier()


def language_of(text: str) -> str | None:
    """The ISO 639-1 code of text's language, or None when it can't be told with confidence."""
    text = text[:LOOKED_AT_CHARS]
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return None
    language, probability = _identifier().classify(text)
    return str(language) if probability >= CONFIDENCE else None
