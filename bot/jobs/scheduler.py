"""Scheduled work (APScheduler 3, in memory): it only triggers the core; state lives in the
database, so a restart or a second process loses and doubles nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from bot.config import Policy
from bot.core.context import Desk
from bot.jobs.chat_followup import FOLLOW_UP_SECONDS, email_unseen_chat_replies
from bot.jobs.daily_digest import run_daily_digest
from bot.jobs.escalation_reminders import remind_unacknowledged
from bot.jobs.figures_roll_up import ROLL_UP_SECONDS, roll_up_closed_days
from bot.jobs.nps_surveys import NPS_SWEEP_SECONDS, send_due_nps
from bot.jobs.reply_expiry import EXPIRY_SWEEP_SECONDS, expire_replies
from bot.jobs.sla_alerts import run_sla_sweep
from bot.jobs.snooze_wakeups import WAKE_SWEEP_SECONDS, wake_snoozed
from bot.monitoring.counters import Counters

REMINDER_SWEEP_SECONDS = 60


def build_scheduler(
    engine: Engine,
    policy: Policy,
    desk: Desk,
    escalation_channel: str | None,
    digest_channel: str | None,
    support_address: str | None = None,
    counters: Counters | None = None,
) -> BackgroundScheduler:
    # Missed runs (a stopped process, a busy machine) collapse into one run as soon as
    # possible: each job works from the database's state, so one late run catches up fully.
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    scheduler.add_job(
        run_sla_sweep,
        "interval",
        seconds=policy.sla.sweep_every.total_seconds(),
        args=[engine, desk.sla, escalation_channel],
        kwargs={"counters": counters},
        id="sla_sweep",
        next_run_time=datetime.now(UTC),  # at start-up too: what fell due while down goes now
    )
    scheduler.add_job(
        remind_unacknowledged,
        "interval",
        seconds=REMINDER_SWEEP_SECONDS,
        args=[engine, policy.escalation.unacknowledged_after],
        id="escalation_reminders",
    )
    scheduler.add_job(
        wake_snoozed,
        "interval",
        seconds=WAKE_SWEEP_SECONDS,
        args=[engine, desk],
        id="snooze_wakeups",
        next_run_time=datetime.now(UTC),  # at start-up too: snoozes that ended while down
    )
    scheduler.add_job(
        expire_replies,
        "interval",
        seconds=EXPIRY_SWEEP_SECONDS,
        args=[engine],
        id="reply_expiry",
    )
    scheduler.add_job(
        roll_up_closed_days,
        "interval",
        seconds=ROLL_UP_SECONDS,
        args=[engine, policy.timezone],
        id="daily_figures",
        next_run_time=datetime.now(UTC),  # at start-up too: stats read stored days at once
    )
    if desk.nps is not None:
        scheduler.add_job(
            send_due_nps,
            "interval",
            seconds=NPS_SWEEP_SECONDS,
            args=[engine, desk.nps],
            id="nps_surveys",
            next_run_time=datetime.now(UTC),  # at start-up too: surveys that came due while down
        )
    if support_address:
        scheduler.add_job(
            email_unseen_chat_replies,
            "interval",
            seconds=FOLLOW_UP_SECONDS,
            args=[engine, support_address, policy.chat.away_after],
            id="chat_follow_up",
        )
    if digest_channel:
        hour, minute = (int(part) for part in policy.digest.time.split(":"))
        digest_args = [engine, digest_channel, policy]
        scheduler.add_job(
            run_daily_digest,
            CronTrigger(hour=hour, minute=minute, timezone=policy.timezone),
            args=digest_args,
            id="daily_digest",
        )
        scheduler.add_job(  # once, now
            run_daily_digest, args=digest_args, kwargs={"catching_up": True}, id="digest_catch_up"
        )
    return scheduler
