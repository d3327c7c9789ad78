"""A ticket as its thread's root message and its escalation post show it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core import chat, csat, replying
from bot.core.escalation import Tier, current_escalation
from bot.core.merging import kept_instead, merge_suggestion
from bot.core.sla import CLOCK_LABELS, clocks_of
from bot.core.tickets import name_given, tags_of
from bot.core.visitors import reachable
from bot.storage.models import Customer, Escalation, Source, Ticket, utcnow
from bot.storage.queries import customer_figures, last_customer_message
from bot.views.csat_answer import answer_line
from bot.views.customer_history import CustomerHistory
from bot.views.escalation_surfaces import EscalationSummary, escalation_badge_text
from bot.views.text import customer_label
from bot.views.ticket_root import SlaState, TicketSummary


def ticket_summary(session: Session, ticket: Ticket, order_lookup: bool = False) -> TicketSummary:
    customer = session.get(Customer, ticket.customer_id)
    conversation = (
        chat.conversation_of(session, ticket.id) if ticket.source == Source.CHAT else None
    )
    survey = csat.latest_answer(session, ticket.id)
    kept = kept_instead(session, ticket)
    same = merge_suggestion(session, ticket)
    return TicketSummary(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        source=ticket.source,
        customer_name=name_given(session, ticket),
        customer_email=reachable(customer.email) or "",
        assignee=ticket.assignee,
        tags=tags_of(session, ticket.id),
        escalation=escalation_badge(current_escalation(session, ticket.id)),
        sla=sla_states(session, ticket),
        csat=answer_line(survey.rating, survey.comment) if survey else None,
        chat_page=conversation.page_url if conversation else None,
        chat_user_agent=conversation.user_agent if conversation else None,
        chat_order=conversation.verified_order if conversation else None,
        order_lookup=order_lookup,
        vip=ticket.vip,
        pending_until=ticket.pending_until,
        merged_into=kept.number if kept else None,
        possibly_same_as=(same.id, same.number) if same else None,
        history=customer_history(session, customer, ticket.created_at),
        replying=tuple(r.agent for r in replying.replying(session, ticket.id, utcnow())),
    )


def customer_history(session: Session, customer: Customer, before: datetime) -> CustomerHistory:
    """The customer's past before an instant, and what Shopify last said of them."""
    figures = customer_figures(session, customer.id, before)
    return CustomerHistory(
        tickets_before=figures.tickets,
        last_contact=figures.last_contact,
        ratings=figures.ratings,
        average_rating=figures.average_rating,
        shop_orders=customer.shop_orders_count,
        shop_spent=customer.shop_total_spent,
    )


def escalation_summary(
    session: Session,
    ticket: Ticket,
    escalation: Escalation,
    tiers: list[Tier],
    permalink: str | None,
) -> EscalationSummary:
    customer = session.get(Customer, ticket.customer_id)
    last = last_customer_message(session, ticket.id)
    tier = tiers[escalation.tier] if escalation.tier < len(tiers) else None
    return EscalationSummary(
        escalation_id=escalation.id,
        number=ticket.number,
        subject=ticket.subject,
        customer=customer_label(customer.name, reachable(customer.email)),
        priority=ticket.priority,
        ticket_created_at=ticket.created_at,
        tier_name=escalation.tier_name,
        urgency=escalation.urgency,
        reason=escalation.reason,
        escalated_by=escalation.escalated_by,
        escalated_at=escalation.created_at,
        last_customer_message=last.body if last else None,
        permalink=permalink,
        groups=tuple(tier.groups) if tier else (),
        sla=sla_states(session, ticket),
        taken_by=escalation.taken_by,
        resolved_by=escalation.resolved_by,
        ticket_status=ticket.status,
    )


def sla_states(session: Session, ticket: Ticket) -> tuple[SlaState, ...]:
    return tuple(
        SlaState(
            label=CLOCK_LABELS[clock.kind],
            due_at=clock.due_at,
            left_seconds=clock.target_seconds - clock.consumed_seconds,
            breached=clock.breached,
        )
        for clock in clocks_of(session, ticket.id)
    )


def escalation_badge(escalation: Escalation | None) -> str | None:
    if escalation is None:
        return None
    return escalation_badge_text(escalation.tier_name, escalation.escalated_by, escalation.taken_by)
