"""A solved ticket offers its customer a satisfaction survey (registered when surveys are on)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import csat
from bot.core.context import Change, Desk
from bot.storage.models import Ticket, TicketStatus


def offer_survey(session: Session, desk: Desk, ticket: Ticket, change: Change) -> None:
    if change.field == "status" and change.new == TicketStatus.SOLVED:
        csat.offer_survey(session, ticket, desk.surveys, ticket.solved_at)
