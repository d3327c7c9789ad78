"""A resolved ticket schedules its NPS survey; reopening it cancels one not sent yet
(registered when NPS is on)."""

from __future__ import annotations

from sqlmodel import Session

from bot.core import nps
from bot.core.context import Change, Desk
from bot.core.tickets import resolved_now
from bot.storage.models import Ticket
from bot.storage.queries import ACTIVE


def schedule_nps(session: Session, desk: Desk, ticket: Ticket, change: Change) -> None:
    if resolved_now(ticket, change):
        nps.schedule(session, ticket, desk.nps, ticket.solved_at)
    elif change.field == "status" and change.new in ACTIVE:
        nps.cancel(session, ticket)
