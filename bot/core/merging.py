"""Merging a duplicate ticket into the one kept, and unmerging it the same day.

The merged ticket's messages (notes, answers, attachments with them) move to the kept one,
where their times put them in order; its tags join the kept ticket's. It is closed without
counting as resolved, which stops its clocks, and `merged_into_id` leads its mail to the kept
ticket (bot.core.threading). The kept ticket's response clock then follows its earliest
unanswered customer message, whichever ticket it came from.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.core import tickets
from bot.core.context import Desk
from bot.core.threading import survivor
from bot.core.ticket_moves import (
    MERGE,
    MoveRefused,
    announce,
    chat_refusal,
    done_before,
    earliest_unanswered,
    follow_unanswered,
    lock,
    messages_of,
    move_messages,
    record_move,
    undoable,
    wait_since,
)
from bot.storage.models import Customer, Ticket, TicketMove, TicketStatus, TicketTag, utcnow
from bot.storage.queries import ACTIVE

SUGGEST_WITHIN = timedelta(hours=24)
MERGED_IN = "merged_in"  # the kept ticket's event
MERGED_INTO = "merged_into"  # the merged ticket's
MERGE_EVENTS = (MERGED_IN, MERGED_INTO)


class DifferentCustomers(MoveRefused):
    """The two tickets are different customers': merging them needs an explicit yes."""


def unmergeable(ticket: Ticket) -> str | None:
    """Why this ticket can't be merged into any other, or None."""
    if ticket.merged_into_id is not None:
        return f"#{ticket.number} is already merged into another ticket."
    if ticket.status == TicketStatus.CLOSED:
        return f"#{ticket.number} is closed: reopen it first to merge it."
    return chat_refusal(ticket)


def merge_refusal(merged: Ticket, kept: Ticket) -> str | None:
    """Why `merged` can't go into `kept`, or None. Refused loops: a merged ticket is closed
    and leads elsewhere, so A into B into A stops at B's second step."""
    if merged.id == kept.id:
        return "A ticket can't be merged into itself: pick the ticket to keep."
    if kept.merged_into_id is not None:
        return f"#{kept.number} was merged into another ticket: merge into that one instead."
    if kept.status == TicketStatus.CLOSED:
        return f"#{kept.number} is closed: reopen it first, or keep another ticket."
    return unmergeable(merged) or chat_refusal(kept)


def merge(
    session: Session,
    desk: Desk,
    merged: Ticket,
    kept: Ticket,
    *,
    actor: str,
    different_customers: bool = False,
    request_key: str | None = None,
    now: datetime | None = None,
) -> TicketMove:
    """`different_customers`: the agent confirmed merging two customers' tickets."""
    lock(session, merged, kept)
    earlier = done_before(session, request_key, lambda: merge_refusal(merged, kept))
    if earlier is not None:
        return earlier
    customers = [session.get(Customer, t.customer_id).email for t in (merged, kept)]
    if customers[0] != customers[1] and not different_customers:
        raise DifferentCustomers(
            f"#{merged.number} is from {customers[0]} and #{kept.number} from {customers[1]}: "
            "confirm that these different customers' tickets are one conversation."
        )
    now = now or utcnow()
    # Each conversation's own: an answer on one ticket never answered the other's customer.
    unanswered = [earliest_unanswered(session, t.id) for t in (merged, kept)]
    waiting = min((at for at in unanswered if at is not None), default=None)
    moving = messages_of(session, merged.id)
    tags_added = sorted(
        set(tickets.tags_of(session, merged.id)) - set(tickets.tags_of(session, kept.id))
    )
    move = record_move(
        session,
        TicketMove(
            kind=MERGE,
            from_ticket_id=merged.id,
            to_ticket_id=kept.id,
            message_ids=[m.id for m in moving],
            tags_added=tags_added,
            from_status=merged.status,
            actor=actor,
            request_key=request_key,
            created_at=now,
        ),
    )
    move_messages(session, moving, kept)
    for tag in tags_added:
        session.add(TicketTag(ticket_id=kept.id, tag=tag))
    merged.merged_into_id = kept.id
    tickets.set_status(
        session, desk, merged, TicketStatus.CLOSED, actor=actor,
        reason=f"merged into #{kept.number}", resolving=False,
    )  # fmt: skip
    kept.updated_at = now
    if kept.status in tickets.REOPENS_ON_CUSTOMER_REPLY and waiting is not None:
        tickets.set_status(
            session, desk, kept, TicketStatus.OPEN, actor=actor,
            reason=f"#{merged.number} merged in, unanswered",
        )  # fmt: skip
    wait_since(session, desk, kept, waiting, now)
    # Both customers, each a string of its own, so that erasing either finds their address.
    facts = {
        "merged_customer": customers[0],
        "kept_customer": customers[1],
        "messages": len(moving),
        "move": move.id,
    }
    tickets.record_event(session, merged, MERGED_INTO, actor, number=kept.number, **facts)
    tickets.record_event(session, kept, MERGED_IN, actor, number=merged.number, **facts)
    announce(session, move)
    return move


def unmerge(session: Session, desk: Desk, move: TicketMove, *, actor: str, now: datetime) -> None:
    """Gives the merged ticket back what moved (messages that came since stay kept), its
    status before the merge, and clocks following its own unanswered messages."""
    merged = session.get(Ticket, move.from_ticket_id)
    kept = session.get(Ticket, move.to_ticket_id)
    lock(session, merged, kept)
    session.refresh(move, with_for_update=True)  # a second click waits, then finds it undone
    refusal = undoable(desk, move, now)
    if refusal is None and merged.merged_into_id != kept.id:
        refusal = f"#{merged.number} is no longer merged into #{kept.number}."
    if refusal is None and kept.merged_into_id is not None:
        refusal = f"#{kept.number} was merged into another ticket since: unmerge that first."
    if refusal:
        raise MoveRefused(refusal)
    moved = set(move.message_ids)
    move_messages(session, [m for m in messages_of(session, kept.id) if m.id in moved], merged)
    for row in session.exec(
        select(TicketTag).where(TicketTag.ticket_id == kept.id, TicketTag.tag.in_(move.tags_added))
    ):
        session.delete(row)
    merged.merged_into_id = None
    move.undone_at, move.undone_by = now, actor
    tickets.set_status(
        session, desk, merged, TicketStatus(move.from_status), actor=actor,
        reason=f"unmerged from #{kept.number}",
    )  # fmt: skip
    kept.updated_at = now
    for ticket in (merged, kept):
        follow_unanswered(session, desk, ticket, now)
    tickets.record_event(session, merged, "unmerged", actor, number=kept.number, move=move.id)
    tickets.record_event(session, kept, "unmerged", actor, number=merged.number, move=move.id)
    announce(session, move)


def merge_suggestion(session: Session, ticket: Ticket) -> Ticket | None:
    """Another open ticket of the same customer, opened in the 24 hours before this one: the
    new ticket is possibly the same conversation (mail without its thread's headers)."""
    if ticket.status == TicketStatus.CLOSED or ticket.merged_into_id is not None:
        return None
    return session.exec(
        select(Ticket)
        .where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.id != ticket.id,
            Ticket.status.in_(ACTIVE),
            Ticket.merged_into_id.is_(None),
            Ticket.created_at >= ticket.created_at - SUGGEST_WITHIN,
            Ticket.created_at <= ticket.created_at,
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    ).first()


def kept_instead(session: Session, ticket: Ticket) -> Ticket | None:
    """The ticket a merged one went into, for its root; None when it was not merged."""
    return survivor(session, ticket) if ticket.merged_into_id is not None else None
