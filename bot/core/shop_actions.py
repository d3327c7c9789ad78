"""Actions in the shop taken from a ticket: refund, cancel, change the address, reship, a
discount code. Each is recorded before anything is sent, within the limits the policy sets,
and approved by an approver when over them.

The life of an action (`ActionState`):

    request_action ─┬─ within the limits ──────────────────────────▶ queued ─▶ sending ─▶ done
                    └─ over them ─▶ awaiting_approval ─ approve ──▶ queued        └──▶ failed
                                                      ├ decline ──▶ declined
                                                      └ too late ─▶ expired

Exactly once, by three keys:
- `idempotency_key` (unique) is derived from the Slack view that submitted the form: the same
  form submitted twice, a double click or Slack's retry find the row already there and change
  nothing. It travels to Shopify (a refund's `@idempotent` key, the note the reconciliation
  looks for), see bot/deliverers/shop_actions.py.
- `in_flight` (unique) holds the order's id (a discount: its code) from the request until
  the action ends: two agents submitting actions on one order at once get one action; the
  other is refused with who is acting. A request awaiting approval holds it too, until it
  is decided or has expired.
- the row is committed in state `queued` with its outbox row; the deliverer commits `sending`
  before it calls Shopify, so a row found `sending` is in doubt and is reconciled by reading
  the order before anything is sent again.

Nothing here talks to Slack or Shopify: effects are outbox rows (`bot.core.outbox`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.config import ActionLimits, Policy, ShopifyPolicy
from bot.core import outbox
from bot.core.tickets import record_event
from bot.storage.models import ShopAction, Ticket, utcnow


class ActionKind(StrEnum):
    """What an action does; the values are the policy's names in `limits.*.actions`."""

    REFUND = "refund"
    CANCEL = "cancel"
    ADDRESS = "address"
    RESHIP = "reship"
    DISCOUNT = "discount"


class ActionState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"  # its outbox row is written; nothing sent yet
    SENDING = "sending"  # committed before Shopify is called: found so again, it is in doubt
    DONE = "done"
    FAILED = "failed"  # Shopify refused it (userErrors) or it could not be sent: nothing done
    DECLINED = "declined"
    EXPIRED = "expired"  # its approval came too late


UNDER_WAY = frozenset({ActionState.AWAITING_APPROVAL, ActionState.QUEUED, ActionState.SENDING})
# Refunds counted against an agent's daily limit: sent or on their way.
COUNTED = frozenset({ActionState.QUEUED, ActionState.SENDING, ActionState.DONE})

LABELS = {
    ActionKind.REFUND: "Refund",
    ActionKind.CANCEL: "Cancel order",
    ActionKind.ADDRESS: "Change address",
    ActionKind.RESHIP: "Reship",
    ActionKind.DISCOUNT: "Discount",
}

# Event log kinds.
REQUESTED = "shop_action_requested"
APPROVED = "shop_action_approved"
DECLINED = "shop_action_declined"
EXPIRED = "shop_action_expired"
DONE = "shop_action_done"
FAILED = "shop_action_failed"


class ActionRefused(Exception):
    """Nothing was recorded or changed; the message says why, for the person who asked."""


@dataclass(frozen=True)
class ActionRequest:
    """An agent's request, as their form submitted it.

    `params` are the kind's own, JSON-safe (a refund: `lines` [{id, quantity}], `shipping`,
    `restock`, `note`; see bot/deliverers/shop_actions.py's table for each kind's). `amount`
    is the money the action moves (a refund's total as Shopify suggested it), which the
    limits weigh; None for the kinds that move none. `request_key` names the submission (the
    Slack view's id): the same key is the same action, however often it arrives. `groups`
    are the Slack user groups named in the policy's limits that the requester belongs to,
    resolved by the adapter (the core asks nobody). `view_id` is the modal to show the
    outcome in, if any.
    """

    ticket_id: int
    kind: ActionKind
    requested_by: str
    request_key: str
    order_id: str | None = None
    order_name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    amount: Decimal | None = None
    currency: str | None = None
    groups: frozenset[str] = frozenset()
    view_id: str | None = None
    # What `in_flight` holds instead of the order's id, for a kind with no order (a discount:
    # its code, so two agents can't make the same code at once).
    subject: str | None = None
    # When the agent last saw the order as the action assumes it (a refund: when Shopify
    # calculated it): an action on the order recorded since then refuses this one, so two
    # agents who both looked before either confirmed can't both act.
    order_seen_at: datetime | None = None


@dataclass(frozen=True)
class Requested:
    """What `request_action` did: `new` is False for a repeat of a request already recorded.
    `over_limits` are the reasons it awaits approval (empty: queued for execution)."""

    action: ShopAction
    new: bool
    over_limits: tuple[str, ...] = ()

    @property
    def awaiting_approval(self) -> bool:
        return self.action.state == ActionState.AWAITING_APPROVAL


@dataclass(frozen=True)
class Decided:
    """What `approve` or `decline` did: `refusal` says why nothing was (an approval that came
    too late marks the request expired)."""

    action: ShopAction
    refusal: str | None = None


# ---- limits: pure ----------------------------------------------------------------------------


def limits_for(policy: ShopifyPolicy, agent: str, groups: Iterable[str]) -> ActionLimits | None:
    """The limits that apply to `agent`: their own entry, else the first user group entry (in
    the policy's order) among `groups`, else `default`; None when none does (no limits)."""
    if agent in policy.limits:
        return policy.limits[agent]
    member_of = set(groups)
    for owner, limits in policy.limits.items():
        if owner.startswith("S") and owner in member_of:
            return limits
    return policy.limits.get("default")


def over_limits(
    limits: ActionLimits | None,
    kind: ActionKind,
    amount: Decimal | None,
    spent_today: Decimal,
) -> tuple[str, ...]:
    """Why an action needs an approver (empty: it doesn't). `spent_today` is what the agent
    has refunded (or has on its way) today before this one."""
    if limits is None:
        return ()
    reasons = []
    if limits.actions is not None and kind.value not in limits.actions:
        reasons.append(f"{LABELS[kind]} is not among the actions you may take")
    if kind == ActionKind.REFUND and amount is not None:
        if limits.refund_max is not None and amount > limits.refund_max:
            reasons.append(f"{amount} is over your limit of {limits.refund_max} per refund")
        daily = limits.refund_daily_max
        if daily is not None and spent_today + amount > daily:
            reasons.append(
                f"{spent_today + amount} refunded today would be over your daily limit of {daily}"
            )
    return tuple(reasons)


def idempotency_key(kind: ActionKind, request_key: str) -> str:
    """The action's key: one per submission, not guessable from outside, short enough for
    Shopify's idempotency header and a refund's note."""
    digest = hashlib.sha256(f"{kind.value}\n{request_key}".encode()).hexdigest()
    return f"hd-{kind.value}-{digest[:32]}"


def day_start(now: datetime, timezone: str) -> datetime:
    """The start of `now`'s local day in the policy's time zone, the daily limit's day."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


# ---- requesting ------------------------------------------------------------------------------


def request_action(
    session: Session, policy: Policy, request: ActionRequest, *, now: datetime | None = None
) -> Requested:
    """Records the action: queued for execution within the requester's limits, else awaiting
    an approver (who get a message with Approve / Decline). A repeat of a recorded request
    returns it unchanged. Raises `ActionRefused` (nothing recorded) when another action on the
    same order is under way, or when it is over the limits and the policy names no approver.
    """
    now = now or utcnow()
    key = idempotency_key(request.kind, request.request_key)
    earlier = _by_key(session, key)
    if earlier is not None:
        return Requested(earlier, new=False)
    lock = _lock_of(request)
    _refuse_if_busy(session, lock, now)
    _refuse_if_acted_since(session, request)
    ticket = session.get(Ticket, request.ticket_id)
    if ticket is None:
        raise ActionRefused("This ticket no longer exists.")
    shop = policy.shopify
    spent = refunded_today(session, request.requested_by, day_start(now, policy.timezone))
    limits = limits_for(shop, request.requested_by, request.groups)
    reasons = over_limits(limits, request.kind, request.amount, spent)
    if reasons and not shop.approvers:
        raise ActionRefused(
            "Over your limits (" + "; ".join(reasons) + "), and the policy names no approver "
            "(shopify.approvers) who could approve it."
        )
    action = ShopAction(
        ticket_id=ticket.id,
        kind=request.kind.value,
        order_id=request.order_id,
        order_name=request.order_name,
        params=request.params,
        amount=str(request.amount) if request.amount is not None else None,
        currency=request.currency,
        requested_by=request.requested_by,
        state=ActionState.AWAITING_APPROVAL if reasons else ActionState.QUEUED,
        approval_expires_at=now + shop.approval_expires_after if reasons else None,
        idempotency_key=key,
        in_flight=lock,
        view_id=request.view_id,
        errors=list(reasons) or None,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(action)
    except IntegrityError:
        # Another transaction recorded the same submission, or an action on the same order,
        # between our look and our insert (PostgreSQL; SQLite's writers take turns).
        earlier = _by_key(session, key)
        if earlier is not None:
            return Requested(earlier, new=False)
        _refuse_if_busy(session, lock, now)
        raise
    record_event(
        session,
        ticket,
        REQUESTED,
        request.requested_by,
        action=action.id,
        action_kind=action.kind,
        order=action.order_name,
        amount=action.amount,
        currency=action.currency,
        state=action.state,
        over_limits=list(reasons),
    )
    if reasons:
        for approver in shop.approvers:
            outbox.ask_approval(session, ticket.id, action.id, approver)
    else:
        outbox.execute_shop_action(session, ticket.id, action.id)
    return Requested(action, new=True, over_limits=reasons)


def refunded_today(session: Session, agent: str, since: datetime) -> Decimal:
    """What `agent` has refunded, or has on its way, since `since` (their daily limit's day);
    refunds approved over their limits count too."""
    amounts = session.exec(
        select(ShopAction.amount).where(
            ShopAction.requested_by == agent,
            ShopAction.kind == ActionKind.REFUND.value,
            ShopAction.state.in_(list(COUNTED)),
            ShopAction.created_at >= since,
        )
    )
    return sum((Decimal(amount) for amount in amounts if amount), Decimal(0))


def _lock_of(request: ActionRequest) -> str:
    subject = request.order_id or request.subject
    if not subject:
        raise ActionRefused("No order or subject given for the action.")
    return subject if request.order_id else f"{request.kind.value}:{subject}"


def _by_key(session: Session, key: str) -> ShopAction | None:
    return session.exec(select(ShopAction).where(ShopAction.idempotency_key == key)).first()


def _refuse_if_busy(session: Session, lock: str, now: datetime) -> None:
    busy = session.exec(select(ShopAction).where(ShopAction.in_flight == lock)).first()
    if busy is None:
        return
    if _expired(busy, now):
        _expire(session, busy, now)
        session.flush()  # its hold on the order goes before the new action takes it
        return
    what = LABELS[ActionKind(busy.kind)]
    where = f" on {busy.order_name}" if busy.order_name else ""
    how = (
        "is waiting for an approver"
        if busy.state == ActionState.AWAITING_APPROVAL
        else "is being carried out"
    )
    raise ActionRefused(
        f"{what}{where} asked by <@{busy.requested_by}> {how}: only one action at a time, "
        "so nothing is done twice. Try again once it has finished."
    )


def _refuse_if_acted_since(session: Session, request: ActionRequest) -> None:
    if request.order_seen_at is None or request.order_id is None:
        return
    since = session.exec(
        select(ShopAction)
        .where(
            ShopAction.order_id == request.order_id,
            ShopAction.created_at > request.order_seen_at,
            ShopAction.state.in_(list(UNDER_WAY | {ActionState.DONE})),
        )
        .order_by(ShopAction.id)
    ).first()
    if since is not None:
        raise ActionRefused(
            f"{LABELS[ActionKind(since.kind)]} on {since.order_name} by <@{since.requested_by}> "
            "was asked for after you looked at the order: nothing was done, so nothing is done "
            "twice. Open it again to see the order as it is now."
        )


# ---- approving -------------------------------------------------------------------------------


def approve(
    session: Session, policy: Policy, action_id: int, approver: str, *, now: datetime | None = None
) -> Decided:
    """An approver approves a request: it is queued for execution with them recorded.

    Raises `ActionRefused` (nothing changed) for someone who is not an approver, and for the
    requester themselves. A second click of the same approver is a no-op; a request already
    decided, or past its expiry (then marked expired, and its requester told), is refused by
    the returned `refusal`.
    """
    return _decide(session, policy, action_id, approver, ActionState.QUEUED, now or utcnow())


def decline(
    session: Session, policy: Policy, action_id: int, approver: str, *, now: datetime | None = None
) -> Decided:
    """An approver declines a request: nothing is sent, and the requester is told. Refused
    as `approve` is."""
    return _decide(session, policy, action_id, approver, ActionState.DECLINED, now or utcnow())


def _decide(
    session: Session,
    policy: Policy,
    action_id: int,
    approver: str,
    decision: ActionState,
    now: datetime,
) -> Decided:
    action = _decidable(session, policy, action_id, approver)
    if action.state != ActionState.AWAITING_APPROVAL:
        return Decided(action, None if action.approver == approver else _decided_already(action))
    if _expired(action, now):
        _expire(session, action, now)
        return Decided(action, _expired_text(action))
    action.state = decision
    action.approver = approver
    action.decided_at = now
    ticket = session.get(Ticket, action.ticket_id)
    event = APPROVED if decision == ActionState.QUEUED else DECLINED
    record_event(session, ticket, event, approver, action=action.id, action_kind=action.kind)
    outbox.show_approval_decision(session, ticket.id, action.id)
    if decision == ActionState.QUEUED:
        outbox.execute_shop_action(session, ticket.id, action.id)
    else:
        action.finished_at = now
        action.in_flight = None
        outbox.tell_shop_action(session, ticket.id, action.id)
    return Decided(action)


def _decidable(session: Session, policy: Policy, action_id: int, approver: str) -> ShopAction:
    approvers = policy.shopify.approvers
    if approver not in approvers:
        who = ", ".join(f"<@{user}>" for user in approvers) or "nobody (shopify.approvers)"
        raise ActionRefused(f"Only an approver can approve or decline this: {who}.")
    action = session.get(ShopAction, action_id)
    if action is None:
        raise ActionRefused("This request no longer exists.")
    if action.requested_by == approver and action.state == ActionState.AWAITING_APPROVAL:
        raise ActionRefused("You asked for this yourself: another approver has to decide it.")
    return action


def _decided_already(action: ShopAction) -> str:
    if action.state == ActionState.EXPIRED:
        return _expired_text(action)
    by = f" by <@{action.approver}>" if action.approver else ""
    verb = "declined" if action.state == ActionState.DECLINED else "approved"
    return f"This request was already {verb}{by}."


def _expired(action: ShopAction, now: datetime) -> bool:
    return (
        action.state == ActionState.AWAITING_APPROVAL
        and action.approval_expires_at is not None
        and action.approval_expires_at <= now
    )


def _expired_text(action: ShopAction) -> str:
    return (
        f"This request expired at {action.approval_expires_at:%Y-%m-%d %H:%M} UTC and can no "
        f"longer be approved; nothing was done. <@{action.requested_by}> can ask again."
    )


def _expire(session: Session, action: ShopAction, now: datetime) -> None:
    action.state = ActionState.EXPIRED
    action.finished_at = now
    action.in_flight = None
    ticket = session.get(Ticket, action.ticket_id)
    record_event(session, ticket, EXPIRED, "helpdesk", action=action.id, action_kind=action.kind)
    outbox.show_approval_decision(session, ticket.id, action.id)
    outbox.tell_shop_action(session, ticket.id, action.id)


# ---- executing (called by the deliverer) -----------------------------------------------------


def start_sending(session: Session, action: ShopAction, now: datetime | None = None) -> bool:
    """Marks a queued action `sending`, to be committed before Shopify is called. Returns
    False when it was `sending` already: an earlier attempt may have reached Shopify, so the
    caller reconciles before sending anything."""
    if action.state == ActionState.SENDING:
        return False
    action.state = ActionState.SENDING
    action.sent_at = now or utcnow()
    return True


def finish(
    session: Session, action: ShopAction, result: dict[str, Any], now: datetime | None = None
) -> None:
    """Shopify did it: `result` holds its ids and what it actually did (a refund's amount)."""
    _end(session, action, ActionState.DONE, now)
    action.result = result
    ticket = session.get(Ticket, action.ticket_id)
    record_event(
        session, ticket, DONE, action.requested_by,
        action=action.id, action_kind=action.kind, order=action.order_name,
        approver=action.approver, **result,
    )  # fmt: skip
    outbox.tell_shop_action(session, ticket.id, action.id)


def fail(session: Session, action: ShopAction, problems: list[dict[str, Any]], now=None) -> None:
    """Nothing was done: Shopify refused it (`problems`: its userErrors as {field, message,
    code}), or it could not be sent."""
    _end(session, action, ActionState.FAILED, now)
    action.errors = problems
    ticket = session.get(Ticket, action.ticket_id)
    record_event(
        session, ticket, FAILED, action.requested_by,
        action=action.id, action_kind=action.kind, order=action.order_name, problems=problems,
    )  # fmt: skip
    outbox.tell_shop_action(session, ticket.id, action.id)


def _end(session: Session, action: ShopAction, state: ActionState, now: datetime | None) -> None:
    action.state = state
    action.finished_at = now or utcnow()
    action.in_flight = None


def under_way(session: Session, ticket_id: int) -> list[ShopAction]:
    """The ticket's actions not finished yet, oldest first."""
    return list(
        session.exec(
            select(ShopAction)
            .where(ShopAction.ticket_id == ticket_id, ShopAction.state.in_(list(UNDER_WAY)))
            .order_by(ShopAction.id)
        )
    )
