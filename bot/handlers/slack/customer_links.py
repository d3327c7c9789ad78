"""Linking a ticket to the Shopify customer of an order someone quoted, once they prove it.

The button sits on the thread's Shopify post, beside the masked line about the order. The
agent types what the person told them; Shopify is asked after the acknowledgement (it may
take longer than Slack's three seconds), and the modal then shows the outcome. The rules,
the event log and the lock are the core's (`bot.core.customer_links`).
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import select

from bot.core.customer_links import (
    ALREADY_LINKED,
    NO_PROOF,
    LinkRefused,
    link_on_proof,
    tries_left,
)
from bot.handlers.slack.common import metadata_of, services_of, tell
from bot.handlers.slack.orders import ORDER_NUMBER
from bot.handlers.slack.services import Services
from bot.handlers.slack.shop_actions import NOT_CONNECTED
from bot.integrations.shopify import ShopifyError
from bot.storage.db import transaction
from bot.storage.models import Ticket
from bot.views import ids
from bot.views.customer_link import checking, link_modal, linked

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.action(ids.SHOPIFY_LINK)(on_link_button)
    app.view(ids.SHOPIFY_LINK_MODAL)(on_proof_submitted)


def on_link_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    if helpdesk.shopify is None:
        tell(client, body, NOT_CONNECTED)
        return
    raw_ticket, _, order = (body["actions"][0].get("value") or "").partition(":")
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, int(raw_ticket)) if raw_ticket.isdigit() else None
        number = ticket.number if ticket else None
    if number is None or not ORDER_NUMBER.match(order):
        tell(client, body, "That ticket no longer exists.")
        return
    if ticket.shopify_customer_id:
        tell(client, body, ALREADY_LINKED)
        return
    client.views_open(trigger_id=body["trigger_id"], view=link_modal(ticket.id, number, order))


def on_proof_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    view, agent = body["view"], body["user"]["id"]
    metadata = metadata_of(view)
    named = ORDER_NUMBER.match(str(metadata.get("order", "")))
    order = f"#{int(named.group(1))}" if named else ""
    typed = (view["state"]["values"].get(ids.SHOPIFY_PROOF_BLOCK) or {}).get(ids.SHOPIFY_PROOF)
    given = ((typed or {}).get("value") or "").strip()
    refused = None
    # Who may act is decided once, by gate.admit_agents, before any listener runs.
    if helpdesk.shopify is None:
        refused = NOT_CONNECTED
    elif not given:
        refused = NO_PROOF
    elif not order:
        refused = "This form names no order; open it again from the Shopify post."
    if refused:
        ack(response_action="errors", errors={ids.SHOPIFY_PROOF_BLOCK: refused})
        return
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata.get("ticket_id", 0))
        if ticket is None:
            ack(
                response_action="errors",
                errors={ids.SHOPIFY_PROOF_BLOCK: "This ticket no longer exists."},
            )
            return
        ticket_id, number = ticket.id, ticket.number
    ack(response_action="update", view=checking(ticket_id, number, order))
    try:
        outcome = _check(helpdesk, ticket_id, order, given, agent)
    except Exception:
        # Acknowledged already: without this the modal would say "Checking…" for ever.
        log.exception("ticket #%s: could not check a claim to order %s", number, order)
        outcome = LinkRefused("The helpdesk could not check that, so nothing changed: try again.")
    if isinstance(outcome, str):
        client.views_update(view_id=view["id"], view=linked(ticket_id, number, order, outcome))
        return
    log.info("ticket #%s: not linked to the customer of %s: %s", number, order, outcome)
    client.views_update(view_id=view["id"], view=link_modal(ticket_id, number, order, str(outcome)))


def _check(
    helpdesk: Services, ticket_id: int, order: str, given: str, agent: str
) -> str | LinkRefused:
    """The kind of proof that linked the ticket, or why it wasn't linked."""
    try:
        proof = helpdesk.shopify.order_proof(order)
    except ShopifyError as problem:
        return LinkRefused(f"Nothing changed: {problem}")
    if proof is None:
        return LinkRefused(f"Order {order} was not found in Shopify.")
    answers = {"email": proof.emails, "postcode": proof.postcodes}
    with transaction(helpdesk.engine) as session:
        # Locked, so two answers at once can't both slip under the limit of wrong ones.
        ticket = session.exec(
            select(Ticket).where(Ticket.id == ticket_id).with_for_update()
        ).first()
        if ticket is None:
            return LinkRefused("This ticket no longer exists.")
        try:
            kind = link_on_proof(
                session, ticket, order=order, shopify_id=proof.customer_id,
                answers=answers, given=given, agent=agent,
            )  # fmt: skip
        except LinkRefused as refused:
            return refused
        if kind is None:
            left = tries_left(session, ticket, proof.customer_id)
            more = f"{left} more {'try' if left == 1 else 'tries'}" if left else "no more tries"
            return LinkRefused(
                f"That is not what Shopify has for order {order}: {more} before linking "
                "is locked for a day."
            )
    return kind
