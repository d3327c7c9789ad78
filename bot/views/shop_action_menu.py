"""Which Shopify actions an order offers, as its ⋯ menu or buttons, and the small modals
around every action: loading the order, refused, in progress, done.

Offered means allowed two ways: the order is in a state the action applies to (only an
unfulfilled order can be cancelled or re-addressed), and the token has the scope
(`ShopifyActions.available_actions`). An action the agent's policy doesn't list for them is
still offered, marked "needs approval", as taking it asks an approver (`shopify.limits`);
where the surface knows the agent, that is (the thread's post is everyone's). A choice's
value names the kind, the ticket and the order: "cancel:42:gid://…".
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.views import ids
from bot.views.elements import button, context, option, plain, section
from bot.views.text import escape_mrkdwn, truncate

KIND_LABELS = {
    "refund": "Refund",
    "cancel": "Cancel order",
    "address": "Change address",
    "reship": "Reship",
    "discount": "Discount",
}
# What Shopify can do only before anything shipped.
UNFULFILLED_ONLY = frozenset({"cancel", "address"})
# Nothing captured (only authorized, or pending), or nothing left: no refund to make.
NOTHING_TO_REFUND = frozenset({"AUTHORIZED", "PENDING", "REFUNDED", "VOIDED", "EXPIRED"})


class OrderState(Protocol):
    """What the menus need of an order (`bot.integrations.shopify.Order` has it)."""

    id: str
    fulfillment_status: str
    financial_status: str | None
    cancelled: bool


@dataclass(frozen=True)
class ActionChoice:
    """A choice as a menu or button sends it back; `parse` reads it from a (forgeable) value."""

    kind: str
    ticket_id: int
    order_id: str  # GID

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.ticket_id}:{self.order_id}"

    @classmethod
    def parse(cls, value: str) -> ActionChoice | None:
        kind, _, rest = (value or "").partition(":")
        ticket, _, order = rest.partition(":")
        if kind not in KIND_LABELS or not ticket.isdigit() or not order.startswith("gid://"):
            return None
        return cls(kind, int(ticket), order)


def applies_to(
    kind: str, fulfillment_status: str | None, financial_status: str | None, cancelled: bool
) -> bool:
    """Whether the action makes sense for an order in this state (Shopify has the last word)."""
    if kind == "discount":
        return True
    if kind == "refund":
        return (financial_status or "") not in NOTHING_TO_REFUND
    if cancelled:
        return False
    if kind in UNFULFILLED_ONLY:
        return fulfillment_status == "UNFULFILLED"
    return True  # reship


def offered_kinds(
    fulfillment_status: str | None,
    financial_status: str | None,
    cancelled: bool,
    available: Mapping[str, str | None],
) -> list[str]:
    """The kinds to offer, in menu order. `available`: kind → None, or the missing scope."""
    return [
        kind
        for kind in KIND_LABELS
        if kind in available
        and available[kind] is None
        and applies_to(kind, fulfillment_status, financial_status, cancelled)
    ]


def label(kind: str, allowed: Collection[str] | None) -> str:
    """The action's name; marked when the agent's policy makes it a request to an approver
    (`allowed`: the kinds they take on their own; None: unknown, the surface is everyone's)."""
    if allowed is None or kind in allowed:
        return KIND_LABELS[kind]
    return f"{KIND_LABELS[kind]} (needs approval)"


def missing_scopes_note(available: Mapping[str, str | None]) -> dict | None:
    """One line naming the actions the token can't take, grouped by the scope they need:
    "Not offered: Refund, Cancel order and Change address need `write_orders` …"."""
    by_scope: dict[str, list[str]] = {}
    for kind, scope in available.items():
        if scope and kind in KIND_LABELS:
            by_scope.setdefault(scope, []).append(KIND_LABELS[kind])
    if not by_scope:
        return None
    needs = "; ".join(
        f"{_listed(labels)} {'needs' if len(labels) == 1 else 'need'} `{scope}`"
        for scope, labels in by_scope.items()
    )
    return context(
        f":information_source: Not offered: {needs}, which the Shopify token lacks "
        "(add it to the app in the Shopify admin)."
    )


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def action_menu(
    ticket_id: int, order_id: str, kinds: list[str], allowed: Collection[str] | None = None
) -> dict | None:
    """The ⋯ menu of an order; None when nothing is offered."""
    if not kinds:
        return None
    return {
        "type": "overflow",
        "action_id": ids.SHOP_ACTION_MENU,
        "options": [
            option(label(kind, allowed), ActionChoice(kind, ticket_id, order_id).value)
            for kind in kinds
        ],
    }


def order_menu(
    ticket_id: int,
    order: OrderState,
    available: Mapping[str, str | None],
    allowed: Collection[str] | None = None,
) -> dict | None:
    """The ⋯ menu of one of the customer's orders as the read side knows it; None when the
    order offers nothing."""
    kinds = offered_kinds(
        order.fulfillment_status, order.financial_status, order.cancelled, available
    )
    return action_menu(ticket_id, order.id, kinds, allowed)


def action_buttons(
    ticket_id: int,
    order_id: str,
    order_name: str,
    kinds: list[str],
    allowed: Collection[str] | None = None,
) -> list[dict]:
    """The Reply modal's row of actions for the order just picked."""
    if not kinds:
        return []
    return [
        context(f"Act on {escape_mrkdwn(order_name)} in Shopify:"),
        {
            "type": "actions",
            "block_id": ids.SHOP_ORDER_ACTIONS_BLOCK,
            "elements": [
                button(
                    label(kind, allowed),
                    ids.SHOP_ACTION_BUTTON,
                    ActionChoice(kind, ticket_id, order_id).value,
                )
                for kind in kinds
            ],
        },
    ]


def _small_modal(kind: str, blocks: list[dict], metadata: dict | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": ids.SHOP_ACTION_PROGRESS_MODAL,
        "private_metadata": json.dumps(metadata or {}),
        "title": plain(truncate(KIND_LABELS.get(kind, "Shopify"), 24)),
        "close": plain("Close"),
        "blocks": blocks,
    }


def loading_order(kind: str, ticket_id: int) -> dict:
    """Shown at once: the order is read from Shopify only after Slack has its answer."""
    return _small_modal(
        kind,
        [context(":hourglass_flowing_sand: Loading order…")],
        {"ticket_id": ticket_id},
    )


def action_refused(kind: str, reason: str) -> dict:
    return _small_modal(kind, [section(f":no_entry: {escape_mrkdwn(reason)}")])


def action_in_progress(kind: str, text: str) -> dict:
    """After a submission, until the outbox has Shopify's answer ("Cancelling #1001…")."""
    return _small_modal(kind, [context(f":hourglass_flowing_sand: {escape_mrkdwn(text)}")])


def action_outcome(kind: str, lines: list[str], failed: bool = False) -> dict:
    """The action's result once Shopify answered: `lines` are mrkdwn, already escaped."""
    mark = ":warning:" if failed else ":white_check_mark:"
    more = [section(line) for line in lines[1:] if line]  # Slack refuses an empty section
    return _small_modal(kind, [section(f"{mark} {lines[0]}"), *more])
