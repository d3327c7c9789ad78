"""The Cancel order, Change address, Reship and Discount forms submitted.

A submission is checked here, locally, and answered with field errors when wrong; else the
form turns into "Cancelling #1001…" and the action is recorded (`record_action`: within the
agent's limits it is queued, over them it waits for an approver, which the modal then says).
Shopify is asked only by the outbox (bot/deliverers/), which shows its answer in this same
modal: the outcome, or the form again with Shopify's refusals under their fields.
The modal's id is the request's key: a double click or Slack's retry is the same action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.customer_links import owner_of
from bot.core.shop_actions import ActionKind, ActionRequest
from bot.handlers.slack.common import metadata_of, services_of
from bot.handlers.slack.order_actions import kept_reply_draft
from bot.handlers.slack.services import Services
from bot.handlers.slack.shop_actions import NOT_THEIRS, limit_groups, record_action
from bot.storage.models import Ticket, utcnow
from bot.views import ids
from bot.views.address_modal import address_from, address_params, read_address
from bot.views.cancel_modal import read_cancel
from bot.views.discount_modal import read_discount
from bot.views.reship_modal import read_reship, reship_params
from bot.views.shop_action_menu import action_in_progress, action_refused

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.view(ids.SHOP_CANCEL_MODAL)(on_cancel_submitted)
    app.view(ids.SHOP_ADDRESS_MODAL)(on_address_submitted)
    app.view(ids.SHOP_RESHIP_MODAL)(on_reship_submitted)
    app.view(ids.SHOP_DISCOUNT_MODAL)(on_discount_submitted)


def on_cancel_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    form, problems = read_cancel(body["view"]["state"]["values"])
    submit(
        ack,
        body,
        client,
        context,
        ActionKind.CANCEL,
        problems,
        lambda _: form.params(),
        "Cancelling {order}…",
    )


def on_address_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    address, problems = read_address(body["view"]["state"]["values"])
    params = address_params(address, address_from(metadata_of(body["view"]).get("old")))
    submit(
        ack,
        body,
        client,
        context,
        ActionKind.ADDRESS,
        problems,
        lambda _: params,
        "Changing the address of {order}…",
    )


def on_reship_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    metadata = metadata_of(body["view"])
    chosen, problems = read_reship(body["view"]["state"]["values"], metadata)
    submit(
        ack,
        body,
        client,
        context,
        ActionKind.RESHIP,
        problems,
        lambda _: reship_params(metadata, chosen),
        "Making the replacement order for {order}…",
    )


def on_discount_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    metadata = metadata_of(body["view"])
    currency = metadata.get("currency") or ""
    form, problems = read_discount(body["view"]["state"]["values"], currency, utcnow().date())

    def params(ticket_number: int) -> dict:
        made = form.params(
            currency, metadata.get("customer_id") or "", f"Helpdesk ticket #{ticket_number}"
        )
        made["customer_email"] = metadata.get("customer_email")
        reply = kept_reply_draft(helpdesk, metadata.get("reply_view"))
        return {**made, "reply": reply} if reply else made

    submit(
        ack,
        body,
        client,
        context,
        ActionKind.DISCOUNT,
        problems,
        params,
        f"Creating the code {form.code}…",
        subject=form.code,
    )


def submit(
    ack: Ack,
    body: dict,
    client: WebClient,
    context,
    kind: ActionKind,
    problems: Mapping[str, str],
    params: Callable[[int], dict],
    progress: str,
    subject: str | None = None,
) -> None:
    """Field errors; or the modal showing the action in progress, then the action recorded
    (`record_action` tells the modal if it waits for an approver or is refused). `params`
    makes the action's parameters given the ticket's number."""
    if problems:
        ack(response_action="errors", errors=dict(problems))
        return
    helpdesk: Services = services_of(context)
    view, agent = body["view"], body["user"]["id"]
    metadata = metadata_of(view)
    order_name = str(metadata.get("order_name") or "")
    with Session(helpdesk.reader) as session:
        ticket = session.get(Ticket, metadata.get("ticket_id", 0))
        owner = owner_of(session, ticket) if ticket else None
        number = ticket.number if ticket else 0
    # Checked again: the ticket may have been unlinked from the order's customer since.
    if owner is None or not owner.owns(metadata.get("customer_id"), metadata.get("customer_email")):
        log.info("shop action %s on %s refused: not the ticket's customer's", kind, order_name)
        ack(response_action="update", view=action_refused(kind.value, NOT_THEIRS))
        return
    ack(
        response_action="update",
        view=action_in_progress(kind.value, progress.format(order=order_name)),
    )
    request = ActionRequest(
        ticket_id=ticket.id,
        kind=kind,
        requested_by=agent,
        # A form shown again after Shopify refused it is a new request: its hash is new.
        request_key=f"view:{view['id']}:{view.get('hash', '')}",
        order_id=metadata.get("order_id"),
        order_name=order_name,
        params=params(number),
        currency=metadata.get("currency"),
        groups=limit_groups(helpdesk, agent),
        view_id=view["id"],
        subject=subject,
        # A code is for the customer whatever else happened to the order meanwhile.
        order_seen_at=None if kind == ActionKind.DISCOUNT else _seen_at(metadata),
    )
    record_action(client, helpdesk, request)


def _seen_at(metadata: dict) -> datetime | None:
    """When the form's order was read (None for a form shown again after Shopify refused it:
    that refusal is the newest look)."""
    try:
        return datetime.fromisoformat(metadata["seen_at"])
    except (KeyError, TypeError, ValueError):
        return None
