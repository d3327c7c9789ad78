"""The Cancel order, Change address, Reship and Discount forms submitted.

A submission is checked here, locally, and answered with field errors when wrong; else the
action is recorded (`bot.core.shop_actions.request_action`: within the agent's limits it is
queued, over them it waits for an approver) and the form turns into "Cancelling #1001…".
Shopify is asked only by the outbox (bot/deliverers/), which shows its answer in this same
modal: the outcome, or the form again with Shopify's refusals under their fields.
The modal's id is the request's key: a double click or Slack's retry is the same action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from slack_bolt import Ack, App

from bot.core.shop_actions import ActionKind, ActionRefused, ActionRequest, request_action
from bot.handlers.slack.common import metadata_of, services_of
from bot.handlers.slack.order_actions import groups_of, kept_reply_draft
from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views import ids
from bot.views.address_modal import address_from, address_params, field_block, read_address
from bot.views.cancel_modal import read_cancel
from bot.views.discount_modal import read_discount
from bot.views.reship_modal import line_block, read_reship, reship_params
from bot.views.shop_action_menu import action_in_progress

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.view(ids.SHOP_CANCEL_MODAL)(on_cancel_submitted)
    app.view(ids.SHOP_ADDRESS_MODAL)(on_address_submitted)
    app.view(ids.SHOP_RESHIP_MODAL)(on_reship_submitted)
    app.view(ids.SHOP_DISCOUNT_MODAL)(on_discount_submitted)


def on_cancel_submitted(ack: Ack, body: dict, context) -> None:
    form, problems = read_cancel(body["view"]["state"]["values"])
    _submit(
        ack,
        body,
        context,
        ActionKind.CANCEL,
        problems,
        lambda _: form.params(),
        ids.SHOP_CANCEL_REASON_BLOCK,
        "Cancelling {order}…",
    )


def on_address_submitted(ack: Ack, body: dict, context) -> None:
    address, problems = read_address(body["view"]["state"]["values"])
    old = address_from(metadata_of(body["view"]).get("old"))
    _submit(
        ack,
        body,
        context,
        ActionKind.ADDRESS,
        problems,
        lambda _: address_params(address, old),
        field_block("name"),
        "Changing the address of {order}…",
    )


def on_reship_submitted(ack: Ack, body: dict, context) -> None:
    metadata = metadata_of(body["view"])
    chosen, problems = read_reship(body["view"]["state"]["values"], metadata)
    _submit(
        ack,
        body,
        context,
        ActionKind.RESHIP,
        problems,
        lambda _: reship_params(metadata, chosen),
        line_block(0),
        "Making the replacement order for {order}…",
    )


def on_discount_submitted(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    metadata = metadata_of(body["view"])
    currency = metadata.get("currency") or ""
    values = body["view"]["state"]["values"]
    form, problems = read_discount(values, currency, utcnow().date())

    def params(ticket_number: int) -> dict:
        made = form.params(
            currency, metadata.get("customer_id") or "", f"Helpdesk ticket #{ticket_number}"
        )
        reply = kept_reply_draft(helpdesk, metadata.get("reply_view"))
        return {**made, "reply": reply} if reply else made

    _submit(
        ack,
        body,
        context,
        ActionKind.DISCOUNT,
        problems,
        params,
        ids.SHOP_DISCOUNT_CODE_BLOCK,
        f"Creating the code {form.code}…",
        subject=form.code,
    )


def _submit(
    ack: Ack,
    body: dict,
    context,
    kind: ActionKind,
    problems: Mapping[str, str],
    params: Callable[[int], dict],
    first_block: str,
    progress: str,
    subject: str | None = None,
) -> None:
    """Field errors, or the action recorded and the modal showing its progress. `params`
    makes the action's parameters given the ticket's number."""
    if problems:
        ack(response_action="errors", errors=dict(problems))
        return
    helpdesk: Services = services_of(context)
    view = body["view"]
    metadata = metadata_of(view)
    agent = body["user"]["id"]
    order_name = metadata.get("order_name") or ""
    try:
        with transaction(helpdesk.engine) as session:
            ticket = session.get(Ticket, metadata.get("ticket_id", 0))
            if ticket is None:
                raise ActionRefused("This ticket no longer exists.")
            requested = request_action(
                session,
                helpdesk.desk.policy,
                ActionRequest(
                    ticket_id=ticket.id,
                    kind=kind,
                    requested_by=agent,
                    request_key=f"view:{view['id']}:{view.get('hash', '')}",
                    order_id=metadata.get("order_id"),
                    order_name=order_name,
                    params=params(ticket.number),
                    currency=metadata.get("currency"),
                    groups=groups_of(helpdesk, agent),
                    view_id=view["id"],
                    subject=subject,
                ),
            )
            waiting = requested.awaiting_approval
            reasons = requested.over_limits
    except ActionRefused as refused:
        log.info("shop action %s on %s refused: %s", kind, order_name, refused)
        ack(response_action="errors", errors={first_block: str(refused)})
        return
    if waiting:
        text = f"Over your limits ({'; '.join(reasons)}): an approver has been asked."
    else:
        text = progress.format(order=order_name)
    ack(response_action="update", view=action_in_progress(kind.value, text))
