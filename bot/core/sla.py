"""SLA clocks: started, paused, resumed, re-targeted and stopped as tickets change.

Every clock counts business time (see `business_time.BusinessCalendar`). While a clock runs,
`due_at` and `warn_at` hold the wall-clock instants of its breach and warning, so that the
sweep finds what is due with an indexed range query instead of computing every clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.config import Policy
from bot.core.business_time import BusinessCalendar
from bot.storage.models import SlaClock, Ticket

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
CLOCK_LABELS = {
    FIRST_RESPONSE: "First response",
    NEXT_RESPONSE: "Next response",
    RESOLUTION: "Resolution",
}


@dataclass(frozen=True)
class SlaRules:
    """The policy's targets and warning fraction with its business calendar."""

    policy: Policy
    calendar: BusinessCalendar

    @classmethod
    def from_policy(cls, policy: Policy) -> SlaRules:
        return cls(policy, BusinessCalendar.from_policy(policy))

    def target(self, priority: str, kind: str, vip: bool = False) -> timedelta | None:
        """A VIP's ticket has the `vip` section's target where it sets one."""
        vip_targets = self.policy.vip.sla if vip and self.policy.vip else None
        if vip_targets and getattr(vip_targets, kind) is not None:
            return getattr(vip_targets, kind)
        targets = getattr(self.policy.sla, priority, None)
        return getattr(targets, kind, None) if targets else None


def clocks_of(session: Session, ticket_id: int, *, active_only: bool = True) -> list[SlaClock]:
    statement = select(SlaClock).where(SlaClock.ticket_id == ticket_id)
    if active_only:
        statement = statement.where(SlaClock.stopped_at.is_(None))
    return list(session.exec(statement.order_by(SlaClock.id)))


def start(session: Session, rules: SlaRules, ticket: Ticket, kind: str, now: datetime) -> None:
    """Starts `kind` unless the policy sets no target for it or it already runs."""
    target = rules.target(ticket.priority, kind, ticket.vip)
    if target is None or any(c.kind == kind for c in clocks_of(session, ticket.id)):
        return
    clock = SlaClock(
        ticket_id=ticket.id,
        kind=kind,
        target_seconds=int(target.total_seconds()),
        started_at=now,
    )
    _run(rules, clock, now)
    session.add(clock)


def restart_from(
    session: Session, rules: SlaRules, ticket: Ticket, kind: str, since: datetime
) -> None:
    """The running `kind` counts from `since` instead (started then if none runs): a merge or
    a split changed which of the customer's messages has waited longest for an answer."""
    running = [clock for clock in clocks_of(session, ticket.id) if clock.kind == kind]
    if not running:
        start(session, rules, ticket, kind, since)
        return
    clock = running[0]
    clock.started_at, clock.consumed_seconds = since, 0
    _run(rules, clock, since)


def stop(session: Session, rules: SlaRules, ticket: Ticket, kinds: tuple[str, ...], now) -> None:
    for clock in clocks_of(session, ticket.id):
        if clock.kind in kinds:
            _pause(rules, clock, now)
            clock.stopped_at = now
            late = clock.breached or clock.consumed_seconds > clock.target_seconds
            clock.outcome = "breached" if late else "met"


def pause_all(session: Session, rules: SlaRules, ticket: Ticket, now: datetime) -> None:
    for clock in clocks_of(session, ticket.id):
        _pause(rules, clock, now)


def resume_all(session: Session, rules: SlaRules, ticket: Ticket, now: datetime) -> None:
    for clock in clocks_of(session, ticket.id):
        if clock.running_since is None:
            _run(rules, clock, now)


def reopen_resolution(session: Session, rules: SlaRules, ticket: Ticket, now: datetime) -> None:
    """A solved ticket reopened: its resolution clock goes on from where it stopped."""
    stopped = [c for c in clocks_of(session, ticket.id, active_only=False) if c.kind == RESOLUTION]
    if stopped and stopped[-1].stopped_at is not None:
        clock = stopped[-1]
        clock.stopped_at, clock.outcome = None, None
        _run(rules, clock, now)
    resume_all(session, rules, ticket, now)


def retarget(session: Session, rules: SlaRules, ticket: Ticket, now: datetime) -> None:
    """A new priority, or VIP: running clocks keep the time used and aim at the new target."""
    for clock in clocks_of(session, ticket.id):
        target = rules.target(ticket.priority, clock.kind, ticket.vip)
        if target is None:
            continue
        clock.target_seconds = int(target.total_seconds())
        if clock.running_since is not None:
            _pause(rules, clock, now)
            _run(rules, clock, now)


def _run(rules: SlaRules, clock: SlaClock, now: datetime) -> None:
    left = timedelta(seconds=max(0, clock.target_seconds - clock.consumed_seconds))
    warn_after = timedelta(seconds=clock.target_seconds * rules.policy.sla.warn_at)
    warn_left = max(timedelta(0), warn_after - timedelta(seconds=clock.consumed_seconds))
    clock.running_since = now
    clock.due_at = rules.calendar.add(now, left)
    clock.warn_at = rules.calendar.add(now, warn_left)


def _pause(rules: SlaRules, clock: SlaClock, now: datetime) -> None:
    if clock.running_since is None:
        return
    used = rules.calendar.elapsed(clock.running_since, now)
    clock.consumed_seconds += int(used.total_seconds())
    clock.running_since = clock.due_at = clock.warn_at = None


def time_left(rules: SlaRules, clock: SlaClock, now: datetime) -> timedelta:
    """Business time left before the breach (negative once breached)."""
    used = clock.consumed_seconds
    if clock.running_since is not None:
        used += int(rules.calendar.elapsed(clock.running_since, now).total_seconds())
    return timedelta(seconds=clock.target_seconds - used)
