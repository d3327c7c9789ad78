"""Splitting a customer's message (and, if asked, those after it) off into a new ticket of
the same customer, and undoing that the same day.

The new ticket opens as any ticket does (its own root and thread, the opening rules, its
clocks), except that its first message is the one split off: it is moved, not copied, and
its response clock counts from when the customer wrote it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core import outbox, tickets
from bot.core.context import Desk
from bot.core.ticket_moves import (
    SPLIT,
    MoveRefused,
    announce,
    chat_refusal,
    done_before,
    follow_unanswered,
    lock,
    messages_of,
    move_messages,
    record_move,
    undoable,
)
from bot.storage.models import (
    Customer,
    Direction,
    Message,
    Ticket,
    TicketMove,
    TicketStatus,
    utcnow,
)


def split_refusal(session: Session, message: Message, following: bool) -> str | None:
    """Why the message can't start a new ticket, or None."""
    ticket = session.get(Ticket, message.ticket_id)
    if message.direction != Direction.INBOUND:
        return "Only a customer's message can start a new ticket."
    if ticket.merged_into_id is not None or ticket.status == TicketStatus.CLOSED:
        return f"#{ticket.number} is closed: reopen it first to split it."
    if len(_moving(session, message, following)) == len(messages_of(session, ticket.id)):
        return (
            f"That would move all of #{ticket.number}'s conversation: split a later message, "
            "or only this one."
        )
    return chat_refusal(ticket)


def split(
    session: Session,
    desk: Desk,
    message: Message,
    *,
    following: bool,
    actor: str,
    request_key: str | None = None,
    now: datetime | None = None,
) -> TicketMove:
    """`following`: the messages after it (answers and notes too) go with it."""
    lock(session, session.get(Ticket, message.ticket_id))
    session.refresh(message)  # moved meanwhile by another split, or merged away
    earlier = done_before(session, request_key, lambda: split_refusal(session, message, following))
    if earlier is not None:
        return earlier
    now = now or utcnow()
    old = session.get(Ticket, message.ticket_id)
    moving = _moving(session, message, following)
    new = tickets.new_ticket(
        session,
        customer=session.get(Customer, old.customer_id),
        subject=old.subject,
        channel=old.channel,
        source=message.source,
        support_address=old.support_address,
        now=now,
    )
    tickets.record_event(
        session, new, "created", actor, source=message.source, channel=new.channel,
        split_from=old.number,
    )  # fmt: skip
    outbox.post_root(session, new.id)
    move = record_move(
        session,
        TicketMove(
            kind=SPLIT,
            from_ticket_id=old.id,
            to_ticket_id=new.id,
            message_ids=[m.id for m in moving],
            from_status=old.status,
            actor=actor,
            request_key=request_key,
            created_at=now,
        ),
    )
    move_messages(session, moving, new)
    desk.ticket_opened(session, new)
    old.updated_at = now
    for ticket in (new, old):
        follow_unanswered(session, desk, ticket, now)
    facts = {"messages": len(moving), "move": move.id}
    tickets.record_event(session, old, "split_into", actor, number=new.number, **facts)
    tickets.record_event(session, new, "split_from", actor, number=old.number, **facts)
    announce(session, move)
    return move


def undo_split(
    session: Session, desk: Desk, move: TicketMove, *, actor: str, now: datetime
) -> None:
    """The messages go back; the new ticket is closed, leading to the old one as a merged
    ticket does. Refused once the new ticket has a conversation of its own."""
    old = session.get(Ticket, move.from_ticket_id)
    new = session.get(Ticket, move.to_ticket_id)
    lock(session, old, new)
    session.refresh(move, with_for_update=True)  # a second click waits, then finds it undone
    refusal = undoable(desk, move, now)
    messages = messages_of(session, new.id)
    if refusal is None and (
        new.merged_into_id is not None or {m.id for m in messages} != set(move.message_ids)
    ):
        refusal = f"#{new.number} has changed since the split: merge it back instead."
    if refusal is None and old.merged_into_id is not None:
        refusal = f"#{old.number} was merged into another ticket since: unmerge that first."
    if refusal:
        raise MoveRefused(refusal)
    move_messages(session, messages, old)
    new.merged_into_id = old.id
    move.undone_at, move.undone_by = now, actor
    tickets.set_status(
        session, desk, new, TicketStatus.CLOSED, actor=actor,
        reason=f"split undone, back in #{old.number}", resolving=False,
    )  # fmt: skip
    old.updated_at = now
    follow_unanswered(session, desk, old, now)
    tickets.record_event(session, old, "split_undone", actor, number=new.number, move=move.id)
    tickets.record_event(session, new, "split_undone", actor, number=old.number, move=move.id)
    announce(session, move)


def _moving(session: Session, message: Message, following: bool) -> list[Message]:
    if not following:
        return [message]
    conversation = messages_of(session, message.ticket_id)
    return conversation[conversation.index(message) :]
