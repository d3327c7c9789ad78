"""The Orders modal: look up a Shopify order by number, or a customer's orders by email."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.integrations.shopify import Customer, Order
from bot.views import ids
from bot.views.customer_context import link, mask_name, order_line
from bot.views.elements import context, plain
from bot.views.shop_action_menu import missing_scopes_note, order_menu
from bot.views.text import escape_mrkdwn, truncate


def order_lookup_modal(
    ticket_id: int,
    number: int,
    query: str = "",
    found: list[dict] | None = None,
    submit: bool = True,
) -> dict:
    """`found`: result blocks from `order_results`, shown under the search box."""
    search = {
        "type": "plain_text_input",
        "action_id": ids.ORDER_LOOKUP,
        "max_length": 320,
        "placeholder": plain("#1001, or jane@example.com"),
    }
    if query:
        search["initial_value"] = query
    view = {
        "type": "modal",
        "callback_id": ids.ORDER_LOOKUP_MODAL,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": plain(truncate(f"Orders · #{number}", 24)),
        "close": plain("Done"),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.ORDER_LOOKUP_BLOCK,
                "label": plain("Order number or customer email"),
                "element": search,
            },
            *(found or []),
        ],
    }
    if submit:
        view["submit"] = plain("Look up")
    return view


def looking_up(ticket_id: int, number: int, query: str) -> dict:
    """Shown at once while Shopify answers: Slack wants an answer within three seconds."""
    return order_lookup_modal(
        ticket_id,
        number,
        query,
        [context(":hourglass_flowing_sand: Asking Shopify…")],
        submit=False,
    )


@dataclass(frozen=True)
class ActionOffer:
    """The Shopify actions an agent may take on the ticket's customer's orders: the token's
    (kind → None, or the scope it lacks), and those the policy lets this agent take without
    an approver (the others are offered as needing approval)."""

    ticket_id: int
    available: Mapping[str, str | None]
    allowed: Collection[str]


def order_results(
    query: str, orders: list[Order], customer: Customer | None, offer: ActionOffer | None = None
) -> list[dict]:
    """`offer`: each order gets a ⋯ menu of the actions its state allows (they are the
    ticket's customer's: the caller checked)."""
    blocks: list[dict] = [{"type": "divider"}]
    if customer is not None:
        facts = (
            f"*{link(customer.admin_url, customer.name or 'Unnamed customer')}* · "
            f"{customer.orders_count:,} orders · {escape_mrkdwn(str(customer.total_spent))} spent"
        )
        blocks.append(_section(facts))
    if not orders:
        blocks.append(context(f"No orders found for {escape_mrkdwn(query)}."))
    for order in orders[:20]:
        menu = offer and order_menu(offer.ticket_id, order, offer.available, offer.allowed)
        blocks.append({**_section(order_line(order)), **({"accessory": menu} if menu else {})})
    note = missing_scopes_note(offer.available) if offer and orders else None
    return blocks + ([note] if note else [])


def not_theirs(order: Order) -> list[dict]:
    """Another customer's order: its number and a masked name, nothing else of it."""
    return [
        {"type": "divider"},
        context(
            f":lock: Order {escape_mrkdwn(order.name)} belongs to a different customer "
            f"({mask_name(order.customer_name)}), so nothing of it is shown. If it is the "
            "customer's, link the ticket to them from the Shopify post in the thread."
        ),
    ]


def lookup_problem(problem: str) -> list[dict]:
    return [{"type": "divider"}, context(f":warning: {escape_mrkdwn(problem)}")]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}
