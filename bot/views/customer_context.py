"""Who the customer is to the shop, posted in the ticket's thread: Shopify profile and orders."""

from __future__ import annotations

from urllib.parse import quote

from bot.integrations.shopify import Customer, Order
from bot.views.elements import context
from bot.views.text import FALLBACK_TEXT_LIMIT, escape_mrkdwn, truncate

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


def customer_context_text(customer: Customer | None, quoted: list[Order]) -> str:
    if customer is None:
        found = ", ".join(order.name for order in quoted)
        return f"Shopify: orders {found}" if found else "Shopify: no customer found"
    return truncate(
        f"Shopify: {customer.name}, {customer.orders_count:,} orders, {customer.total_spent} spent",
        FALLBACK_TEXT_LIMIT,
    )


def customer_context_blocks(
    customer: Customer | None,
    email: str | None,
    quoted: list[Order],
    not_found: list[str],
) -> list[dict]:
    """`quoted`: orders the customer named that aren't among the recent ones shown."""
    blocks: list[dict] = [context(":shopping_bags: *Customer in Shopify*")]
    if customer is not None:
        blocks.append(_profile(customer))
        if customer.recent_orders:
            lines = "\n".join(order_line(order) for order in customer.recent_orders)
            blocks.append(_section(f"*Recent orders*\n{lines}"))
        else:
            blocks.append(context("No orders yet."))
    elif email:
        blocks.append(context(f"No Shopify customer has the address {escape_mrkdwn(email)}."))
    if quoted:
        lines = "\n".join(order_line(order) for order in quoted)
        blocks.append(_section(f"*Orders named in the message*\n{lines}"))
    if not_found:
        missing = ", ".join(escape_mrkdwn(name) for name in not_found)
        blocks.append(context(f"Not found in Shopify: {missing}"))
    return blocks


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
