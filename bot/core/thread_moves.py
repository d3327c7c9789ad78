"""Where a ticket's thread has been: a policy rule can move it to another channel
(bot/deliverers/thread_move.py), and what was posted before the move stays in the old one."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import outbox
from bot.storage.models import OutboxItem, OutboxStatus, Ticket


def channel_at(session: Session, ticket: Ticket, ts: str) -> str:
    """The channel of the helpdesk's post `ts` about the ticket: the channel its thread was in
    when it was posted (Slack's ts are times, so each move's new root tells before from after)."""
    moves = session.exec(
        select(OutboxItem.result)
        .where(
            OutboxItem.ticket_id == ticket.id,
            OutboxItem.kind == outbox.SLACK_MOVE_THREAD,
            OutboxItem.status == OutboxStatus.SENT,
        )
        .order_by(OutboxItem.id)
    )
    for result in moves:
        if result and result.get("moved") and float(ts) < float(result["ts"]):
            return result["from"]
    return ticket.channel
