"""The daily digest: claimed once per day and channel, posted through the outbox.

Scheduled at `digest.time` in the policy's zone. The `digest_runs` row, unique per day and
channel and written in the transaction that enqueues the post, makes every extra run (another
process, a restart) a no-op. A process started after digest time catches up on yesterday's
digest only if the day before's was sent: a restart across 09:00 loses nothing, and a first
installation does not post a digest nobody asked for.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.config import Policy, Settings
from bot.core import metrics, outbox
from bot.storage.db import transaction
from bot.storage.models import DigestRun, OutboxItem, utcnow

log = logging.getLogger(__name__)


def digest_channel(settings: Settings, policy: Policy) -> str | None:
    return policy.digest.channel or settings.digest_channel


def due_day(now: datetime, zone: ZoneInfo, at: str) -> date | None:
    """Yesterday (local), once today's digest time has come; None before it."""
    hour, minute = (int(part) for part in at.split(":"))
    if now.astimezone(zone).time() < time(hour, minute):
        return None
    return metrics.yesterday(now, zone)


def enqueue_digest(engine: Engine, day: date, channel: str, timezone: str) -> bool:
    """False when the day's digest for the channel was already enqueued, by anyone."""
    try:
        with transaction(engine) as session:
            session.add(DigestRun(day=day, channel=channel))
            session.flush()  # the unique (day, channel) is checked here, before the post exists
            outbox.post_digest(session, day, channel, timezone)
    except IntegrityError:
        return False
    return True


def run_daily_digest(
    engine: Engine,
    channel: str,
    policy: Policy,
    now: datetime | None = None,
    *,
    catching_up: bool = False,
) -> date | None:
    """Enqueues yesterday's digest if it is due and not sent yet; returns the day enqueued.

    Catching up (at start-up), only if the day before's digest was sent.
    """
    day = due_day(now or utcnow(), ZoneInfo(policy.timezone), policy.digest.time)
    if day is None or (catching_up and not _was_sent(engine, day - timedelta(days=1), channel)):
        return None
    if not enqueue_digest(engine, day, channel, policy.timezone):
        return None
    log.info("digest of %s enqueued for %s", day, channel)
    return day


def _was_sent(engine: Engine, day: date, channel: str) -> bool:
    with Session(engine) as session:
        found = session.exec(
            select(DigestRun.id).where(DigestRun.day == day, DigestRun.channel == channel)
        ).first()
    return found is not None


def digest_outbox_row(engine: Engine, day: date, channel: str) -> OutboxItem | None:
    with Session(engine) as session:
        return session.exec(
            select(OutboxItem).where(
                OutboxItem.kind == outbox.SLACK_DIGEST,
                OutboxItem.payload["day"].as_string() == day.isoformat(),
                OutboxItem.payload["channel"].as_string() == channel,
            )
        ).first()
