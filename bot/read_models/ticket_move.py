"""A merge or split as one of its two threads tells it (bot/views/ticket_moves.py)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session, select

from bot.core.ticket_moves import MERGE
from bot.storage.models import Customer, Direction, Message, Ticket, TicketMove
from bot.views.ticket_moves import LISTED, MovedMessage, MoveSummary

# A link to a Slack message (channel, ts), or to a ticket's thread; None when Slack can't say.
MessageLink = Callable[[str, str], str | None]


def move_summary(
    session: Session, move: TicketMove, ticket_id: int, undone: bool, link: MessageLink
) -> MoveSummary:
    """`ticket_id`: the thread it is told in. The messages are linked where they were posted:
    the thread of the ticket they came from."""
    here = "to" if ticket_id == move.to_ticket_id else "from"
    source = session.get(Ticket, move.from_ticket_id)
    other = session.get(Ticket, move.from_ticket_id if here == "to" else move.to_ticket_id)
    listed = []
    if here == "to":
        rows = session.exec(
            select(Message)
            .where(Message.id.in_(move.message_ids))
            .order_by(Message.created_at, Message.id)
            .limit(LISTED)
        )
        listed = [_moved(message, source.channel, link) for message in rows]
    return MoveSummary(
        move_id=move.id,
        kind=move.kind,
        here=here,
        undone=undone,
        actor=move.undone_by if undone and move.undone_by else move.actor,
        other_number=other.number,
        other_subject=other.subject,
        other_link=link(other.channel, other.thread_ts) if other.thread_ts else None,
        moved=len(move.message_ids),
        messages=tuple(listed),
        customers=_customers(session, move) if move.kind == MERGE else (),
    )


def _moved(message: Message, channel: str, link: MessageLink) -> MovedMessage:
    return MovedMessage(
        from_customer=message.direction == Direction.INBOUND,
        author=message.author,
        author_name=message.author_name,
        at=message.created_at,
        text=message.body,
        link=link(channel, message.slack_ts) if message.slack_ts else None,
    )


def _customers(session: Session, move: TicketMove) -> tuple[str, ...]:
    """Both tickets' customers when they differ."""
    emails = [
        session.get(Customer, session.get(Ticket, ticket_id).customer_id).email
        for ticket_id in (move.from_ticket_id, move.to_ticket_id)
    ]
    return tuple(emails) if emails[0] != emails[1] else ()
