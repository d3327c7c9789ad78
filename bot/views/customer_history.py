"""Who the customer is: their history in one line (on the root and atop the History modal),
the History modal with their other tickets, page by page, and `/helpdesk customer`'s answer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from bot.views import ids
from bot.views.elements import button, context, plain, section
from bot.views.text import escape_mrkdwn, slack_time, truncate

PAGE_SIZE = 20  # tickets per History page, a block each: well inside a modal's 100 blocks
ORDERS_SHOWN = 10
CUSTOMERS_LISTED = 10  # `/helpdesk customer` with a name several customers share


@dataclass(frozen=True)
class CustomerHistory:
    """A customer's past, gathered by the caller from storage."""

    tickets_before: int
    last_contact: datetime | None
    ratings: int
    average_rating: float | None
    shop_orders: int | None = None  # None: Shopify never looked them up
    shop_spent: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    number: int
    subject: str
    status: str
    created_at: datetime
    thread: tuple[str, str | None]  # channel and root ts, for the caller's link
    permalink: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    customer_id: int
    customer: str  # plain text: name and address
    history: CustomerHistory
    entries: list[HistoryEntry]
    page: int
    more: bool
    leaving_out: int | None = None  # the ticket the modal was opened from
    # With Shopify: their orders, each line rendered by `customer_context.order_line` (the
    # caller's, so that this module, which read models use, imports no Shopify client).
    order_lines: list[str] = field(default_factory=list)
    orders_note: str | None = None  # why orders aren't listed (Shopify down…)


def history_line(history: CustomerHistory, *, earlier: bool = True) -> str:
    """`earlier`: counting the tickets before the one shown (the root), not all of them."""
    if history.tickets_before == 0:
        parts = [":wave: First ticket from this customer" if earlier else ":wave: No tickets"]
    else:
        plural = "s" if history.tickets_before != 1 else ""
        kind = "earlier ticket" if earlier else "ticket"
        parts = [f":card_index_dividers: {history.tickets_before} {kind}{plural}"]
        if history.last_contact is not None:
            parts.append(f"last contact {slack_time(history.last_contact, '%Y-%m-%d')}")
    if history.ratings:
        average = f"{history.average_rating:.1f}".removesuffix(".0")
        parts.append(f"CSAT {average}/5 from {history.ratings}")
    if history.shop_orders is not None:
        plural = "s" if history.shop_orders != 1 else ""
        spent = f", {escape_mrkdwn(history.shop_spent)} spent" if history.shop_spent else ""
        parts.append(f":shopping_trolley: {history.shop_orders} order{plural}{spent}")
    return "  ·  ".join(parts)


def entry_line(entry: HistoryEntry) -> str:
    title = f"#{entry.number} {escape_mrkdwn(truncate(entry.subject, 120))}"
    link = f"<{entry.permalink}|{title}>" if entry.permalink else title
    return f"{link} · {entry.status} · {slack_time(entry.created_at, '%Y-%m-%d')}"


def history_metadata(page: HistoryPage) -> str:
    return json.dumps(
        {"customer_id": page.customer_id, "leaving_out": page.leaving_out, "page": page.page}
    )


def history_modal(page: HistoryPage) -> dict:
    heading = "Other tickets" if page.leaving_out is not None else "Tickets"
    blocks: list[dict] = [
        section(f"*{escape_mrkdwn(truncate(page.customer, 300))}*"),
        context(history_line(page.history, earlier=page.leaving_out is not None)),
        {"type": "header", "text": plain(heading, 150)},
    ]
    if not page.entries:
        blocks.append(context("None yet." if page.page == 0 else "No more tickets."))
    blocks += [section(entry_line(entry)) for entry in page.entries]
    pager = [
        *([button("Newer", ids.HISTORY_PAGE, str(page.page - 1))] if page.page > 0 else []),
        *([button("Older", ids.HISTORY_PAGE, str(page.page + 1))] if page.more else []),
    ]
    if pager:
        blocks.append({"type": "actions", "elements": pager})
    if page.order_lines or page.orders_note:
        blocks.append({"type": "header", "text": plain("Orders in Shopify", 150)})
        blocks += [section(line) for line in page.order_lines[:ORDERS_SHOWN]]
        if page.orders_note:
            blocks.append(context(escape_mrkdwn(page.orders_note)))
    return {
        "type": "modal",
        "callback_id": ids.HISTORY_MODAL,
        "private_metadata": history_metadata(page),
        "title": plain("History", 24),
        "close": plain("Close"),
        "blocks": blocks,
    }


def customer_answer(page: HistoryPage) -> dict:
    """`/helpdesk customer`'s private answer: who, their line, their latest tickets, and the
    History button for the rest."""
    blocks = [
        section(f"*{escape_mrkdwn(truncate(page.customer, 300))}*"),
        context(history_line(page.history, earlier=False)),
    ]
    blocks += [section(entry_line(entry)) for entry in page.entries]
    blocks.append(
        {
            "type": "actions",
            "elements": [button("History", ids.CUSTOMER_HISTORY, str(page.customer_id))],
        }
    )
    return {"text": truncate(f"Customer {escape_mrkdwn(page.customer)}", 300), "blocks": blocks}


def customers_answer(query: str, found: list[str]) -> dict:
    """No customer, or several, match `/helpdesk customer <query>`."""
    asked = f"`{escape_mrkdwn(truncate(query, 200))}`"
    if not found:
        text = f"No customer matches {asked}: try their full email address or part of their name."
        return {"text": text, "blocks": [section(text)]}
    text = f"Several customers match {asked}; ask again with one's email address:"
    lines = [escape_mrkdwn(truncate(label, 200)) for label in found[:CUSTOMERS_LISTED]]
    return {
        "text": text,
        "blocks": [section(text), section("\n".join(f"• {line}" for line in lines))],
    }
