"""Sends the NPS surveys that came due (bot/core/nps.py); scheduled every minute."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from bot.config import NpsPolicy
from bot.core.nps import send_due
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

NPS_SWEEP_SECONDS = 60


def send_due_nps(engine: Engine, policy: NpsPolicy, now: datetime | None = None) -> int:
    with transaction(engine) as session:
        sent = send_due(session, policy, now or utcnow())
    if sent:
        log.info("NPS: %d survey(s) sent", sent)
    return sent
