"""Sends a recorded shop action (bot/core/shop_actions.py) to Shopify, exactly once.

The action is marked `sending` and committed before Shopify is called. An attempt that
finds it `sending` already follows one that may have reached Shopify (its answer lost, a
timeout, `ShopifyInDoubt`, or the process killed before recording it), so it first reads the
shop for the action's mark (`KINDS[kind].find`) and sends again only when the read proves it
was not applied. Shopify's refusals (`userErrors`) end the action `failed` with its field
problems: nothing was applied.

Each kind is a pair of functions in `KINDS` (send, find), of the recorded action's `params`:

- refund: `lines` [[line id, quantity]], `shipping` (bool), `restock`, `note`. Shopify's
  refund is calculated again (never more than the amount recorded, which the limits
  weighed), then `refundCreate` with `@idempotent(key)` and the key in its note; found by a
  refund of the order whose note has the key.
- cancel: `reason`, `refund`, `restock`, `notify_customer`, `staff_note`. `orderCancel`, its
  job watched briefly; found by the order's `cancelledAt`.
- address: `address` {name, address1, address2, city, province_code, zip, country_code,
  phone} (and `old`, shown in the thread). `orderUpdate`; found by the order's shipping
  address being it.
- reship: `lines`, `address`. A draft order tagged with the key, completed; found by a draft
  with the tag (completed then, if it is not yet).
- discount: `code`, `percentage` or `amount`, `customer_id`, `ends_at`, `title`.
  `discountCodeBasicCreate`; found by its code.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core import shop_actions
from bot.core.shop_actions import ActionKind, ActionState
from bot.deliverers.rule_facts import SHOPIFY_API
from bot.deliverers.shopify_context import PASSING_PROBLEMS
from bot.delivery.contract import Deliverer, RetryLater
from bot.integrations.shopify_actions import (
    Address,
    ShopifyActions,
    ShopifyError,
    ShopifyInDoubt,
    ShopifyUserErrors,
)
from bot.storage.db import transaction
from bot.storage.models import OutboxItem, ShopAction
from bot.views.shop_actions import address_from

log = logging.getLogger(__name__)

RETRY_SECONDS = 10
# An order's cancellation is a job Shopify runs after answering: watched this long, then
# the thread says it is under way.
CANCEL_JOB_CHECKS = 3
CANCEL_JOB_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Pending:
    """What is sent: the recorded action, read in the transaction that marked it `sending`."""

    id: int
    kind: ActionKind
    order_id: str | None
    params: dict[str, Any]
    key: str
    amount: Decimal | None


Send = Callable[[ShopifyActions, Pending], dict[str, Any]]
Find = Callable[[ShopifyActions, Pending], dict[str, Any] | None]


@dataclass(frozen=True)
class KindOfAction:
    send: Send  # does it; returns the result kept on the action (JSON-safe)
    find: Find  # the result when the shop shows it done already, else None


class AmountChanged(ValueError):
    """Shopify now calculates more than was recorded (and weighed against the limits)."""


def shop_action_deliverers(engine: Engine, shop: ShopifyActions) -> dict[str, Deliverer]:
    return {kinds.SHOP_ACTION: ShopActionSender(engine, shop)}


class ShopActionSender:
    service = SHOPIFY_API
    posts_to_channel = False
    # A row given up for good (a bug) ends its action, which would otherwise hold its order.
    records_failures = True

    def __init__(self, engine: Engine, shop: ShopifyActions):
        self.engine = engine
        self.shop = shop

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        pending, first = self._mark_sending(item.payload["action"])
        if pending is None:
            return {"already": True}
        kind = KINDS[pending.kind]
        try:
            if not first:
                found = kind.find(self.shop, pending)
                if found is not None:
                    log.info("shop action %s was applied already: %s", pending.id, found)
                    return {"done": {**found, "reconciled": True}}
            return {"done": kind.send(self.shop, pending)}
        except ShopifyUserErrors as refused:
            return {"refused": [_problem(p) for p in refused.problems]}
        except ShopifyInDoubt as doubt:
            raise RetryLater(str(doubt), delay=RETRY_SECONDS, definite=False) from None
        except ShopifyError as problem:
            if problem.kind in PASSING_PROBLEMS or not first:
                # Unsure what an earlier attempt did: never end it without reading the shop.
                raise RetryLater(f"Shopify: {problem}", delay=RETRY_SECONDS) from None
            return {"refused": [{"field": [], "message": str(problem), "code": problem.kind}]}
        except ValueError as wrong:
            # The recorded action can't be sent as it is (on a later attempt, only once the
            # read above proved the earlier one was not applied).
            return {"refused": [{"field": [], "message": str(wrong), "code": "invalid"}]}

    def _mark_sending(self, action_id: int) -> tuple[Pending | None, bool]:
        """The action as it is sent, committed `sending` first; None when it has ended."""
        with transaction(self.engine) as session:
            action = session.get(ShopAction, action_id)
            if action is None or action.state not in (ActionState.QUEUED, ActionState.SENDING):
                return None, False
            first = shop_actions.start_sending(session, action)
            amount = Decimal(action.amount) if action.amount else None
            pending = Pending(
                action.id,
                ActionKind(action.kind),
                action.order_id,
                dict(action.params),
                action.idempotency_key,
                amount,
            )
        return pending, first

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        action = session.get(ShopAction, item.payload["action"])
        if action is None or action.state != ActionState.SENDING:
            return
        if "done" in result:
            shop_actions.finish(session, action, result["done"])
        elif "refused" in result:
            shop_actions.fail(session, action, result["refused"])
        elif "failed" in result:  # the outbox gave the row up
            problem = f"It could not be sent ({result['failed']}); check the order in Shopify."
            shop_actions.fail(session, action, [{"field": [], "message": problem, "code": None}])


def _problem(problem) -> dict[str, Any]:
    return {"field": list(problem.field), "message": problem.message, "code": problem.code}


def _lines(params: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(line), int(quantity)) for line, quantity in params.get("lines", [])]


# ---- refund ----------------------------------------------------------------------------------


def refund_note(pending: Pending) -> str:
    """The refund's note in Shopify: the agent's words and the action's key, which finds it."""
    words = str(pending.params.get("note") or "").strip()
    return f"{words} [{pending.key}]" if words else f"Helpdesk refund [{pending.key}]"


def _send_refund(shop: ShopifyActions, pending: Pending) -> dict[str, Any]:
    params = pending.params
    lines = _lines(params)
    plan = shop.suggest_refund(pending.order_id, lines, bool(params.get("shipping")), False)
    if pending.amount is not None and plan.amount.amount > pending.amount:
        raise AmountChanged(
            f"Shopify now calculates {plan.amount}, more than the {pending.amount} asked "
            "for; calculate the refund again."
        )
    refund = shop.refund(
        pending.order_id,
        lines,
        plan.shipping.amount if params.get("shipping") else Decimal(0),
        bool(params.get("restock")),
        plan.transactions,
        note=refund_note(pending),
        key=pending.key,
    )
    return _refund_result(refund)


def _find_refund(shop: ShopifyActions, pending: Pending) -> dict[str, Any] | None:
    order = shop.order(pending.order_id)
    for refund in order.refunds if order else ():
        if refund.note and pending.key in refund.note:
            return _refund_result(refund)
    return None


def _refund_result(refund) -> dict[str, Any]:
    return {
        "refund_id": refund.id,
        "amount": str(refund.amount.amount),
        "currency": refund.amount.currency,
    }


# ---- cancel ----------------------------------------------------------------------------------


def _send_cancel(shop: ShopifyActions, pending: Pending) -> dict[str, Any]:
    params = pending.params
    job = shop.cancel(
        pending.order_id,
        str(params.get("reason") or "OTHER"),
        bool(params.get("refund")),
        bool(params.get("restock")),
        bool(params.get("notify_customer")),
        str(params.get("staff_note") or ""),
    )
    for _ in range(CANCEL_JOB_CHECKS):
        if shop.job_done(job):
            return {"job_id": job, "job_done": True}
        time.sleep(CANCEL_JOB_PAUSE_SECONDS)
    return {"job_id": job, "job_done": False}


def _find_cancel(shop: ShopifyActions, pending: Pending) -> dict[str, Any] | None:
    order = shop.order(pending.order_id)
    if order is None or order.cancelled_at is None:
        return None
    return {"cancelled_at": order.cancelled_at.isoformat(), "job_done": True}


# ---- address ---------------------------------------------------------------------------------


def _address(params: dict[str, Any]) -> Address:
    return address_from(params.get("address") or {})


def _send_address(shop: ShopifyActions, pending: Pending) -> dict[str, Any]:
    stored = shop.change_address(pending.order_id, _address(pending.params))
    return {"address": asdict(stored) if stored else None}


def _find_address(shop: ShopifyActions, pending: Pending) -> dict[str, Any] | None:
    order = shop.order(pending.order_id)
    current = order.shipping_address if order else None
    if current is None or not _same_place(current, _address(pending.params)):
        return None
    return {"address": asdict(current)}


def _same_place(one: Address, other: Address) -> bool:
    """Equal where a parcel goes, as Shopify may store a name or a code differently cased."""

    def where(address: Address) -> tuple[str, ...]:
        parts = (address.address1, address.address2, address.city, address.zip)
        return (*(" ".join((part or "").split()).casefold() for part in parts),
                (address.country_code or "").upper())  # fmt: skip

    return where(one) == where(other)


# ---- reship ----------------------------------------------------------------------------------


def _send_reship(shop: ShopifyActions, pending: Pending) -> dict[str, Any]:
    made = shop.reship(
        pending.order_id, _lines(pending.params), _address(pending.params), pending.key
    )
    return _reship_result(made)


def _find_reship(shop: ShopifyActions, pending: Pending) -> dict[str, Any] | None:
    drafts = shop.draft_orders_tagged(pending.key)
    if not drafts:
        return None
    draft, order, _ = drafts[0]
    # The draft was made but not completed: finishing it is the rest of the same action.
    return _reship_result(drafts[0] if order else shop.complete_draft(draft))


def _reship_result(made: tuple[str, str | None, str | None]) -> dict[str, Any]:
    draft, order, name = made
    return {"draft_order_id": draft, "order_id": order, "order_name": name}


# ---- discount --------------------------------------------------------------------------------


def _send_discount(shop: ShopifyActions, pending: Pending) -> dict[str, Any]:
    params = pending.params
    percentage, amount = params.get("percentage"), params.get("amount")
    discount = shop.create_discount(
        str(params["code"]),
        Decimal(percentage) if percentage is not None else None,
        Decimal(amount) if amount is not None else None,
        str(params["customer_id"]),
        datetime.fromisoformat(params["ends_at"]),
        str(params.get("title") or params["code"]),
    )
    return {"discount_id": discount, "code": params["code"]}


def _find_discount(shop: ShopifyActions, pending: Pending) -> dict[str, Any] | None:
    found = shop.discount_by_code(str(pending.params["code"]))
    return {"discount_id": found, "code": pending.params["code"]} if found else None


KINDS: dict[ActionKind, KindOfAction] = {
    ActionKind.REFUND: KindOfAction(_send_refund, _find_refund),
    ActionKind.CANCEL: KindOfAction(_send_cancel, _find_cancel),
    ActionKind.ADDRESS: KindOfAction(_send_address, _find_address),
    ActionKind.RESHIP: KindOfAction(_send_reship, _find_reship),
    ActionKind.DISCOUNT: KindOfAction(_send_discount, _find_discount),
}
