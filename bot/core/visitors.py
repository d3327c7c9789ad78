"""Stand-in addresses: for chat visitors who gave none, and for customers whose data was erased."""

from __future__ import annotations

# Reserved by RFC 2606: mail to it can never be delivered anywhere.
ANONYMOUS_DOMAIN = "visitors.invalid"
ERASED_DOMAIN = "erased.invalid"


def anonymous_address(conversation_id: str) -> str:
    return f"visitor-{conversation_id.lower()}@{ANONYMOUS_DOMAIN}"


def erased_address(customer_id: int) -> str:
    """Unique per customer row, so it can't collide with a real or another erased address."""
    return f"erased-{customer_id}@{ERASED_DOMAIN}"


def reachable(address: str) -> str | None:
    """The address, or None when it stands in for a visitor who gave none or was erased."""
    return address if is_reachable(address) else None


def is_reachable(address: str) -> bool:
    """False for a stand-in address: a visitor who gave none, or an erased customer."""
    return not address.endswith(("@" + ANONYMOUS_DOMAIN, "@" + ERASED_DOMAIN))
