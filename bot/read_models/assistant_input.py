"""One ticket's data as the AI server is given it (bot/core/assistant.py): its own messages,
the best knowledge-base articles for the customer's latest words, the saved replies. Never
another ticket's: everything is read by this ticket's id. The customer's orders come from
Shopify, outside any transaction, and are added by the caller."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.assistant import Reference, Said, TicketData
from bot.core.kb import stored
from bot.core.tickets import name_given
from bot.read_models.reply_draft import suggested_articles
from bot.storage.models import Direction, Message, Ticket
from bot.storage.queries import saved_replies

_WHO = {Direction.INBOUND: "customer", Direction.OUTBOUND: "agent", Direction.NOTE: "note"}


def ticket_data(
    session: Session, ticket: Ticket, *, articles: bool, tags: tuple[str, ...] = ()
) -> TicketData:
    """`articles`: the knowledge base's top matches go in (the policy has `kb`). `tags`: the
    team's tags, for a triage request."""
    messages = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.deleted_at.is_(None))
        .order_by(Message.created_at, Message.id)
    ).all()
    conversation = tuple(Said(_WHO[m.direction], m.body) for m in messages if m.body.strip())
    latest = next((s.text for s in reversed(conversation) if s.who == "customer"), None)
    found = suggested_articles(session, latest or ticket.subject) if articles else []
    return TicketData(
        number=ticket.number,
        subject=ticket.subject,
        customer_name=name_given(session, ticket),
        conversation=conversation,
        articles=tuple(
            Reference(article.title, article.body)
            for hit in found
            if (article := stored(session, hit.slug, public_only=False)) is not None
        ),
        saved_replies=tuple(Reference(r.title, r.body) for r in saved_replies(session)),
        tags=tags,
    )
