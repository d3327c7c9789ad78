"""Whose Shopify data a ticket may show, and linking a ticket to another customer on proof.

Order numbers are sequential and guessable, so quoting one proves nothing; nor does typing
someone's address into the chat widget, or putting it in the From of mail that failed DMARC.
To Shopify, a ticket's customer is whoever has the ticket's email address once an email from
that address, not marked unverified, is on the ticket, plus the customer an agent linked the
ticket to after the person writing proved it was them: they told the agent the order's email
address or its shipping or billing postcode, and the helpdesk checked that against Shopify.
Anything of any other customer shows only as a masked name.

Wrong answers are counted in the event log; after MAX_WRONG_PROOFS within LOCK_WINDOW on
the ticket, or against the same Shopify customer from any ticket, linking is locked, so a
postcode can't be found by trying them all. The value given is never stored.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from bot.core import outbox
from bot.core.notices import Notice
from bot.core.tickets import record_event
from bot.core.visitors import reachable
from bot.storage.models import (
    Customer,
    Direction,
    Message,
    Source,
    Ticket,
    TicketEvent,
    utcnow,
)

LINKED = "shopify_customer_linked"
WRONG_PROOF = "shopify_link_refused"
MAX_WRONG_PROOFS = 5
LOCK_WINDOW = timedelta(hours=24)
PROOF_LIMIT = 320  # the longest email address; postcodes are far shorter
# One linked customer per ticket: the one whose orders replies may then speak of.
ALREADY_LINKED = "This ticket is already linked to a Shopify customer."
NO_PROOF = "Enter the order's email address or postcode, as the customer gave it."


class LinkRefused(ValueError):
    """The ticket was not linked; the message says why, for the agent, and reveals nothing."""


@dataclass(frozen=True)
class ShopifyOwner:
    """The ticket's customer as Shopify knows them."""

    email: str | None  # None while the ticket's address is unproven: they own no order
    shopify_ids: frozenset[str]  # found by their address, and the one the ticket is linked to
    linked_id: str | None
    claimed: str | None = None  # an address given but not proven by a verified email
    claimed_in_chat: bool = False  # given by a chat visitor, else by an unverified sender

    def owns(self, customer_id: str | None, customer_email: str | None) -> bool:
        """Whether an order (of this Shopify customer id and email) is this customer's."""
        if customer_id and customer_id in self.shopify_ids:
            return True
        return bool(
            self.email and customer_email and customer_email.casefold() == self.email.casefold()
        )


def owner_of(session: Session, ticket: Ticket) -> ShopifyOwner:
    customer = session.get(Customer, ticket.customer_id)
    address = reachable(customer.email)
    linked = ticket.shopify_customer_id
    if address is None or not address_proven(session, ticket, address):
        in_chat = ticket.source == Source.CHAT
        return ShopifyOwner(
            None, frozenset({linked} - {None}), linked, claimed=address, claimed_in_chat=in_chat
        )
    ids = {i for i in (customer.shopify_id, linked) if i}
    return ShopifyOwner(address, frozenset(ids), linked)


def address_proven(session: Session, ticket: Ticket, address: str) -> bool:
    """Whether an email from `address`, not marked unverified, is on the ticket: as much proof
    of an address as mail gives. Anyone can type an address into the chat widget."""
    found = session.exec(
        select(Message.id)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.INBOUND,
            Message.source == Source.EMAIL,
            Message.unverified_sender.is_(None),
            func.lower(Message.author) == address.lower(),
        )
        .limit(1)
    ).first()
    return found is not None


def proof_kind(given: str) -> str:
    return "email" if "@" in given else "postcode"


def normalise(value: str) -> str:
    """Case and whitespace don't matter: "sw1a 1aa" is "SW1A1AA", " Bob@X.com" is "bob@x.com"."""
    return "".join(value.split()).casefold()


def locked_until(
    session: Session, ticket: Ticket, shopify_id: str, now: datetime | None = None
) -> datetime | None:
    """When linking to `shopify_id` from this ticket is possible again; None: it is now."""
    now = now or utcnow()
    wrong = _wrong_proofs(session, ticket, shopify_id, now)
    if len(wrong) < MAX_WRONG_PROOFS:
        return None
    return wrong[MAX_WRONG_PROOFS - 1] + LOCK_WINDOW


def check_not_locked(session: Session, ticket: Ticket, shopify_id: str) -> None:
    until = locked_until(session, ticket, shopify_id)
    if until is not None:
        raise LinkRefused(
            f"Too many wrong answers: linking is locked until {until:%Y-%m-%d %H:%M} UTC. "
            "The customer can write from the order's email address instead."
        )


def link_on_proof(
    session: Session,
    ticket: Ticket,
    *,
    order: str,
    shopify_id: str | None,
    answers: Mapping[str, Iterable[str]],
    given: str,
    agent: str,
) -> str | None:
    """Links the ticket to `shopify_id`, the customer of `order` ("#1001"), if `given` is one of
    `answers` (a kind, "email" or "postcode", to the values Shopify holds for the order);
    returns the kind that matched.

    Raises LinkRefused, with nothing written, for an empty answer, an order with no customer
    account, a ticket already linked (to anyone) or a lock. A wrong answer is recorded (its
    kind, never its value) and returns None: the caller commits that record as any change.
    """
    given = given.strip()
    if not given or len(given) > PROOF_LIMIT:
        raise LinkRefused(NO_PROOF)
    if not shopify_id:
        raise LinkRefused(f"Order {order} has no customer account in Shopify to link to.")
    if ticket.shopify_customer_id:
        raise LinkRefused(ALREADY_LINKED)
    check_not_locked(session, ticket, shopify_id)
    kind = proof_kind(given)
    wanted = normalise(given).encode()
    if not any(
        hmac.compare_digest(wanted, normalise(value).encode())
        for value in answers.get(kind, ())
        if value
    ):
        record_event(
            session, ticket, WRONG_PROOF, agent, order=order, shopify_customer=shopify_id,
            tried=kind,
        )  # fmt: skip
        return None
    ticket.shopify_customer_id = shopify_id
    record_event(
        session, ticket, LINKED, agent, order=order, shopify_customer=shopify_id, proven_by=kind
    )
    outbox.notice(session, ticket.id, Notice.CUSTOMER_LINKED, by=agent, order=order, proof=kind)
    outbox.post_order_context(session, ticket.id)
    return kind


def tries_left(session: Session, ticket: Ticket, shopify_id: str) -> int:
    return max(0, MAX_WRONG_PROOFS - len(_wrong_proofs(session, ticket, shopify_id, utcnow())))


def _wrong_proofs(
    session: Session, ticket: Ticket, shopify_id: str, now: datetime
) -> list[datetime]:
    """When the wrong answers that count against this ticket and customer came, newest first.

    On this ticket, or against this Shopify customer from any ticket: a stranger opening
    ticket after ticket gets no more tries. Few rows: each is an agent's submission.
    """
    session.flush()
    events = session.exec(
        select(TicketEvent)
        .where(TicketEvent.kind == WRONG_PROOF, TicketEvent.created_at >= now - LOCK_WINDOW)
        .order_by(TicketEvent.created_at.desc())
    ).all()
    return [
        event.created_at
        for event in events
        if event.ticket_id == ticket.id or event.data.get("shopify_customer") == shopify_id
    ]
