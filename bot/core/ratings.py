"""The satisfaction survey's scale, shared by the core (links, answers) and the views (stars).

It imports nothing, so views can use it without depending on the core's internals.
"""

from __future__ import annotations

RATINGS = range(1, 6)
RATING_LABELS = {1: "Very poor", 2: "Poor", 3: "Okay", 4: "Good", 5: "Excellent"}


def rating_label(rating: int) -> str:
    return f"{stars(rating)} {rating} - {RATING_LABELS[rating]}"


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (len(RATINGS) - rating)
