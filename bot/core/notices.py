"""The kinds of notice the helpdesk gives agents: what happened, recorded as facts.

The core records a notice as its kind plus JSON-safe facts (ids, names, counts, the
customer's own words unescaped) in an outbox row; the views' `notices` module renders each
kind when the row is delivered. This module imports nothing, so views and core can both name
the kinds. The values are stored in outbox rows: never change one.
"""

from __future__ import annotations

from enum import StrEnum


class Notice(StrEnum):
    ASSIGNED = "assigned"
    # Nobody in a pool could take the ticket, or the pool's members couldn't be read.
    POOL_UNAVAILABLE = "pool_unavailable"
    ESCALATED = "escalated"
    ESCALATION_TAKEN = "escalation_taken"
    DE_ESCALATED = "de_escalated"
    CUSTOMER_LINKED = "customer_linked"
    # A chat visitor proved an order in the widget (its number and email address) first.
    ORDER_VERIFIED = "order_verified"
    AUTOMATIC_REPLY = "automatic_reply"
    ACKNOWLEDGED = "acknowledged"
    ACKNOWLEDGEMENT_FAILED = "acknowledgement_failed"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    DELIVERY_FAILED = "delivery_failed"
    SNOOZED = "snoozed"
    SNOOZE_ENDED = "snooze_ended"
    RULE_APPLIED = "rule_applied"
    RULE_PROBLEM = "rule_problem"
    THREAD_MOVED_HERE = "thread_moved_here"
    RULE_MOVE_REFUSED = "rule_move_refused"
    # An agent had the AI server draft a reply: which articles and orders it was given.
    DRAFTED = "drafted"
    # The AI server's summary of the conversation, asked for by an agent.
    SUMMARY = "summary"
    # Rows enqueued before notices carried facts hold the finished line as {"text": ...}.
    TEXT = "text"


# A file refused for its size is recorded (`Attachment.refused`) as "too_large:<the limit in
# bytes>", which the views put in words; other refusals are recorded in words already.
TOO_LARGE = "too_large"


def too_large(limit_bytes: int) -> str:
    return f"{TOO_LARGE}:{limit_bytes}"


class UnknownNotice(ValueError):
    """A notice kind with no renderer for where it is going: a bug, never shown as a default."""
