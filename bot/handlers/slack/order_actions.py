"""Opening a Shopify action on an order: its ⋯ menu in the thread's Shopify post and in the
Orders modal, and the Reply modal's buttons once an order is picked.

Slack gets its answer first: a "Loading order…" modal opens (pushed over the modal the click
came from), and only then is Shopify asked for the order. Whatever the click says is checked
again, as menus' values come back from the client: the ticket exists, the order is its
verified customer's (`owner_of`, as the thread's post decides), the token has the scope,
and the order's state allows it (the agent's policy decides when the form is submitted:
beyond it, the action is a request to an approver). Any refusal replaces the
loading modal with the reason; nothing is recorded until the form is submitted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.discount_codes import new_code
from bot.handlers.slack.common import services_of, tell
from bot.handlers.slack.replies import answer_of
from bot.handlers.slack.services import Services
from bot.handlers.slack.shop_actions import own_order
from bot.handlers.slack.shop_refund import open_refund
from bot.integrations.shopify_actions import ActionableOrder
from bot.storage.models import utcnow
from bot.views import ids
from bot.views.address_modal import address_modal
from bot.views.cancel_modal import cancel_modal
from bot.views.customer_context import status_word
from bot.views.discount_modal import DiscountFor, DiscountForm, discount_modal
from bot.views.reship_modal import reship_modal
from bot.views.shop_action_menu import (
    ActionChoice,
    action_refused,
    applies_to,
    loading_order,
)
from bot.views.shop_forms import seen_at

log = logging.getLogger(__name__)

DISCOUNT_DAYS = 30  # a goodwill code's default life
# The Reply modal's answer while a Discount form is open over it, so the code can be added
# to it once Shopify has made it (Slack never tells anyone a modal's state unasked).
REPLY_DRAFT_KEY = "shop-actions:reply-draft:"
REPLY_DRAFT_SECONDS = 3600


def register(app: App) -> None:
    app.action(ids.SHOP_ACTION_MENU)(on_action_chosen)
    app.action(ids.SHOP_ACTION_BUTTON)(on_action_chosen)


def on_action_chosen(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    action = body["actions"][0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    choice = ActionChoice.parse(value)
    if choice is None:
        log.info("shop action: unreadable choice %r", value)
        tell(client, body, "That action can't be read; open it again from the order.")
        return
    if choice.kind == "refund":
        open_refund(client, body, helpdesk, choice)  # shop-core's Refund modal
        return
    parent = body.get("view")
    loading = loading_order(choice.kind, choice.ticket_id)
    if parent:
        opened = client.views_push(trigger_id=body["trigger_id"], view=loading)
    else:
        opened = client.views_open(trigger_id=body["trigger_id"], view=loading)
    from_reply = bool(parent) and parent.get("callback_id") == ids.REPLY_MODAL
    if from_reply and choice.kind == "discount":
        keep_reply_draft(helpdesk, parent)
    view = form_for(helpdesk, choice, body["user"]["id"], parent["id"] if from_reply else None)
    client.views_update(view_id=opened["view"]["id"], view=view)


def keep_reply_draft(helpdesk: Services, reply: dict) -> None:
    """The Reply modal's answer as the agent left it, for the code to be added to."""
    metadata = json.loads(reply.get("private_metadata") or "{}")
    _, answer = answer_of(reply)
    draft = {
        "view": reply["id"],
        "answer": answer,
        "version": metadata.get("version", 0),
        "seen": metadata.get("seen"),
        # How the modal is drawn again once the code is in: with what it offered.
        "features": asdict(helpdesk.reply_features),
    }
    helpdesk.shared.put(REPLY_DRAFT_KEY + reply["id"], json.dumps(draft), REPLY_DRAFT_SECONDS)


def kept_reply_draft(helpdesk: Services, reply_view: str | None) -> dict | None:
    if not reply_view:
        return None
    kept = helpdesk.shared.get(REPLY_DRAFT_KEY + reply_view)
    return json.loads(kept) if kept else None


def form_for(helpdesk: Services, choice: ActionChoice, agent: str, reply_view: str | None) -> dict:
    """The action's form for the order, or a modal saying why not."""
    kind = choice.kind
    own = own_order(helpdesk, kind, choice.ticket_id, choice.order_id)
    if isinstance(own, dict):
        return own
    refusal = state_refusal(kind, own.order)
    if refusal:
        return action_refused(kind, refusal)
    return seen_at(FORMS[kind](own.ticket_id, own.order, reply_view), own.read_at)


def state_refusal(kind: str, order: ActionableOrder) -> str | None:
    """Why the order's state rules the action out, in words; None when it doesn't."""
    cancelled = order.cancelled_at is not None
    if applies_to(kind, order.fulfillment_status, order.financial_status, cancelled):
        if kind == "reship" and not order.line_items:
            return f"{order.name} has no items to send again."
        if kind == "discount" and not order.customer_id:
            return f"{order.name} has no customer in Shopify to give a code to."
        return None
    if cancelled:
        return f"{order.name} is cancelled."
    if kind == "refund":
        return f"{order.name} is {status_word(order.financial_status)}: nothing to refund."
    return (
        f"{order.name} is {status_word(order.fulfillment_status)}: only an unfulfilled order "
        f"can be {'cancelled' if kind == 'cancel' else 'given a new address'}."
    )


def _discount_form(ticket_id: int, order: ActionableOrder, reply_view: str | None) -> dict:
    expires = (utcnow() + timedelta(days=DISCOUNT_DAYS)).date()
    return discount_modal(
        DiscountFor.of(ticket_id, order, reply_view), DiscountForm(new_code(), expires=expires)
    )


FORMS: dict[str, Callable[[int, ActionableOrder, str | None], dict]] = {
    "cancel": lambda ticket_id, order, _: cancel_modal(ticket_id, order),
    "address": lambda ticket_id, order, _: address_modal(ticket_id, order),
    "reship": lambda ticket_id, order, _: reship_modal(ticket_id, order),
    "discount": _discount_form,
}
