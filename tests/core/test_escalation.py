"""Escalation through the policy's tiers, the refusal at the top, and handing a ticket back.

`/escalate`, the modal and the tier channels' posts in Slack: tests/e2e/test_escalation.py.
"""

from __future__ import annotations

import pytest

from bot.core import outbox
from bot.core.escalation import EscalationRefused, current_escalation, de_escalate, take
from bot.storage.models import Priority, TicketStatus
from tests.core.builders import AGENT, email, policy

TIERS = [
    {"name": "Tier 2", "channel": "C0TIER2", "notify": ["U0LEAD", "S0GROUP"]},
    {"name": "Managers", "channel": "C0MGRS"},
]
SLA = {
    "normal": {"first_response": "1h", "resolution": "1d"},
    "urgent": {"first_response": "15m", "resolution": "4h"},
}


@pytest.fixture
def ticket(core):
    core.use(policy(escalation={"tiers": TIERS}, sla=SLA))
    core.receive(email())
    core.outbox()
    return core.ticket(1)


def test_escalating_posts_to_the_first_tier_tells_its_people_and_the_thread(core, ticket):
    escalation = core.escalate(ticket)

    assert (escalation.tier, escalation.tier_name, escalation.channel) == (0, "Tier 2", "C0TIER2")
    assert core.outbox() == [
        (outbox.SLACK_POST_ESCALATION, 1),
        (outbox.DIRECT_MESSAGE, 1),  # the lead; the user group is mentioned in the post
        (outbox.THREAD_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
    ]
    [dm] = core.outbox_rows(outbox.DIRECT_MESSAGE)
    assert (dm.payload["user"], dm.payload["notice"]) == ("U0LEAD", "escalated")
    assert core.events(ticket)[-1] == "escalated"


def test_an_urgent_escalation_raises_the_priority_and_retargets_the_clocks(core, ticket):
    core.escalate(ticket, urgency="urgent")
    assert ticket.priority == Priority.URGENT
    clocks = core.clocks(ticket)
    assert clocks["first_response"].target_seconds == 900
    assert clocks["resolution"].target_seconds == 4 * 3600
    # One refresh of the root for both changes.
    assert [kind for kind, _ in core.outbox()].count(outbox.SLACK_UPDATE_ROOT) == 1


def test_each_escalation_moves_one_tier_up_until_the_top_refuses(core, ticket):
    first = core.escalate(ticket)
    core.outbox()
    second = core.escalate(ticket, "Still stuck")

    assert (second.tier_name, first.resolved_by) == ("Managers", AGENT.user_id)
    assert core.outbox() == [
        (outbox.SLACK_UPDATE_ESCALATION, 1),  # the first tier's post says it moved on
        (outbox.SLACK_POST_ESCALATION, 1),
        (outbox.THREAD_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
    ]
    with pytest.raises(EscalationRefused, match="already with Managers, the top tier"):
        core.escalate(ticket, "Higher!")
    assert current_escalation(core.session, ticket.id).id == second.id
    assert core.outbox() == []


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"reason": "  "}, "Say why"),
        ({"urgency": "asap"}, "Urgency must be one of"),
    ],
)
def test_a_request_without_a_reason_or_with_an_odd_urgency_changes_nothing(
    core, ticket, options, refusal
):
    with pytest.raises(EscalationRefused, match=refusal):
        core.escalate(ticket, **options)
    assert current_escalation(core.session, ticket.id) is None
    assert core.outbox() == []


def test_a_closed_ticket_is_not_escalated(core, ticket):
    core.set_status(ticket, TicketStatus.CLOSED)
    core.outbox()
    with pytest.raises(EscalationRefused, match="#1 is closed"):
        core.escalate(ticket)
    assert core.outbox() == []


def test_the_same_request_twice_escalates_once(core, ticket):
    first = core.escalate(ticket, request_key="view-1")
    assert core.escalate(ticket, request_key="view-1").id == first.id
    assert [kind for kind, _ in core.outbox()].count(outbox.SLACK_POST_ESCALATION) == 1


def test_taking_assigns_and_de_escalating_returns_the_ticket_to_the_first_tier_next_time(
    core, ticket
):
    escalation = core.escalate(ticket)
    core.outbox()
    take(core.session, escalation, "U0LEAD")
    assert ticket.assignee == "U0LEAD" and escalation.taken_by == "U0LEAD"
    assert core.outbox() == [
        (outbox.SLACK_UPDATE_ROOT, 1),
        (outbox.SLACK_UPDATE_ESCALATION, 1),
        (outbox.THREAD_NOTICE, 1),
    ]

    de_escalate(core.session, escalation, "U0LEAD")
    assert escalation.resolved_by == "U0LEAD"
    assert current_escalation(core.session, ticket.id) is None
    assert core.outbox() == [
        (outbox.SLACK_UPDATE_ESCALATION, 1),
        (outbox.THREAD_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
    ]
    with pytest.raises(EscalationRefused, match="already back with support"):
        de_escalate(core.session, escalation, "U0LEAD")
    assert core.escalate(ticket, "Again").tier_name == "Tier 2"
