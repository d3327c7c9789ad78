"""Shopify orders from Slack: the Orders modal, and an order's status inserted into a reply.

Shopify answers outside Slack's three seconds at worst, so nothing here waits on it before
acknowledging: the lookup modal shows "Asking Shopify…" and fills in when the answer comes,
and the reply modal's order menu loads its options from the cache-backed client.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.customer_links import ShopifyOwner, owner_of
from bot.core.tickets import customer_email
from bot.handlers.slack.common import (
    metadata_of,
    open_ticket_modal,
    services_of,
    tell,
)
from bot.handlers.slack.order_action_offer import action_offer
from bot.handlers.slack.replies import answer_of
from bot.handlers.slack.shop_actions import NOT_CONNECTED
from bot.integrations.customer_orders import belongs_to, own_orders
from bot.integrations.shopify import Order, ShopifyError
from bot.integrations.shopify_cache import CachedShopify
from bot.read_models.reply_draft import draft_for, with_addition
from bot.storage.db import transaction
from bot.storage.models import Ticket
from bot.views import ids
from bot.views.customer_context import status_word
from bot.views.elements import option
from bot.views.order_lookup import (
    ActionOffer,
    looking_up,
    lookup_problem,
    not_theirs,
    order_lookup_modal,
    order_results,
)
from bot.views.reply_modal import PickedOrder, reply_modal
from bot.views.shop_action_menu import offered_kinds
from bot.views.text import truncate

log = logging.getLogger(__name__)

ORDER_NUMBER = re.compile(r"^#?\s*(\d{1,12})$")


def register(app: App) -> None:
    app.action(ids.TICKET_ORDERS)(on_orders_button)
    app.view(ids.ORDER_LOOKUP_MODAL)(on_lookup_submitted)
    app.options(ids.REPLY_ORDER_PICK)(on_order_options)
    app.action(ids.REPLY_ORDER_PICK)(on_order_picked)


def on_orders_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    if services_of(context).shopify is None:
        tell(client, body, NOT_CONNECTED)
        return
    open_ticket_modal(
        client,
        body,
        context,
        lambda session, ticket: order_lookup_modal(
            ticket.id, ticket.number, customer_email(session, ticket) or ""
        ),
    )


def on_lookup_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    values = view["state"]["values"].get(ids.ORDER_LOOKUP_BLOCK, {})
    query = ((values.get(ids.ORDER_LOOKUP) or {}).get("value") or "").strip()
    if helpdesk.shopify is None:
        ack(response_action="errors", errors={ids.ORDER_LOOKUP_BLOCK: NOT_CONNECTED})
        return
    if not ORDER_NUMBER.match(query) and "@" not in query:
        ack(
            response_action="errors",
            errors={ids.ORDER_LOOKUP_BLOCK: "Type an order number such as #1001, or an email."},
        )
        return
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata_of(view).get("ticket_id", 0))
        if ticket is None:
            ack(
                response_action="errors",
                errors={ids.ORDER_LOOKUP_BLOCK: "This ticket no longer exists."},
            )
            return
        ticket_id, number, owner = ticket.id, ticket.number, owner_of(session, ticket)
    ack(response_action="update", view=looking_up(ticket_id, number, query))
    try:
        offer = action_offer(helpdesk, ticket_id, body["user"]["id"])
        found = _look_up(helpdesk.shopify, owner, query, offer)
    except ShopifyError as problem:
        found = lookup_problem(str(problem))
    client.views_update(
        view_id=view["id"], view=order_lookup_modal(ticket_id, number, query, found)
    )


def _look_up(
    shopify: CachedShopify, owner: ShopifyOwner, query: str, offer: ActionOffer | None
) -> list[dict]:
    """Only the ticket's customer's orders: another customer's is named, masked, no more;
    theirs with the ⋯ menu of the actions `offer` allows."""
    number = ORDER_NUMBER.match(query)
    if number:
        order = shopify.order_by_name(number.group(1))
        if order is not None and not belongs_to(order, owner):
            return not_theirs(order)
        return order_results(query, [order] if order else [], None, offer)
    customer = shopify.customer_by_email(query)
    if customer is None or not owner.owns(customer.id, customer.email):
        # The same answer whether Shopify knows the address or not.
        return lookup_problem(
            f"{query} is not the address of this ticket's customer: only their orders can be "
            "looked up here."
        )
    return order_results(query, list(customer.recent_orders), customer, offer)


def on_order_options(ack: Ack, body: dict, context) -> None:
    """The reply modal's order menu: the customer's recent orders, or the number typed."""
    helpdesk = services_of(context)
    if helpdesk.shopify is None:
        ack(options=[])
        return
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata_of(body.get("view") or {}).get("ticket_id", 0))
        owner = owner_of(session, ticket) if ticket else None
    if owner is None:
        ack(options=[])
        return
    typed = ORDER_NUMBER.match((body.get("value") or "").strip())
    try:
        if typed:
            order = helpdesk.shopify.order_by_name(typed.group(1))
            orders = [order] if order else []
        else:
            orders = own_orders(helpdesk.shopify, owner)
    except ShopifyError as problem:
        log.info("order menu: %s", problem)
        orders = []
    ack(options=[_menu_option(order, belongs_to(order, owner)) for order in orders])


def _menu_option(order: Order, own: bool) -> dict:
    if not own:
        # Named so the agent sees why it can't be inserted; never its details. Picking it
        # explains (on_order_picked refuses it like any other order not theirs).
        return option(f"{order.name}: a different customer's order", order.name)
    label = (
        f"{order.name} · {order.processed_at:%b %d, %Y} · "
        f"{status_word(order.financial_status)}, {status_word(order.fulfillment_status)}"
    )
    return option(truncate(label, 75), order.name)


def on_order_picked(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    view = body["view"]
    picked = (body["actions"][0].get("selected_option") or {}).get("value", "")
    if helpdesk.shopify is None or not picked:
        return
    metadata = metadata_of(view)
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata.get("ticket_id", 0))
        owner = owner_of(session, ticket) if ticket else None
    if owner is None:
        return
    _, answer = answer_of(view)
    version = metadata.get("version", 0)
    refusal = None
    try:
        order = helpdesk.shopify.order_by_name(picked)
    except ValueError:
        order, refusal = None, f"{picked} is not an order number."
    except ShopifyError as problem:
        order, refusal = None, f"Nothing inserted: {problem}"
    # Checked again here: the menu's values come back from the client and can be forged.
    if refusal is None and order is None:
        refusal = f"Order {picked} was not found in Shopify; nothing inserted."
    elif refusal is None and not belongs_to(order, owner):
        refusal = (
            f"{order.name} is not this customer's order, so nothing of it can go into the reply. "
            "If it is theirs, link the ticket to its customer from the Shopify post in the thread."
        )
    picked_order = None
    if refusal is None:
        answer = with_addition(answer, order.status_text())
        version += 1
        picked_order = _with_actions(helpdesk, ticket.id, order, body["user"]["id"])
    else:
        log.info("ticket %s: order %r not inserted: %s", ticket.id, picked, refusal)
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, ticket.id)
        draft = draft_for(
            session,
            ticket,
            helpdesk.reply_features,
            answer,
            version=version,
            notice=refusal,
            seen=metadata.get("seen"),
            picked=picked_order,
        )
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=reply_modal(draft))


def _with_actions(helpdesk, ticket_id: int, order: Order, agent: str) -> PickedOrder | None:
    """The order just inserted with the Shopify actions the agent may take on it, if any."""
    offer = action_offer(helpdesk, ticket_id, agent)
    if offer is None:
        return None
    kinds = offered_kinds(
        order.fulfillment_status, order.financial_status, order.cancelled, offer.available
    )
    if not kinds:
        return None
    return PickedOrder(order.id, order.name, tuple(kinds), tuple(sorted(offer.allowed)))
