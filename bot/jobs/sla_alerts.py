"""Runs the SLA sweep; scheduled every `sla.sweep_every`, and at start-up."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from bot.core.sla import SlaRules
from bot.core.sla_sweep import SweepResult, sweep
from bot.monitoring.counters import Counters
from bot.storage.db import transaction
from bot.storage.models import utcnow

log = logging.getLogger(__name__)


def run_sla_sweep(
    engine: Engine,
    rules: SlaRules,
    escalation_channel: str | None,
    now: datetime | None = None,
    counters: Counters | None = None,
) -> SweepResult:
    with transaction(engine) as session:
        result = sweep(session, rules, now or utcnow(), escalation_channel)
    if counters is not None:  # once committed: a sweep rolled back announced nothing
        counters.sla_swept(result.breaches, result.warnings)
    if result.breaches or result.warnings:
        log.info("SLA sweep: %d breach(es), %d warning(s)", result.breaches, result.warnings)
    return result
