"""A resolved ticket (solved, or closed as resolved) offers its customer a satisfaction survey
(registered when surveys are on)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import csat
from bot.core.context import Change, Desk
from bot.core.tickets import resolved_now
from bot.storage.models import Ticket


def offer_survey(session: Session, desk: Desk, ticket: Ticket, change: Change) -> None:
    if resolved_now(ticket, change):
        csat.offer_survey(session, ticket, desk.surveys, ticket.solved_at)
