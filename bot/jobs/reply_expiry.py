"""Forgets Reply modals left open past the timeout, so their roots stop saying "is replying"."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from bot.core import replying
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

EXPIRY_SWEEP_SECONDS = 60


def expire_replies(engine: Engine, now: datetime | None = None) -> int:
    with transaction(engine) as session:
        expired = replying.expire(session, now or utcnow())
    if expired:
        log.info("forgot %d Reply modal(s) open longer than %s", expired, replying.TIMEOUT)
    return expired
