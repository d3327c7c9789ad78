"""The core's rules for linking a ticket to a Shopify customer, on SQLite and PostgreSQL.

The whole story goes through Slack and the fake shop in tests/e2e/test_shopify_other_customers.py;
here, what is slow or awkward to reach that way: the lock across tickets and its expiry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.core.customer_links import (
    LOCK_WINDOW,
    MAX_WRONG_PROOFS,
    WRONG_PROOF,
    LinkRefused,
    ShopifyOwner,
    link_on_proof,
    locked_until,
    normalise,
)
from bot.storage.db import transaction
from bot.storage.models import Customer, Ticket, TicketEvent, utcnow

JANE = "gid://shopify/Customer/5"
ANSWERS = {"email": {"Jane@Home.example"}, "postcode": {"SW1A 1AA"}}


def tickets(session: Session, count: int) -> list[Ticket]:
    stranger = Customer(email="mallory@evil.example")
    session.add(stranger)
    session.flush()
    made = [Ticket(number=n, subject="order", customer_id=stranger.id, channel="C0SUPPORT",
                   reply_token=f"t{n}") for n in range(1, count + 1)]  # fmt: skip
    session.add_all(made)
    session.flush()
    return made


def claim(session: Session, ticket: Ticket, given: str) -> str | None:
    return link_on_proof(session, ticket, order="#2001", shopify_id=JANE, answers=ANSWERS,
                         given=given, agent="U0AGENT1")  # fmt: skip


def test_wrong_answers_from_other_tickets_count_towards_the_same_lock(engine):
    with transaction(engine) as session:
        first, second, third = tickets(session, 3)
        for attempt in range(MAX_WRONG_PROOFS - 1):
            assert claim(session, first if attempt % 2 else second, f"9999{attempt}") is None
        assert locked_until(session, third, JANE) is None
        assert claim(session, third, "00000") is None
        # Five wrong answers about Jane: no ticket may try again, not even with the right one.
        with pytest.raises(LinkRefused, match="locked until"):
            claim(session, third, "SW1A 1AA")
        assert third.shopify_customer_id is None
        # Another customer is not locked by them from a fresh ticket.
        assert locked_until(session, Ticket(id=-1), "gid://shopify/Customer/6") is None


def test_the_lock_lifts_a_day_after_the_wrong_answers(engine):
    with transaction(engine) as session:
        (ticket,) = tickets(session, 1)
        for attempt in range(MAX_WRONG_PROOFS):
            claim(session, ticket, f"bad{attempt}@x.example")
        assert locked_until(session, ticket, JANE) is not None
        for event in session.exec(select(TicketEvent).where(TicketEvent.kind == WRONG_PROOF)):
            event.created_at = utcnow() - LOCK_WINDOW - timedelta(minutes=1)
        session.flush()
        assert locked_until(session, ticket, JANE) is None
        assert claim(session, ticket, " jane@HOME.example") == "email"
        assert ticket.shopify_customer_id == JANE
        with pytest.raises(LinkRefused, match="already linked"):
            claim(session, ticket, "SW1A 1AA")


def test_an_empty_or_kindless_answer_records_nothing(engine):
    with transaction(engine) as session:
        (ticket,) = tickets(session, 1)
        with pytest.raises(LinkRefused, match="Enter the order's email address or postcode"):
            claim(session, ticket, "   ")
        with pytest.raises(LinkRefused, match="no customer account"):
            link_on_proof(session, ticket, order="#2002", shopify_id=None, answers={},
                          given="SW1A 1AA", agent="U0AGENT1")  # fmt: skip
        assert session.exec(select(TicketEvent)).all() == []


def test_who_owns_an_order():
    visitor = ShopifyOwner(None, frozenset(), None)
    assert not visitor.owns(None, None) and not visitor.owns(JANE, "jane@home.example")
    jane = ShopifyOwner("Jane@Home.example", frozenset(), None)
    assert jane.owns(None, "jane@home.EXAMPLE") and not jane.owns(JANE, "other@x.example")
    linked = ShopifyOwner(None, frozenset({JANE}), JANE)
    assert linked.owns(JANE, None)
    assert normalise(" sw1a 1aa\t") == normalise("SW1A1AA") == "sw1a1aa"
