"""Self-service in the chat widget: suggested articles read before writing, and "Track my
order". No HTTP and no Shopify here: the chat routes ask Shopify and hand over what it said.

**Deflections.** The widget opens a session (its token is the only key; the row keeps its
SHA-256) before showing suggestions. Opening a suggested article marks the session; closing
the widget afterwards without having written counts it deflected, once: the update only
applies to a session not deflected yet. Sessions are handed out per IP address at a limited
rate, so a script can add no more deflections than it may open sessions. A visitor who writes
after all was not deflected: starting a conversation with the session's token clears it.

**Order look-ups.** A visitor proves an order by its number and its email address, both as
Shopify holds them. Every answer is counted, a match or not, but a mismatch keeps nothing of
what was typed. A match keeps the order and the address under a token the visitor may spend
once, within `PROOF_VALID_FOR`, to ask for a person: the conversation then starts with the
order attached, and the ticket is linked to the order's Shopify customer, exactly as an agent
links one on the same proof (bot/core/customer_links.py). What a match kept is forgotten once
its proof is spent, or on the next look-up after it expired, so an address lies here for
about an hour at most (and `helpdesk customer erase` forgets it at once).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, func, select

from bot.core import outbox
from bot.core.customer_links import LINKED, normalise
from bot.core.notices import Notice
from bot.core.tickets import record_event
from bot.storage.models import (
    ChatConversation,
    OrderLookup,
    SelfServiceSession,
    Ticket,
    utcnow,
)

PROOF_VALID_FOR = timedelta(hours=1)
# A proof's personal values, cleared when it can no longer be spent.
FORGOTTEN = {"proof_hash": None, "order_name": None, "email": None, "shopify_customer_id": None}
# Who linked the ticket, in its event log: the visitor, through the widget.
WIDGET = "widget"
TRACKING_URL_LIMIT = 2000


class ProofUnusable(ValueError):
    """The order look-up's token can't attach an order: unknown, spent or too old."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session) -> str:
    """A new widget session; returns its token."""
    token = secrets.token_urlsafe(24)
    session.add(SelfServiceSession(token_hash=_hash(token)))
    return token


def session_of(session: Session, token: str) -> SelfServiceSession | None:
    return session.exec(
        select(SelfServiceSession).where(SelfServiceSession.token_hash == _hash(token))
    ).first()


def article_opened(row: SelfServiceSession) -> None:
    if row.article_opened_at is None:
        row.article_opened_at = utcnow()


def closed_without_writing(session: Session, row: SelfServiceSession) -> bool:
    """Counts the session deflected if an article was opened and nothing written; whether it
    is (now or already)."""
    session.execute(
        update(SelfServiceSession)
        .where(
            SelfServiceSession.id == row.id,
            SelfServiceSession.deflected_at.is_(None),
            SelfServiceSession.article_opened_at.is_not(None),
            SelfServiceSession.conversation_started_at.is_(None),
        )
        .values(deflected_at=utcnow())
    )
    session.refresh(row)
    return row.deflected_at is not None


def conversation_started(session: Session, token: str | None) -> None:
    """The visitor wrote after all: the session is not, or no longer, a deflection."""
    row = session_of(session, token) if token else None
    if row is not None:
        row.conversation_started_at = utcnow()
        row.deflected_at = None


def email_matches(given: str, emails: Iterable[str]) -> bool:
    """Whether `given` is one of the order's addresses, case and spaces aside; every address
    is compared in constant time, so the answer's timing tells nothing either."""
    wanted = normalise(given).encode()
    found = False
    for email in emails:
        found |= hmac.compare_digest(wanted, normalise(email).encode())
    return bool(wanted) and found


def record_lookup(
    session: Session,
    *,
    order_name: str | None = None,
    email: str | None = None,
    shopify_customer_id: str | None = None,
) -> str | None:
    """Counts a look-up; for a match (an `order_name`), returns the token that attaches it."""
    session.execute(
        update(OrderLookup)
        .where(
            OrderLookup.proof_hash.is_not(None),
            OrderLookup.created_at < utcnow() - PROOF_VALID_FOR,
        )
        .values(**FORGOTTEN)
    )
    if order_name is None:
        session.add(OrderLookup(matched=False))
        return None
    token = secrets.token_urlsafe(24)
    session.add(
        OrderLookup(
            matched=True,
            proof_hash=_hash(token),
            order_name=order_name,
            email=email,
            shopify_customer_id=shopify_customer_id,
        )
    )
    return token


def usable_proof(session: Session, token: str, now: datetime) -> OrderLookup:
    lookup = session.exec(
        select(OrderLookup).where(OrderLookup.proof_hash == _hash(token)).with_for_update()
    ).first()
    if lookup is None or lookup.used_at is not None or lookup.created_at < now - PROOF_VALID_FOR:
        raise ProofUnusable("this order look-up has expired; look the order up again")
    return lookup


def attach_order(
    session: Session, lookup: OrderLookup, conversation: ChatConversation, ticket: Ticket
) -> None:
    """The proven order goes with the new conversation: shown on the ticket's root, said in
    its thread, and the ticket linked to the order's Shopify customer (a guest checkout has
    none: then the order is shown, and the address is the visitor's)."""
    order, customer_id = lookup.order_name, lookup.shopify_customer_id
    lookup.used_at = utcnow()
    for column, value in FORGOTTEN.items():
        setattr(lookup, column, value)
    conversation.verified_order = order
    if customer_id and not ticket.shopify_customer_id:
        ticket.shopify_customer_id = customer_id
        record_event(
            session, ticket, LINKED, WIDGET, order=order, shopify_customer=customer_id,
            proven_by="email",
        )  # fmt: skip
        outbox.post_order_context(session, ticket.id)
    outbox.notice(session, ticket.id, Notice.ORDER_VERIFIED, order=order)


def forget_proofs_of(session: Session, address: str) -> None:
    """For erasure: unspent proofs naming the address can't be spent any more either."""
    session.execute(
        update(OrderLookup)
        .where(func.lower(OrderLookup.email) == address.lower())
        .values(**FORGOTTEN)
    )


def safe_tracking_url(url: str | None) -> str | None:
    """A carrier's tracking link fit to put in front of a customer: http(s), a host, no
    credentials, no spaces or control characters; anything else is dropped."""
    if not url or len(url) > TRACKING_URL_LIMIT:
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # reading it raises ValueError for a port that is not a number
            return None
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    return url
