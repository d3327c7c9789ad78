"""Emails chat replies the visitor left without seeing; scheduled every half minute."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.core.chat import email_unseen_replies
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

FOLLOW_UP_SECONDS = 30


def email_unseen_chat_replies(
    engine: Engine,
    support_address: str,
    away_after: timedelta,
    now: datetime | None = None,
) -> int:
    with transaction(engine) as session:
        count = email_unseen_replies(session, support_address, away_after, now or utcnow())
    if count:
        log.info("chat: emailing %d reply(ies) to visitors who had left", count)
    return count
