"""Solving or closing a ticket ends its escalation (the tier has nothing left to take)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.context import Change, Desk
from bot.core.escalation import end_with_ticket
from bot.storage.models import Ticket, TicketStatus


def end_escalation(session: Session, _desk: Desk, ticket: Ticket, change: Change) -> None:
    if change.field == "status" and change.new in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        end_with_ticket(session, ticket, change.by)
