"""A customer as the History modal and `/helpdesk customer` show them: their line of figures
and one page of their tickets, read from storage (links to threads are the caller's to add:
they may need Slack)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core.visitors import reachable
from bot.read_models.ticket_summary import customer_history
from bot.storage.models import Customer, Ticket
from bot.storage.queries import customer_tickets
from bot.views.customer_history import PAGE_SIZE, HistoryEntry, HistoryPage
from bot.views.text import customer_label


def history_page(
    session: Session, customer: Customer, page: int, *, leaving_out: Ticket | None, now: datetime
) -> HistoryPage:
    """`leaving_out`: the ticket the History was opened from, not listed, and the figures
    counted before it; else all the customer's tickets."""
    page = max(0, page)
    rows = customer_tickets(
        session,
        customer.id,
        page,
        PAGE_SIZE,
        leaving_out=leaving_out.id if leaving_out else None,
    )
    history = customer_history(session, customer, leaving_out.created_at if leaving_out else now)
    return HistoryPage(
        customer_id=customer.id,
        customer=customer_label(customer.name, reachable(customer.email)),
        history=history,
        entries=[
            HistoryEntry(t.number, t.subject, t.status, t.created_at, (t.channel, t.thread_ts))
            for t in rows[:PAGE_SIZE]
        ],
        page=page,
        more=len(rows) > PAGE_SIZE,
        leaving_out=leaving_out.id if leaving_out else None,
    )
