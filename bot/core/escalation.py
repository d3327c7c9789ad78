"""Escalation: handing a ticket to the next tier, taking it, and giving it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from bot.config import Policy
from bot.core import outbox
from bot.core.context import Desk
from bot.core.notices import Notice
from bot.core.tickets import assign, record_event, set_priority
from bot.storage.models import Escalation, Priority, Ticket, TicketStatus, utcnow

URGENCIES = ("normal", "high", "urgent")
# The priority an urgency asks for at least; a higher priority is kept.
URGENCY_PRIORITY = {"high": Priority.HIGH, "urgent": Priority.URGENT}
PRIORITY_RANK = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]
REASON_LIMIT = 10_000


class EscalationRefused(ValueError):
    """The escalation can't happen; the message says why, for the person who asked."""

    def __init__(self, message: str, field: str = "ticket"):
        super().__init__(message)
        self.field = field  # the input at fault: "ticket" or "reason"


@dataclass(frozen=True)
class Tier:
    index: int
    name: str
    channel: str
    notify: tuple[str, ...] = ()

    @property
    def users(self) -> list[str]:
        return [n for n in self.notify if n.startswith(("U", "W"))]

    @property
    def groups(self) -> list[str]:
        return [n for n in self.notify if n.startswith("S")]


def tiers_of(policy: Policy, fallback_channel: str) -> list[Tier]:
    """The policy's tiers in order; without any, one tier posting to the fallback channel."""
    if not policy.escalation.tiers:
        return [Tier(0, "Escalation", fallback_channel)]
    return [
        Tier(index, tier.name, tier.channel, tuple(tier.notify))
        for index, tier in enumerate(policy.escalation.tiers)
    ]


def current_escalation(session: Session, ticket_id: int) -> Escalation | None:
    return session.exec(
        select(Escalation)
        .where(Escalation.ticket_id == ticket_id, Escalation.resolved_at.is_(None))
        .order_by(Escalation.id.desc())
    ).first()


def escalate(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    *,
    tiers: list[Tier],
    actor: str,
    reason: str,
    urgency: str = "normal",
    tier: int | None = None,
    request_key: str | None = None,
) -> Escalation:
    """Moves the ticket to `tier`, or one tier up; the same request twice escalates once."""
    if request_key:
        earlier = session.exec(
            select(Escalation).where(Escalation.request_key == request_key)
        ).first()
        if earlier is not None:
            return earlier
    reason = reason.strip()
    if not reason:
        raise EscalationRefused(
            "Say why you are escalating, so the next tier can pick it up.", field="reason"
        )
    if urgency not in URGENCIES:
        raise EscalationRefused(f"Urgency must be one of {', '.join(URGENCIES)}.")
    if ticket.status == TicketStatus.CLOSED:
        raise EscalationRefused(f"Ticket #{ticket.number} is closed; reopen it first.")
    current = current_escalation(session, ticket.id)
    target = tier if tier is not None else (current.tier + 1 if current else 0)
    if current is not None and target == current.tier:
        raise EscalationRefused(f"Ticket #{ticket.number} is already with {current.tier_name}.")
    if not 0 <= target < len(tiers):
        top = tiers[-1].name
        raise EscalationRefused(
            f"Ticket #{ticket.number} is already with {top}, the top tier; there is no "
            "higher tier in the policy."
        )
    now = utcnow()
    if current is not None:
        current.resolved_at, current.resolved_by = now, actor
        outbox.refresh_escalation(session, ticket.id, current.id)
    chosen = tiers[target]
    escalation = Escalation(
        ticket_id=ticket.id,
        tier=chosen.index,
        tier_name=chosen.name,
        channel=chosen.channel,
        urgency=urgency,
        reason=reason[:REASON_LIMIT],
        escalated_by=actor,
        request_key=request_key,
        created_at=now,
    )
    session.add(escalation)
    session.flush()
    wanted = URGENCY_PRIORITY.get(urgency)
    if wanted and PRIORITY_RANK.index(wanted) > PRIORITY_RANK.index(ticket.priority):
        set_priority(session, desk, ticket, wanted, actor=actor)
    record_event(
        session, ticket, "escalated", actor, tier=chosen.name, urgency=urgency, reason=reason
    )
    outbox.post_escalation(session, ticket.id, escalation.id)
    for user in chosen.users:
        outbox.direct_message(
            session, ticket.id, user, Notice.ESCALATED, by=actor, tier=chosen.name, reason=reason
        )
    outbox.notice(session, ticket.id, Notice.ESCALATED, by=actor, tier=chosen.name, reason=reason)
    outbox.refresh_root(session, ticket.id)
    return escalation


def take(session: Session, escalation: Escalation, user: str) -> None:
    if escalation.resolved_at is not None:
        raise EscalationRefused("This escalation is over; the ticket is back with support.")
    if escalation.taken_by is not None:
        if escalation.taken_by == user:
            return
        raise EscalationRefused(f"<@{escalation.taken_by}> already took it.")
    ticket = session.get(Ticket, escalation.ticket_id)
    escalation.taken_by, escalation.taken_at = user, utcnow()
    assign(session, ticket, user, actor=user)
    record_event(session, ticket, "escalation_taken", user, tier=escalation.tier_name)
    outbox.refresh_escalation(session, ticket.id, escalation.id)
    outbox.notice(session, ticket.id, Notice.ESCALATION_TAKEN, by=user)
    outbox.refresh_root(session, ticket.id)


def de_escalate(session: Session, escalation: Escalation, user: str) -> None:
    if escalation.resolved_at is not None:
        raise EscalationRefused("This ticket is already back with support.")
    ticket = session.get(Ticket, escalation.ticket_id)
    escalation.resolved_at, escalation.resolved_by = utcnow(), user
    record_event(session, ticket, "de_escalated", user, tier=escalation.tier_name)
    outbox.refresh_escalation(session, ticket.id, escalation.id)
    outbox.notice(session, ticket.id, Notice.DE_ESCALATED, by=user, tier=escalation.tier_name)
    outbox.refresh_root(session, ticket.id)


def end_with_ticket(session: Session, ticket: Ticket, actor: str) -> None:
    """A solved or closed ticket needs nobody in the tier: its escalation ends, so the root
    and the tier's post stop saying it waits to be taken and no reminder follows."""
    current = current_escalation(session, ticket.id)
    if current is None:
        return
    # resolved_by holds a Slack user id; any other actor (a rule's name) is cut to fit, and
    # never left empty, which would read as not resolved.
    current.resolved_at, current.resolved_by = utcnow(), actor[:32] or "helpdesk"
    record_event(
        session, ticket, "escalation_ended", actor, tier=current.tier_name, status=ticket.status
    )
    outbox.refresh_escalation(session, ticket.id, current.id)


def reannounce_unacknowledged(session: Session, now: datetime, after: timedelta) -> int:
    """Announces, once, every escalation nobody has taken within `after`."""
    waiting = session.exec(
        select(Escalation.id, Escalation.ticket_id).where(
            Escalation.resolved_at.is_(None),
            Escalation.taken_at.is_(None),
            Escalation.reannounced_at.is_(None),
            Escalation.created_at <= now - after,
        )
    ).all()
    announced = 0
    for escalation_id, ticket_id in waiting:
        # Conditional, so that two processes sweeping at once announce it once between them.
        claimed = session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.reannounced_at.is_(None))
            .values(reannounced_at=now)
        ).rowcount
        if claimed:
            outbox.reannounce_escalation(session, ticket_id, escalation_id)
            announced += 1
    return announced
