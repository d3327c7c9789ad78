"""Chat visitors who gave no email address still need a customer row: a stand-in address."""

from __future__ import annotations

# Reserved by RFC 2606: mail to it can never be delivered anywhere.
ANONYMOUS_DOMAIN = "visitors.invalid"


def anonymous_address(conversation_id: str) -> str:
    return f"visitor-{conversation_id.lower()}@{ANONYMOUS_DOMAIN}"


def reachable(address: str) -> str | None:
    """The address, or None when it stands in for a visitor who gave none."""
    return address if is_reachable(address) else None


def is_reachable(address: str) -> bool:
    """False for the stand-in address of a visitor who gave none."""
    return not address.endswith("@" + ANONYMOUS_DOMAIN)
