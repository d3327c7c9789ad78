"""Goodwill discount codes: made up readable (SORRY-7KQ2M), and what one may look like.

Readable means an agent can read it out or a customer type it from a screenshot: no 0/O,
1/I/L, no lower case.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "SORRY-"
RANDOM_LENGTH = 5  # 31**5, about 29 million: a clash is rare, and Shopify refuses one anyway
VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{2,63}")
VALID_HINT = "3 to 64 letters, digits, - or _, starting with a letter or digit."


def new_code() -> str:
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def is_valid(code: str) -> bool:
    return bool(VALID.fullmatch(code))
