"""Stand-in addresses: for chat visitors who gave none, for Slack users whose tickets are
answered in Slack, and for customers whose data was erased."""

from __future__ import annotations

# Reserved by RFC 2606: mail to it can never be delivered anywhere.
ANONYMOUS_DOMAIN = "visitors.invalid"
ERASED_DOMAIN = "erased.invalid"
SLACK_DOMAIN = "slack.invalid"
STAND_IN_DOMAINS = tuple("@" + domain for domain in (ANONYMOUS_DOMAIN, ERASED_DOMAIN, SLACK_DOMAIN))


def anonymous_address(conversation_id: str) -> str:
    return f"visitor-{conversation_id.lower()}@{ANONYMOUS_DOMAIN}"


def slack_user_address(user_id: str) -> str:
    """A Slack user as a customer (a teammate's request, a Slack Connect guest): answered in
    Slack, never by email."""
    return f"slack-{user_id.lower()}@{SLACK_DOMAIN}"


def erased_address(customer_id: int) -> str:
    """Unique per customer row, so it can't collide with a real or another erased address."""
    return f"erased-{customer_id}@{ERASED_DOMAIN}"


def reachable(address: str) -> str | None:
    """The address, or None when it stands in for a visitor who gave none or was erased."""
    return address if is_reachable(address) else None


def is_reachable(address: str) -> bool:
    """False for a stand-in address: a visitor who gave none, a Slack user, or an erased
    customer."""
    return not address.endswith(STAND_IN_DOMAINS)
