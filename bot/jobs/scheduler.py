"""Scheduled work (APScheduler 3, in memory): it only triggers the core; state lives in the
database, so a restart or a second process loses and doubles nothing."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.config import Policy
from bot.jobs.escalation_reminders import remind_unacknowledged

REMINDER_SWEEP_SECONDS = 60


def build_scheduler(engine: Engine, policy: Policy, wake_outbox) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )
    scheduler.add_job(
        remind_unacknowledged,
        "interval",
        seconds=REMINDER_SWEEP_SECONDS,
        args=[engine, policy.escalation.unacknowledged_after, wake_outbox],
        id="escalation_reminders",
    )
    return scheduler
