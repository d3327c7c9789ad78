"""A ticket as the Reply modal shows it: who is written to, what they last said, the saved
replies to start from, and the agent's answer so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core import replying
from bot.core.kb import Hit, search_articles
from bot.core.slack_origins import answered_in_slack
from bot.core.tickets import name_given
from bot.core.visitors import reachable
from bot.storage.models import Customer, Source, Ticket, utcnow
from bot.storage.queries import last_customer_message
from bot.storage.queries import saved_replies as all_saved_replies
from bot.views.reply_modal import PickedOrder, ReplyDraft

SUGGESTED_ARTICLES = 3


@dataclass(frozen=True)
class ReplyFeatures:
    """What the Reply modal offers beside the answer. It follows from what the helpdesk has
    set up (`Services.reply_features`), so every redraw of the modal offers the same.

    `order_picker`: insert one of the customer's orders (Shopify is connected). `articles`:
    suggest the knowledge base's best matches for the customer's latest words (the subject
    when there are none). `assistant`: offer the AI server's draft and summary."""

    order_picker: bool = False
    articles: bool = False
    assistant: bool = False


def draft_for(
    session: Session,
    ticket: Ticket,
    features: ReplyFeatures,
    answer: str = "",
    version: int = 0,
    *,
    notice: str | None = None,
    agent: str | None = None,
    seen: int | None = None,
    changed: bool = False,
    now: datetime | None = None,
    assistant_status: str | None = None,
    picked: PickedOrder | None = None,
) -> ReplyDraft:
    """`agent`: who opens the modal, warned of anyone else replying. `seen`: the customer's
    latest message when it was opened, kept as the modal is redrawn (a saved reply, an order
    inserted) so that sending can tell whether the customer wrote since. `changed`: they did,
    and the agent must confirm their answer still fits. `assistant_status` says what the AI
    server is doing. `picked`: the order just inserted, with the Shopify actions offered on
    it."""
    customer = session.get(Customer, ticket.customer_id)
    last = last_customer_message(session, ticket.id)
    now = now or utcnow()
    others = [r for r in replying.replying(session, ticket.id, now) if r.agent != agent]
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
        order_picker=features.order_picker,
        notice=notice,
        in_slack=answered_in_slack(session, ticket) is not None,
        seen_message_id=seen if seen is not None else (last.id if last else 0),
        others_replying=tuple((r.agent, now - r.since) for r in others) if agent else (),
        customer_wrote_again=changed,
        articles=tuple(suggested_articles(session, last.body if last else ticket.subject))
        if features.articles
        else (),
        assistant=features.assistant,
        assistant_status=assistant_status,
        picked_order=picked,
    )


def suggested_articles(session: Session, words: str) -> list[Hit]:
    return search_articles(session, words, public_only=False, limit=SUGGESTED_ARTICLES)


def with_addition(answer: str, addition: str) -> str:
    """The answer with `addition` (an order's status, an article) as a paragraph at its end."""
    return f"{answer.rstrip()}\n\n{addition}" if answer.strip() else addition
