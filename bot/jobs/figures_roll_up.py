"""Rolls up closed days' figures (`bot/core/daily_figures.py`); at start-up and every hour."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import daily_figures, metrics
from bot.storage.db import reader, transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

ROLL_UP_SECONDS = 3600


def roll_up_closed_days(engine: Engine, timezone: str, now: datetime | None = None) -> int:
    """Counts the days to keep in a read-only transaction, so that SQLite's writers don't
    wait on it, then stores them in a short one; returns how many were stored."""
    with Session(reader(engine)) as session:
        changes_seen = daily_figures.changes(session)
        days = metrics.closed_days_to_keep(session, ZoneInfo(timezone), now or utcnow())
    if not days:
        return 0
    with transaction(engine) as session:
        stored = daily_figures.keep(session, days, changes_seen)
    # Routine (hourly, and 30 days on a first start): not worth a line in the operator's log.
    log.debug("daily figures: %d of %d closed day(s) stored", stored, len(days))
    return stored
