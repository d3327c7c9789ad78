"""Message-ID, In-Reply-To and References: the ids that email threading runs on."""

from __future__ import annotations

import re
import secrets

from bot.mail.decoding import one_line

# RFC 5322 caps a line at 998 characters, so a longer "id" is junk (and would not fit the
# database column that stores it).
MAX_ID_LENGTH = 998
# A thread's References grow by one id per reply; hundreds mean a loop or an attack. The
# first id (the thread root) and the newest ones are the ones threading needs.
MAX_IDS = 100

_BRACKETED = re.compile(r"<([^<>]*)>")
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_TOKEN_PUNCTUATION = ",;\"'()"
# The helpdesk's own Message-IDs (replies, surveys, chat emails) are "helpdesk." and 24 hex
# digits at the support domain, so mail coming back with one is recognised as our own (a
# loop) even when, like a survey, it was never stored. A forged one only loses its sender's
# own mail.
_OWN_PREFIX = "helpdesk."
_OWN_ID = re.compile(r"^helpdesk\.[0-9a-f]{24}@", re.IGNORECASE)


def message_ids(value: str) -> list[str]:
    """The ids a header value lists, in order, without angle brackets or duplicates.

    Bracketed ids win, so old-style "In-Reply-To: your message of <id>" phrases are
    skipped. Without brackets, bare tokens containing "@" are taken, and a lone bare token
    is taken as it is: some mailers really do write `Message-ID: 12345`.
    """
    # A blank line ends a header field: what follows it is body text, not ids.
    value = _BLANK_LINE.split(value, maxsplit=1)[0]
    candidates = _BRACKETED.findall(value)
    if not candidates:
        tokens = [token.strip(_TOKEN_PUNCTUATION) for token in value.split()]
        candidates = [token for token in tokens if "@" in token]
        if not candidates and len(tokens) == 1:
            candidates = tokens
    ids = list(dict.fromkeys(one_line(candidate) for candidate in candidates))
    ids = [found for found in ids if found and len(found) <= MAX_ID_LENGTH]
    if len(ids) > MAX_IDS:
        ids = [ids[0], *ids[-(MAX_IDS - 1) :]]
    return ids


def message_id(value: str | None) -> str | None:
    """The id of a Message-ID header, or None when it holds none."""
    ids = message_ids(value) if value else []
    return ids[0] if ids else None


def new_message_id(support_address: str) -> str:
    """A Message-ID for mail the helpdesk sends, without brackets; see `is_own_message_id`."""
    return f"{_OWN_PREFIX}{secrets.token_hex(12)}@{support_address.rpartition('@')[2]}"


def is_own_message_id(value: str | None) -> bool:
    """Whether the helpdesk made this id (with `new_message_id`)."""
    return bool(value and _OWN_ID.match(value))
