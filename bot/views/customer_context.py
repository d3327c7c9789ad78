"""Who the customer is to the shop, posted in the ticket's thread: Shopify profile and orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from bot.integrations.shopify import Customer, Order
from bot.views import ids
from bot.views.elements import button, context
from bot.views.shop_action_menu import missing_scopes_note, order_menu
from bot.views.text import FALLBACK_TEXT_LIMIT, escape_mrkdwn, truncate

# A line per order with its own ⋯ menu is a block per order; Slack allows a message 50.
MAX_ORDER_MENUS = 30
STATUS_WORDS = {"PARTIALLY_PAID": "partly paid", "PARTIALLY_REFUNDED": "partly refunded"}


def safe_url(url: str | None) -> str | None:
    """A URL fit for Slack's `<url|label>`: http(s) only, with `|`, `<` and `>` encoded."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def link(url: str | None, label: str) -> str:
    target = safe_url(url)
    label = escape_mrkdwn(label)
    return f"<{target}|{label}>" if target else label


def status_word(status: str | None) -> str:
    if not status:
        return "unknown"
    return STATUS_WORDS.get(status, status.replace("_", " ").lower())


def order_placeholders_of(order: Order) -> dict[str, str | None]:
    """`{{order.name}}`, `{{order.status}}` and `{{order.tracking_url}}` of one order, for a
    message to its own customer (plain text, not mrkdwn)."""
    tracking = next((t.url for t in order.tracking if t.url), None)
    return {
        "order.name": order.name,
        "order.status": (
            f"{status_word(order.financial_status)} and {status_word(order.fulfillment_status)}"
        ),
        "order.tracking_url": tracking,
    }


def order_line(order: Order) -> str:
    stamp = int(order.processed_at.timestamp())
    when = f"<!date^{stamp}^{{date_short}}|{order.processed_at:%Y-%m-%d}>"
    parts = [f"*{link(order.admin_url, order.name)}*", when]
    if order.cancelled:
        parts.append("*cancelled*")
    parts += [
        status_word(order.financial_status),
        status_word(order.fulfillment_status),
        escape_mrkdwn(str(order.total)),
    ]
    for tracking in order.tracking[:2]:
        number = tracking.number or "tracking"
        company = f" ({escape_mrkdwn(tracking.company)})" if tracking.company else ""
        parts.append(f":package: {link(tracking.url, number)}{company}")
    return " · ".join(parts)


@dataclass
class ContextPost:
    """What the thread's Shopify post shows about a ticket's customer."""

    ticket_id: int
    email: str | None  # the ticket's proven address; None for a chat visitor or a claim
    customers: list[Customer] = field(default_factory=list)  # theirs, and the linked one
    linked_id: str | None = None  # the customer an agent linked the ticket to, on proof
    quoted: list[Order] = field(default_factory=list)  # theirs, named, not among the recent
    foreign: list[Order] = field(default_factory=list)  # another customer's: masked
    not_found: list[str] = field(default_factory=list)
    claimed: str | None = None  # an address given but unproven: nothing of it is looked up
    claimed_in_chat: bool = False  # given by a chat visitor, else by an unverified sender
    # Shopify actions the token allows (kind → None, or the scope it lacks); None: none
    # offered. Each of the customer's own orders gets a ⋯ menu of those its state allows.
    actions: Mapping[str, str | None] | None = None


def mask_name(name: str | None) -> str:
    """A name shown as initials, "Jane Doe" as "J*** D***": enough to tell two customers
    apart, not to know who either is."""
    words = (name or "").split()
    return " ".join(f"{escape_mrkdwn(word[0])}***" for word in words) or "an unnamed customer"


def customer_context_text(post: ContextPost) -> str:
    if post.customers:
        customer = post.customers[0]
        return truncate(
            f"Shopify: {customer.name}, {customer.orders_count:,} orders, "
            f"{customer.total_spent} spent",
            FALLBACK_TEXT_LIMIT,
        )
    if post.quoted:
        return f"Shopify: orders {', '.join(order.name for order in post.quoted)}"
    if post.foreign:
        return "Shopify: the message names another customer's order"
    if post.claimed:
        return "Shopify: the address given is not verified"
    return "Shopify: no customer found"


def customer_context_blocks(post: ContextPost) -> list[dict]:
    blocks: list[dict] = [context(":shopping_bags: *Customer in Shopify*")]
    for customer in post.customers:
        blocks.append(_profile(customer))
        if customer.id == post.linked_id:
            blocks.append(context(":link: Linked to this ticket: the customer proved it."))
        if customer.recent_orders:
            blocks += _own_orders("Recent orders", customer.recent_orders, post)
        else:
            blocks.append(context("No orders yet."))
    if not post.customers and post.email:
        blocks.append(context(f"No Shopify customer has the address {escape_mrkdwn(post.email)}."))
    if post.claimed:
        how = "in live chat" if post.claimed_in_chat else "by an unverified sender"
        blocks.append(
            context(
                f":grey_question: {escape_mrkdwn(post.claimed)} was given {how} "
                "and is not verified, so nothing Shopify holds for it is shown: it will be once "
                "an email from that address arrives on this ticket, or the ticket is linked to "
                "the customer of an order they name, on proof."
            )
        )
    if post.quoted:
        blocks += _own_orders("Orders named in the message", post.quoted, post)
    blocks += [_foreign(post.ticket_id, order) for order in post.foreign]
    if post.not_found:
        missing = ", ".join(escape_mrkdwn(name) for name in post.not_found)
        blocks.append(context(f"Not found in Shopify: {missing}"))
    owns_orders = post.quoted or any(c.recent_orders for c in post.customers)
    note = missing_scopes_note(post.actions) if post.actions and owns_orders else None
    return blocks + ([note] if note else [])


def _own_order_count(post: ContextPost) -> int:
    return len(post.quoted) + sum(len(c.recent_orders) for c in post.customers)


def _own_orders(title: str, orders: Sequence[Order], post: ContextPost) -> list[dict]:
    """The customer's orders: one line each, and with actions, each its own ⋯ menu."""
    if post.actions is None or _own_order_count(post) > MAX_ORDER_MENUS:
        lines = "\n".join(order_line(order) for order in orders)
        return [_section(f"*{title}*\n{lines}")]
    blocks = [_section(f"*{title}*")]
    for order in orders:
        menu = order_menu(post.ticket_id, order, post.actions)
        blocks.append({**_section(order_line(order)), **({"accessory": menu} if menu else {})})
    return blocks


def _foreign(ticket_id: int, order: Order) -> dict:
    """Another customer's order: its number (the writer quoted it) and a masked name, no more.
    Linking the ticket to that customer needs the writer to prove it (the button)."""
    text = (
        f":lock: Order {escape_mrkdwn(order.name)}, named in the message, belongs to a "
        f"different customer ({mask_name(order.customer_name)}). Nothing of it is shown or "
        "can go into a reply unless the ticket is linked to them."
    )
    return {
        **_section(text),
        # The value names the ticket and the order: "42:#1001".
        "accessory": button("Link to this customer", ids.SHOPIFY_LINK, f"{ticket_id}:{order.name}"),
    }


def shopify_problem_blocks(problem: str) -> list[dict]:
    return [context(f":warning: Shopify order context is missing: {escape_mrkdwn(problem)}")]


def _profile(customer: Customer) -> dict:
    orders = f"{customer.orders_count:,} order{'' if customer.orders_count == 1 else 's'}"
    facts = [f"*{link(customer.admin_url, customer.name or 'Unnamed customer')}*", orders,
             f"{escape_mrkdwn(str(customer.total_spent))} spent"]  # fmt: skip
    if customer.email:
        facts.append(escape_mrkdwn(customer.email))
    if customer.tags:
        facts.append("tags " + ", ".join(f"`{escape_mrkdwn(tag)}`" for tag in customer.tags[:10]))
    return _section(" · ".join(facts))


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}
