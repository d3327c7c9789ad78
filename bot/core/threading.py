"""Which ticket does an incoming email belong to?

In the contract's order of trust: a Message-ID we already know (In-Reply-To, then
References, newest first), the ticket's own reply address, and `[#n]` in the subject.
The subject rule also requires the sender to be the ticket's customer, since anyone can
type a ticket number; the other two carry values only the conversation's members saw.

Mail whose sender is not verified (`sender_verified=False`: the receiving server's
Authentication-Results say DMARC failed, or several From addresses) only threads by a known
Message-ID: the From address proves nothing then, and a reply address or a ticket number
can leak (a forwarded mail, a screenshot). A Message-ID we generated is only in mail the
conversation's members received, so a follow-up that quotes one still joins its ticket.

A ticket merged into another one (bot.core.merging) leads each of these to the ticket kept.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.mail.subjects import ticket_number_in_subject
from bot.storage.models import Customer, Message, Ticket


def reply_address(support_address: str, reply_token: str) -> str:
    local, _, domain = support_address.partition("@")
    return f"{local}+{reply_token}@{domain}"


def reply_token_in(addresses: list[str], support_address: str) -> str | None:
    local, _, domain = support_address.lower().partition("@")
    for address in addresses:
        candidate_local, _, candidate_domain = address.lower().partition("@")
        prefix, plus, token = candidate_local.partition("+")
        if plus and prefix == local and candidate_domain == domain and token:
            return token
    return None


def find_ticket(
    session: Session,
    *,
    in_reply_to: list[str],
    references: list[str],
    recipients: list[str],
    subject: str,
    sender: str | None,
    support_address: str | None,
    sender_verified: bool = True,
) -> Ticket | None:
    known_ids = [*in_reply_to, *reversed(references)]
    if known_ids:
        rows = session.exec(
            select(Message.email_message_id, Ticket)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(Message.email_message_id.in_(known_ids))
        ).all()
        ticket_by_id = dict(rows)
        for message_id in known_ids:
            if message_id in ticket_by_id:
                return survivor(session, ticket_by_id[message_id])
    if not sender_verified:
        return None
    if support_address:
        token = reply_token_in(recipients, support_address)
        if token:
            ticket = session.exec(select(Ticket).where(Ticket.reply_token == token)).first()
            if ticket is not None:
                return survivor(session, ticket)
    number = ticket_number_in_subject(subject)
    if number is not None and sender:
        ticket = session.exec(
            select(Ticket)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.number == number, Customer.email == sender.lower())
        ).first()
        return survivor(session, ticket) if ticket is not None else None
    return None


def survivor(session: Session, ticket: Ticket) -> Ticket:
    """The ticket a conversation lives in now: the one a merged ticket went into (merges
    refuse loops; `seen` only guards against rows edited by hand)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket
