"""The Refund action's Slack side: the modal opened on an order, its Calculate step (Shopify's
`suggestedRefund`, asked after Slack has its answer), and the confirmation that records the
refund (bot/core/shop_actions.py), which the outbox then sends exactly once.

Offered only for the ticket's customer's orders (bot/core/customer_links.py) and when the
Shopify token may refund; checked again when the modal opens, as a button's value can be
forged, and on each submission against the ticket as it is then.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.customer_links import owner_of
from bot.core.shop_actions import ActionKind, ActionRequest
from bot.handlers.slack.common import metadata_of, services_of, tell
from bot.handlers.slack.services import Services
from bot.handlers.slack.shop_actions import (
    NOT_CONNECTED,
    limit_groups,
    own_order,
    record_action,
    shop_of,
)
from bot.integrations.shopify_actions import ShopifyError, ShopifyUserErrors
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views import ids
from bot.views.refund_modal import (
    CALCULATE,
    NOT_THEIRS,
    RefundForm,
    RefundOrder,
    read_form,
    refund_confirm,
    refund_modal,
)
from bot.views.shop_action_menu import (
    ActionChoice,
    action_in_progress,
    action_refused,
    loading_order,
)
from bot.views.shop_forms import GENERAL

log = logging.getLogger(__name__)

REFUND = ActionKind.REFUND.value
NOTHING_LEFT = "Nothing of this order can be refunded any more."


def register(app: App) -> None:
    app.view(ids.SHOP_REFUND_MODAL)(on_refund_submitted)


def open_refund(client: WebClient, body: dict, helpdesk: Services, choice: ActionChoice) -> None:
    """Opens the Refund modal for `choice` (a click's trigger in `body`): pushed over the
    modal clicked in, else opened; it shows "Loading order…" until Shopify answered."""
    if helpdesk.shopify is None:
        tell(client, body, NOT_CONNECTED)
        return
    loading = loading_order(REFUND, choice.ticket_id)
    if body.get("view"):
        opened = client.views_push(trigger_id=body["trigger_id"], view=loading)
    else:
        opened = client.views_open(trigger_id=body["trigger_id"], view=loading)
    client.views_update(view_id=opened["view"]["id"], view=_refund_form(helpdesk, choice))


def _refund_form(helpdesk: Services, choice: ActionChoice) -> dict:
    own = own_order(helpdesk, REFUND, choice.ticket_id, choice.order_id)
    if isinstance(own, dict):
        return own
    refundable = RefundOrder.of(own.ticket_id, own.order)
    if own.order.refundable.amount <= 0 or not (
        any(line.refundable for line in refundable.lines)
        or Decimal(refundable.shipping_refundable) > 0
    ):
        return action_refused(REFUND, NOTHING_LEFT)
    return refund_modal(refundable)


def on_refund_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    data = metadata_of(view)
    try:
        order = RefundOrder.from_metadata(data)
    except (KeyError, TypeError, ValueError):
        ack(response_action="update", view=action_refused(REFUND, "This form is out of date."))
        return
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, order.ticket_id)
        owner = owner_of(session, ticket) if ticket else None
    if owner is None or not owner.owns(order.customer_id, order.customer_email):
        # The ticket was unlinked from the order's customer since the modal opened.
        ack(response_action="update", view=action_refused(REFUND, NOT_THEIRS))
        return
    if data.get("step") == CALCULATE:
        _calculate(ack, client, helpdesk, view, order)
    else:
        _confirm(ack, client, helpdesk, body, data, order)


def _calculate(ack: Ack, client: WebClient, helpdesk: Services, view: dict, order) -> None:
    form, problems = read_form(view["state"]["values"], order)
    if problems:
        ack(response_action="errors", errors=problems)
        return
    ack(
        response_action="update",
        view=action_in_progress(REFUND, "Asking Shopify for the refund's amount…"),
    )
    asked_at = utcnow()
    try:
        plan = shop_of(helpdesk).suggest_refund(
            order.order_id, form.lines(order), form.shipping, form.restock
        )
    except ShopifyUserErrors as refused:
        said = "; ".join(problem.message for problem in refused.problems)
        answer = refund_modal(order, form, {GENERAL: f"Shopify refused: {said}"})
    except (ShopifyError, ValueError) as problem:
        answer = refund_modal(order, form, {GENERAL: f"Shopify could not calculate it: {problem}"})
    else:
        if plan.amount.amount <= 0:
            nothing = "Shopify calculates nothing to refund for this choice."
            answer = refund_modal(order, form, {GENERAL: nothing})
        else:
            answer = refund_confirm(order, form, plan, asked_at)
    client.views_update(view_id=view["id"], view=answer)


def _confirm(ack: Ack, client: WebClient, helpdesk: Services, body, data, order) -> None:
    try:
        form = RefundForm.from_data(data["form"])
        amount = Decimal(data["amount"])
        currency = str(data["amount_currency"])
        calculated_at = datetime.fromisoformat(data["calculated_at"])
    except (KeyError, TypeError, ValueError, InvalidOperation):
        ack(response_action="update", view=action_refused(REFUND, "This form is out of date."))
        return
    if amount <= 0 or currency != order.currency:
        refusal = f"A refund must be more than 0 {order.currency}; calculate it again."
        ack(response_action="update", view=action_refused(REFUND, refusal))
        return
    view = body["view"]
    money = f"{amount} {currency}"
    ack(
        response_action="update",
        view=action_in_progress(REFUND, f"Refunding {money} on {order.order_name}…"),
    )
    user = body["user"]["id"]
    request = ActionRequest(
        ticket_id=order.ticket_id,
        kind=ActionKind.REFUND,
        requested_by=user,
        request_key=view["id"],
        order_id=order.order_id,
        order_name=order.order_name,
        params=form.params(order),
        amount=amount,
        currency=currency,
        groups=limit_groups(helpdesk, user),
        view_id=view["id"],
        order_seen_at=calculated_at,
    )
    record_action(client, helpdesk, request)
