"""A ticket as the Reply modal shows it: who is written to, what they last said, the saved
replies to start from, and the agent's answer so far."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.slack_origins import answered_in_slack
from bot.core.tickets import name_given
from bot.core.visitors import reachable
from bot.storage.models import Customer, Source, Ticket
from bot.storage.queries import last_customer_message
from bot.storage.queries import saved_replies as all_saved_replies
from bot.views.reply_modal import ReplyDraft


def draft_for(
    session: Session,
    ticket: Ticket,
    answer: str = "",
    version: int = 0,
    *,
    order_picker: bool = False,
    notice: str | None = None,
) -> ReplyDraft:
    customer = session.get(Customer, ticket.customer_id)
    last = last_customer_message(session, ticket.id)
    return ReplyDraft(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        customer_name=name_given(session, ticket),
        customer_email=reachable(customer.email) or "",
        last_customer_message=last.body if last else None,
        saved_replies=[(r.id, r.title) for r in all_saved_replies(session)],
        answer=answer,
        version=version,
        by_chat=ticket.source == Source.CHAT,
        order_picker=order_picker,
        notice=notice,
        in_slack=answered_in_slack(session, ticket) is not None,
    )
