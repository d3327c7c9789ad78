"""Who the customer is: the root's History button, its pages, and `/helpdesk customer`.

Tickets come from storage; links to their threads and, with Shopify, the customer's orders
are added after the database session is closed, since either may wait on a network call.
The modal opens with the tickets first and gets the orders in an update, so a slow shop
never costs the click its trigger.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.customer_links import ShopifyOwner, owner_of
from bot.core.visitors import reachable
from bot.handlers.slack.common import metadata_of, services_of, tell, ticket_of_action
from bot.handlers.slack.permalinks import Permalinks
from bot.handlers.slack.services import Services
from bot.integrations.customer_orders import own_orders
from bot.integrations.shopify import ShopifyError
from bot.read_models.customer_history import history_page
from bot.storage import queries
from bot.storage.models import Customer, Ticket, utcnow
from bot.views import ids
from bot.views.customer_context import order_line
from bot.views.customer_history import (
    CUSTOMERS_LISTED,
    ORDERS_SHOWN,
    HistoryPage,
    customer_answer,
    customers_answer,
    history_modal,
)
from bot.views.text import customer_label

log = logging.getLogger(__name__)

CUSTOMER_USAGE = "Whom? `/helpdesk customer jane@example.com` or `/helpdesk customer Jane`."


def register(app: App) -> None:
    app.action(ids.TICKET_HISTORY)(on_ticket_history)
    app.action(ids.CUSTOMER_HISTORY)(on_customer_history)
    app.action(ids.HISTORY_PAGE)(on_history_page)


def on_ticket_history(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    with Session(helpdesk.reader) as session:
        ticket = ticket_of_action(session, body["actions"][0])
        if ticket is None:
            tell(client, body, "This ticket no longer exists.")
            return
        page = _page(session, ticket.customer_id, 0, ticket.id)
        owner = owner_of(session, ticket) if helpdesk.shopify else None
    page = _linked(helpdesk.permalinks, page)
    view_id = _open(client, body, page)
    if owner is not None:
        client.views_update(
            view_id=view_id, view=history_modal(_with_orders(helpdesk, page, owner))
        )


def on_customer_history(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    raw = body["actions"][0].get("value", "")
    with Session(helpdesk.reader) as session:
        page = _page(session, int(raw), 0, None) if raw.isdigit() else None
    if page is None:
        tell(client, body, "That customer is no longer in the helpdesk.")
        return
    _open(client, body, _linked(helpdesk.permalinks, page))


def on_history_page(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    view = body["view"]
    metadata = metadata_of(view)
    raw = body["actions"][0].get("value", "")
    with Session(helpdesk.reader) as session:
        page = _page(
            session, metadata.get("customer_id", 0), int(raw) if raw.isdigit() else 0,
            metadata.get("leaving_out"),
        )  # fmt: skip
        ticket = session.get(Ticket, metadata.get("leaving_out") or 0)
        owner = owner_of(session, ticket) if helpdesk.shopify and ticket and page else None
    if page is None:
        return
    page = _linked(helpdesk.permalinks, page)
    if owner is not None and page.page == 0:
        page = _with_orders(helpdesk, page, owner)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=history_modal(page))


def customer(ack: Ack, services: Services, query: str) -> None:
    """`/helpdesk customer <email or name>`, answered privately in the ack: two queries on
    indexes, well inside Slack's three seconds (the links need no call once the workspace's
    address is known)."""
    if not query:
        ack(CUSTOMER_USAGE)
        return
    with Session(services.reader) as session:
        found = queries.find_customers(session, query, CUSTOMERS_LISTED + 1)
        page = _page(session, found[0].id, 0, None) if len(found) == 1 else None
        labels = [customer_label(c.name, reachable(c.email)) for c in found]
    if page is None:
        ack(**customers_answer(query, labels))
        return
    ack(**customer_answer(_linked(services.permalinks, page)))


def _page(session: Session, customer_id: int, page: int, leaving_out: int | None):
    customer_row = session.get(Customer, customer_id)
    if customer_row is None:
        return None
    ticket = session.get(Ticket, leaving_out) if leaving_out else None
    return history_page(session, customer_row, page, leaving_out=ticket, now=utcnow())


def _linked(permalinks: Permalinks, page: HistoryPage) -> HistoryPage:
    entries = [replace(e, permalink=permalinks.thread(*e.thread)) for e in page.entries]
    return replace(page, entries=entries)


def _open(client: WebClient, body: dict, page: HistoryPage) -> str:
    return client.views_open(trigger_id=body["trigger_id"], view=history_modal(page))["view"]["id"]


def _with_orders(helpdesk: Services, page: HistoryPage, owner: ShopifyOwner) -> HistoryPage:
    try:
        orders = own_orders(helpdesk.shopify, owner)
    except ShopifyError as problem:
        log.warning("no orders for the History of customer %s: %s", page.customer_id, problem)
        return replace(page, orders_note=f"Shopify: {problem}")
    return replace(page, order_lines=[order_line(order) for order in orders[:ORDERS_SHOWN]])
