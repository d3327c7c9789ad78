"""Which ticket does an incoming email belong to?

In the contract's order of trust: a Message-ID we already know (In-Reply-To, then
References, newest first), the ticket's own reply address, and `[#n]` in the subject.
The subject rule also requires the sender to be the ticket's customer, since anyone can
type a ticket number; the other two carry values only the conversation's members saw.

Last, mail from a ticket's customer that continues a conversation one of their mails on
the ticket continued (the same thread root: first References id, else In-Reply-To) joins
it, though the helpdesk never received that conversation's other mail: a second reply to
the shop's order confirmation, or to a message the support address was not copied on.
Only for the same sender: a newsletter's id is the thread root of every reader's answer to
it, so from anyone else a shared root proves nothing. Nor does a subject, from anyone:
"Re: Your order has shipped" is the subject of many orders' conversations.

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
    ticket = _by_message_id(session, [*in_reply_to, *reversed(references)])
    if ticket is None and sender_verified and support_address:
        ticket = _by_reply_address(session, recipients, support_address)
    if ticket is None and sender_verified and sender:
        customer = sender.lower()
        ticket = _by_number(session, subject, customer) or _by_thread_root(
            session, thread_root(in_reply_to, references), customer
        )
    return survivor(session, ticket) if ticket is not None else None


def _by_message_id(session: Session, known_ids: list[str]) -> Ticket | None:
    """The ticket of the first id (in the order given) that a stored message has."""
    if not known_ids:
        return None
    rows = session.exec(
        select(Message.email_message_id, Ticket)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.email_message_id.in_(known_ids))
    ).all()
    ticket_by_id = dict(rows)
    return next((ticket_by_id[i] for i in known_ids if i in ticket_by_id), None)


def _by_reply_address(
    session: Session, recipients: list[str], support_address: str
) -> Ticket | None:
    token = reply_token_in(recipients, support_address)
    if not token:
        return None
    return session.exec(select(Ticket).where(Ticket.reply_token == token)).first()


def _by_number(session: Session, subject: str, customer: str) -> Ticket | None:
    number = ticket_number_in_subject(subject)
    if number is None:
        return None
    return session.exec(
        select(Ticket)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.number == number, Customer.email == customer)
    ).first()


def _by_thread_root(session: Session, root: str | None, customer: str) -> Ticket | None:
    """The customer's ticket holding their newest mail that continued the same conversation."""
    if root is None:
        return None
    return session.exec(
        select(Ticket)
        .join(Message, Message.ticket_id == Ticket.id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(
            Message.email_thread_root == root,
            Message.author == customer,
            Customer.email == customer,
        )
        .order_by(Message.id.desc())
    ).first()


def thread_root(in_reply_to: list[str], references: list[str]) -> str | None:
    """The first message of the conversation a mail continues, as far as the mail knows:
    References lists the thread from its root (RFC 5322 3.6.4), and a mailer that writes
    only In-Reply-To names the message answered."""
    ids = references or in_reply_to
    return ids[0] if ids else None


def survivor(session: Session, ticket: Ticket) -> Ticket:
    """The ticket a conversation lives in now: the one a merged ticket went into (merges
    refuse loops; `seen` only guards against rows edited by hand)."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = session.get(Ticket, ticket.merged_into_id)
    return ticket
