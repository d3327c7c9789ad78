"""Re-announces escalations nobody took within the policy's `unacknowledged_after`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.core.escalation import reannounce_unacknowledged
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


def remind_unacknowledged(
    engine: Engine,
    after: timedelta,
    now: datetime | None = None,
) -> int:
    with transaction(engine) as session:
        announced = reannounce_unacknowledged(session, now or utcnow(), after)
    if announced:
        log.info("re-announced %d escalation(s) nobody took", announced)
    return announced
