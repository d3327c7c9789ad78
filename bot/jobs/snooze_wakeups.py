"""Reopens tickets whose "Pending until…" time has come."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from bot.core.context import Desk
from bot.core.snooze import wake_due
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

WAKE_SWEEP_SECONDS = 30


def wake_snoozed(engine: Engine, desk: Desk, now: datetime | None = None) -> int:
    with transaction(engine) as session:
        woken = wake_due(session, desk, now or utcnow())
    if woken:
        log.info("reopened %d ticket(s) whose pending time ended", woken)
    return woken
