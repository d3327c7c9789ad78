"""Shop actions' state machine: limits, approvals, expiry, and exactly-once requests."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import ActionLimits, ConfigError, Policy, ShopifyPolicy, load_policy
from bot.core import metrics
from bot.core import outbox as kinds
from bot.core import shop_actions as actions
from bot.core.metrics import Period
from bot.core.shop_actions import (
    ActionKind,
    ActionRefused,
    ActionRequest,
    ActionState,
    limits_for,
    over_limits,
)
from bot.exports import ticket_rows
from bot.storage.models import ShopAction, utcnow
from bot.views.digest import digest_blocks, shop_text
from tests.core.builders import ON_BOTH_DATABASES, email, policy

AGENT, OTHER, LEAD, LEAD2 = "U0AGENT1", "U0AGENT2", "U0LEAD", "U0LEAD2"
ORDER = "gid://shopify/Order/1001"


def shop_policy(**shopify) -> Policy:
    return policy(
        shopify={
            "approvers": [LEAD, LEAD2],
            "limits": {
                AGENT: {"refund_max": 100, "refund_daily_max": 150},
                "S0SENIORS": {"refund_max": 500},
                "default": {"refund_max": 20, "actions": ["refund", "discount"]},
            },
            **shopify,
        }
    )


def refund(ticket_id: int, amount: str, key: str = "V1", **fields) -> ActionRequest:
    values = {
        "ticket_id": ticket_id,
        "kind": ActionKind.REFUND,
        "requested_by": AGENT,
        "request_key": key,
        "order_id": ORDER,
        "order_name": "#1001",
        "params": {"lines": [], "shipping": True, "restock": False},
        "amount": Decimal(amount),
        "currency": "EUR",
        **fields,
    }
    return ActionRequest(**values)


@pytest.fixture
def ticket(core):
    return core.ticket(core.receive(email()).ticket_number)


# ---- limits, pure --------------------------------------------------------------------------


def test_the_agents_own_limits_come_first_then_their_group_then_default():
    rules = shop_policy().shopify
    assert limits_for(rules, AGENT, {"S0SENIORS"}).refund_max == 100
    assert limits_for(rules, OTHER, {"S0SENIORS"}).refund_max == 500
    assert limits_for(rules, OTHER, set()).refund_max == 20
    assert limits_for(ShopifyPolicy(), OTHER, set()) is None


def test_over_limits_names_each_reason():
    limits = ActionLimits(refund_max=Decimal(100), refund_daily_max=Decimal(150))
    assert over_limits(limits, ActionKind.REFUND, Decimal("100"), Decimal(50)) == ()
    assert over_limits(limits, ActionKind.REFUND, Decimal("100.01"), Decimal(0)) == (
        "100.01 is over your limit of 100 per refund",
    )
    assert over_limits(limits, ActionKind.REFUND, Decimal("60"), Decimal(100)) == (
        "160 refunded today would be over your daily limit of 150",
    )
    only_refunds = ActionLimits(actions=["refund"])
    assert over_limits(only_refunds, ActionKind.CANCEL, None, Decimal(0)) == (
        "Cancel order is not among the actions you may take",
    )
    assert over_limits(None, ActionKind.REFUND, Decimal("1e9"), Decimal(0)) == ()


def test_limits_without_approvers_are_refused_at_start_up():
    with pytest.raises(ValueError, match=r"shopify\.approvers is empty"):
        Policy.model_validate({"shopify": {"limits": {"default": {"refund_max": 1}}}})


# ---- requesting ----------------------------------------------------------------------------


def test_within_limits_is_queued_with_its_outbox_row(core, ticket):
    done = actions.request_action(core.session, shop_policy(), refund(ticket.id, "40"))
    core.session.commit()
    assert done.new and done.action.state == ActionState.QUEUED
    assert done.action.in_flight == ORDER
    assert core.outbox_rows(kinds.SHOP_ACTION)[0].payload == {"action": done.action.id}
    assert actions.REQUESTED in core.events(ticket)


def test_the_same_submission_twice_is_one_action(core, ticket):
    first = actions.request_action(core.session, shop_policy(), refund(ticket.id, "40"))
    core.session.commit()
    again = actions.request_action(core.session, shop_policy(), refund(ticket.id, "40"))
    core.session.commit()
    assert not again.new and again.action.id == first.action.id
    assert len(core.outbox_rows(kinds.SHOP_ACTION)) == 1


def test_a_second_action_on_the_same_order_is_refused_while_one_is_under_way(core, ticket):
    actions.request_action(core.session, shop_policy(), refund(ticket.id, "40"))
    core.session.commit()
    with pytest.raises(ActionRefused, match="only one action at a time"):
        actions.request_action(
            core.session, shop_policy(), refund(ticket.id, "40", key="V2", requested_by=OTHER)
        )
    core.session.rollback()
    action = core.session.exec(select(ShopAction)).one()
    actions.finish(core.session, action, {"refund_id": "gid://shopify/Refund/1"})
    core.session.commit()
    later = actions.request_action(core.session, shop_policy(), refund(ticket.id, "5", key="V3"))
    assert later.new


def test_over_the_limit_awaits_approval_then_the_approver_is_recorded(core, ticket):
    asked = actions.request_action(core.session, shop_policy(), refund(ticket.id, "120"))
    core.session.commit()
    assert asked.awaiting_approval
    assert asked.over_limits == ("120 is over your limit of 100 per refund",)
    assert [kind for kind, _ in core.outbox()][-1] == kinds.SHOP_APPROVAL_REQUEST
    decided = actions.approve(core.session, shop_policy(), asked.action.id, LEAD)
    core.session.commit()
    assert decided.refusal is None
    assert decided.action.state == ActionState.QUEUED and decided.action.approver == LEAD
    assert kinds.SHOP_ACTION in [kind for kind, _ in core.outbox()]
    # A second click changes nothing.
    again = actions.approve(core.session, shop_policy(), asked.action.id, LEAD)
    assert again.refusal is None and core.outbox() == []
    other = actions.approve(core.session, shop_policy(), asked.action.id, LEAD2)
    assert other.refusal == f"This request was already approved by <@{LEAD}>."


def test_the_daily_limit_counts_what_the_agent_refunded_today(core, ticket):
    first = actions.request_action(core.session, shop_policy(), refund(ticket.id, "100"))
    actions.finish(core.session, first.action, {})
    core.session.commit()
    second = actions.request_action(core.session, shop_policy(), refund(ticket.id, "60", "V2"))
    assert second.over_limits == ("160 refunded today would be over your daily limit of 150",)


def test_an_action_not_allowed_awaits_approval(core, ticket):
    cancel = ActionRequest(
        ticket.id, ActionKind.CANCEL, OTHER, "V9", order_id=ORDER, order_name="#1001"
    )
    asked = actions.request_action(core.session, shop_policy(), cancel)
    assert asked.awaiting_approval


def test_a_non_approver_is_refused_and_nothing_changes(core, ticket):
    asked = actions.request_action(core.session, shop_policy(), refund(ticket.id, "120"))
    core.session.commit()
    core.outbox()
    with pytest.raises(ActionRefused, match="Only an approver"):
        actions.approve(core.session, shop_policy(), asked.action.id, OTHER)
    with pytest.raises(ActionRefused, match="Only an approver"):
        actions.decline(core.session, shop_policy(), asked.action.id, AGENT)
    assert asked.action.state == ActionState.AWAITING_APPROVAL and core.outbox() == []


def test_nobody_approves_their_own_request(core, ticket):
    mine = refund(ticket.id, "5000", requested_by=LEAD)
    asked = actions.request_action(core.session, shop_policy(), mine)
    with pytest.raises(ActionRefused, match="another approver"):
        actions.approve(core.session, shop_policy(), asked.action.id, LEAD)


def test_decline_tells_the_requester_and_frees_the_order(core, ticket):
    asked = actions.request_action(core.session, shop_policy(), refund(ticket.id, "120"))
    core.session.commit()
    core.outbox()
    decided = actions.decline(core.session, shop_policy(), asked.action.id, LEAD)
    core.session.commit()
    assert decided.action.state == ActionState.DECLINED and decided.action.approver == LEAD
    assert decided.action.in_flight is None
    assert kinds.SHOP_ACTION_OUTCOME in [kind for kind, _ in core.outbox()]
    too_late = actions.approve(core.session, shop_policy(), asked.action.id, LEAD2)
    assert too_late.refusal == f"This request was already declined by <@{LEAD}>."


def test_an_expired_request_is_refused_and_marked_expired(core, ticket):
    rules = shop_policy(approval_expires_after="1h")
    asked = actions.request_action(core.session, rules, refund(ticket.id, "120"))
    core.session.commit()
    later = utcnow() + timedelta(hours=1, seconds=1)
    decided = actions.approve(core.session, rules, asked.action.id, LEAD, now=later)
    core.session.commit()
    assert "expired" in decided.refusal
    assert decided.action.state == ActionState.EXPIRED and decided.action.in_flight is None
    assert actions.EXPIRED in core.events(ticket)


def test_an_expired_request_no_longer_holds_the_order(core, ticket):
    rules = shop_policy(approval_expires_after="1h")
    asked = actions.request_action(core.session, rules, refund(ticket.id, "120"))
    core.session.commit()
    later = utcnow() + timedelta(hours=2)
    again = actions.request_action(core.session, rules, refund(ticket.id, "50", "V2"), now=later)
    core.session.commit()
    assert again.new and again.action.state == ActionState.QUEUED
    core.session.refresh(asked.action)
    assert asked.action.state == ActionState.EXPIRED


def test_over_limits_without_approvers_is_refused():
    with pytest.raises(ValueError):
        shop_policy(approvers=[])


def test_sending_twice_says_the_first_attempt_is_in_doubt(core, ticket):
    asked = actions.request_action(core.session, shop_policy(), refund(ticket.id, "10"))
    assert actions.start_sending(core.session, asked.action) is True
    assert actions.start_sending(core.session, asked.action) is False
    actions.fail(core.session, asked.action, [{"field": ["amount"], "message": "Too much"}])
    assert asked.action.state == ActionState.FAILED and asked.action.in_flight is None


@ON_BOTH_DATABASES
def test_two_agents_submitting_at_once_make_one_action(core, ticket, engine):
    """Two transactions each look, find nothing, and insert: the unique keys keep one."""
    core.session.commit()  # the fixture's session holds no lock meanwhile
    with Session(engine) as first, Session(engine) as second:
        a = actions.request_action(first, shop_policy(), refund(ticket.id, "10", "VA"))
        first.flush()
        if engine.dialect.name == "sqlite":
            first.commit()  # SQLite's writers take turns: the second begins after the first
        other = refund(ticket.id, "10", "VB", requested_by=OTHER)
        if engine.dialect.name == "postgresql":
            import threading

            outcome = {}

            def submit():
                try:
                    outcome["b"] = actions.request_action(second, shop_policy(), other)
                except ActionRefused as refused:
                    outcome["refused"] = str(refused)

            racing = threading.Thread(target=submit)
            racing.start()  # blocks on the unique index until the first commits
            racing.join(0.5)
            first.commit()
            racing.join()
        else:
            try:
                actions.request_action(second, shop_policy(), other)
                outcome = {}
            except ActionRefused as refused:
                outcome = {"refused": str(refused)}
        assert "only one action at a time" in outcome.get("refused", "")
        assert a.new
    with Session(engine) as session:
        assert len(session.exec(select(ShopAction)).all()) == 1


def test_an_action_recorded_after_the_agent_looked_refuses_theirs(core, ticket):
    looked = utcnow()
    first = actions.request_action(core.session, shop_policy(), refund(ticket.id, "10", "V1"))
    actions.finish(core.session, first.action, {})
    core.session.commit()
    late = refund(ticket.id, "10", "V2", requested_by=OTHER, order_seen_at=looked)
    with pytest.raises(ActionRefused, match="after you looked"):
        actions.request_action(core.session, shop_policy(), late)
    core.session.rollback()
    fresh = refund(ticket.id, "10", "V3", requested_by=OTHER, order_seen_at=utcnow())
    assert actions.request_action(core.session, shop_policy(), fresh).new


# ---- audit: the digest's figures and the export -------------------------------------------


def test_the_days_refunds_and_cancellations_are_counted_for_the_digest(core, ticket):
    for key, amount in (("V1", "35.00"), ("V2", "10.50")):
        done = actions.request_action(core.session, shop_policy(), refund(ticket.id, amount, key))
        actions.finish(core.session, done.action, {"amount": amount, "currency": "EUR"})
    cancel = ActionRequest(ticket.id, ActionKind.CANCEL, LEAD, "V3", order_id="gid://o/2")
    actions.finish(
        core.session, actions.request_action(core.session, shop_policy(), cancel).action, {}
    )
    failed = actions.request_action(core.session, shop_policy(), refund(ticket.id, "5", "V4"))
    actions.fail(core.session, failed.action, [])
    core.session.commit()
    today = utcnow().date()
    figures = metrics.report(core.session, Period.day(today, ZoneInfo("UTC")), utcnow()).shop
    assert figures.refunds == 2 and figures.cancellations == 1
    assert figures.refunded == (("EUR", Decimal("45.50")),)
    report = metrics.report(core.session, Period.day(today, ZoneInfo("UTC")), utcnow())
    assert shop_text(report) == "2 refunds (45.50 EUR) · 1 cancellation"
    assert "*Shop*" in json.dumps(digest_blocks(report, "Today"))


def test_ended_actions_are_in_the_export_with_who_and_shopifys_ids(core, ticket):
    asked = actions.request_action(core.session, shop_policy(), refund(ticket.id, "120"))
    actions.approve(core.session, shop_policy(), asked.action.id, LEAD)
    actions.finish(
        core.session,
        asked.action,
        {"refund_id": "gid://shopify/Refund/7", "amount": "120.00", "currency": "EUR"},
    )
    core.session.commit()
    [row] = ticket_rows(core.session, utcnow() - timedelta(days=1))
    assert row["shop_actions"] == (
        f"refund 120 EUR on #1001 done by {AGENT}, approved by {LEAD} "
        "(refund_id gid://shopify/Refund/7)"
    )


@pytest.mark.parametrize(
    ("yaml_text", "said"),
    [
        ("limits: {default: {refund_max: 5}}", "shopify.approvers is empty"),
        ("approvers: [U0LEAD]\n  limits: {bob: {refund_max: 5}}", "expected a Slack user ID"),
        ("approvers: [U0LEAD]\n  limits: {default: {actions: [teleport]}}", "'refund', 'cancel'"),
        ("approvers: [U0LEAD]\n  limits: {default: {refund_max: -1}}", "refund_max"),
        ("approvers: [lead]", "expected a Slack user ID"),
        ("approval_expires_after: soon", "expected a duration"),
    ],
)
def test_a_wrong_shopify_policy_stops_start_up_with_one_line(tmp_path, yaml_text, said):
    path = tmp_path / "policy.yml"
    path.write_text(f"shopify:\n  {yaml_text}\n")
    with pytest.raises(ConfigError) as refused:
        load_policy(path)
    assert said in str(refused.value) and "\n" not in str(refused.value)
