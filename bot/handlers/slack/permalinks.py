"""Links to tickets' threads, and tickets as the lines of a list that links them."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.core.visitors import reachable
from bot.storage.models import Customer, Ticket
from bot.views.text import VISITOR
from bot.views.ticket_list import TicketLine

log = logging.getLogger(__name__)


class Permalinks:
    """Builds thread links from the workspace URL, asking Slack for it once per process.

    One `auth.test` instead of a `chat.getPermalink` per ticket keeps a list of forty
    tickets inside Slack's three seconds.
    """

    def __init__(self, client: WebClient):
        self._client = client
        self._workspace_url: str | None = None
        self._lock = threading.Lock()

    def thread(self, channel: str, thread_ts: str | None) -> str | None:
        """The thread's link; None before the root is posted or while Slack can't say."""
        workspace_url = self._workspace() if thread_ts else None
        if workspace_url is None:
            return None
        return f"{workspace_url}archives/{channel}/p{thread_ts.replace('.', '')}"

    def _workspace(self) -> str | None:
        with self._lock:
            if self._workspace_url is None:
                try:
                    url = self._client.auth_test()["url"]
                except (SlackApiError, OSError, KeyError) as exc:
                    # Lists still show, without links; the next one asks again.
                    log.warning("auth.test gave no workspace URL: %s", exc)
                    return None
                self._workspace_url = url if url.endswith("/") else f"{url}/"
            return self._workspace_url


def with_customers(session: Session, tickets: list[Ticket]) -> list[tuple[Ticket, Customer]]:
    """The tickets beside their customers, fetched in one query."""
    wanted = {ticket.customer_id for ticket in tickets}
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_(wanted)))}
    return [(ticket, customers[ticket.customer_id]) for ticket in tickets]


def ticket_lines(
    listed: list[tuple[Ticket, Customer]],
    permalinks: Permalinks,
    sla: dict[int, tuple[bool, datetime | None]] | None = None,
) -> list[TicketLine]:
    """List lines; called outside a database session, as it may wait on Slack for the links."""
    sla = sla or {}
    return [
        TicketLine(
            number=ticket.number,
            subject=ticket.subject,
            status=ticket.status,
            customer=customer.name or reachable(customer.email) or VISITOR,
            updated_at=ticket.updated_at,
            permalink=permalinks.thread(ticket.channel, ticket.thread_ts),
            sla_missed=sla.get(ticket.id, (False, None))[0],
            sla_due=sla.get(ticket.id, (False, None))[1],
        )
        for ticket, customer in listed
    ]
