"""Header fields of a parsed message, decoded without ever raising.

Works on the raw header values so that one malformed header cannot hide the others and
no header costs more than linear time to decode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from bot.mail.decoding import decode_words, one_line, unsurrogate

# RFC 3696: a 64-octet local part, "@", a 255-octet domain. Longer is not an address.
MAX_ADDRESS_LENGTH = 320
_ANGLE_OR_ENCODED_WORD = re.compile(r"[<>]|=\?.*\?=")
_NOT_IN_LOCAL_PART = re.compile(r"[\s@]")
_NOT_IN_DOMAIN = re.compile(r"[\s\"'(),;:\\]")


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    @property
    def normalized(self) -> str:
        """The address for comparisons: mail systems treat it case-insensitively."""
        return self.address.lower()


def raw_values(message: Message, name: str) -> list[str]:
    """Every occurrence of a header, unfolded but otherwise exactly as received."""
    wanted = name.lower()
    return [
        unsurrogate(str(value)).replace("\r", "").replace("\n", "")
        for key, value in message.raw_items()
        if key.lower() == wanted
    ]


def first_value(message: Message, name: str) -> str | None:
    values = raw_values(message, name)
    return values[0] if values else None


def text(message: Message, name: str) -> str:
    """The first occurrence, RFC 2047-decoded, on one line; "" when absent."""
    value = first_value(message, name)
    return one_line(decode_words(value)) if value is not None else ""


def mailboxes(message: Message, name: str, *, every_occurrence: bool = True) -> list[Address]:
    """Every (name, address) pair the header lists, usable or not."""
    values = raw_values(message, name)
    if not every_occurrence:
        values = values[:1]
    try:
        pairs = getaddresses(values)
    except RecursionError:  # the stdlib recurses once per "(" of a comment
        return []
    return [
        Address(name=one_line(decode_words(display)), address=one_line(address))
        for display, address in pairs
        if display or address
    ]


def is_usable(address: str) -> bool:
    """Whether mail could be sent to it: a local part, an "@" and a domain that is a name.

    Angle brackets, an encoded word, an unquoted space or "@" in the local part, or spaces
    and quotes in the domain mean a display name was taken for the address: "garbled", and
    not to be answered.
    """
    local, at, domain = address.rpartition("@")
    quoted = len(local) > 1 and local.startswith('"') and local.endswith('"')
    return (
        bool(local and at and domain)
        and len(address) <= MAX_ADDRESS_LENGTH
        and not _ANGLE_OR_ENCODED_WORD.search(address)
        and (quoted or not _NOT_IN_LOCAL_PART.search(local))
        and not _NOT_IN_DOMAIN.search(domain)
    )


def addresses(message: Message, name: str) -> list[Address]:
    return [mailbox for mailbox in mailboxes(message, name) if is_usable(mailbox.address)]


def date(message: Message) -> datetime | None:
    """The Date header as an aware datetime; one without a zone is taken to be UTC."""
    value = first_value(message, "date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(one_line(value))
    except Exception:  # the stdlib raises TypeError, ValueError or OverflowError on junk
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
