"""Tickets made from Slack messages: the "Make a ticket" shortcut, an agent's :ticket:
reaction, and every customer's message in a Slack Connect channel.

The message a ticket came from is its origin (`TicketOrigin`: channel and ts, as data; the
core never calls Slack). One message makes at most one ticket: the origin's unique key holds
that against Slack's retries and two agents at once. A ticket whose requester is the Slack
user who wrote the message (a teammate's request, a Connect customer) is answered in that
message's thread, and that user's later words in the thread join the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot.core import outbox, tickets
from bot.core.chat import subject_of
from bot.core.context import Desk
from bot.core.visitors import slack_user_address
from bot.storage.models import Message, Priority, Source, Ticket, TicketOrigin

EMPTY_MESSAGE = "(no text in this message)"
SUBJECT_OTHERWISE = "Slack message"


@dataclass(frozen=True)
class SlackMessage:
    """A message someone wrote in Slack, as the adapter read it."""

    channel: str
    ts: str
    author: str  # the Slack user ID
    author_name: str
    text: str
    thread_ts: str | None = None  # the thread it is a reply in; None at the top level

    @property
    def subject(self) -> str:
        return subject_of(self.text, SUBJECT_OTHERWISE)


class AlreadyATicket(Exception):
    """The message was made a ticket before; `ticket` is that one."""

    def __init__(self, ticket: Ticket):
        super().__init__(f"already ticket #{ticket.number}")
        self.ticket = ticket


def ticket_made_from(session: Session, channel: str, ts: str) -> Ticket | None:
    origin = session.exec(
        select(TicketOrigin).where(TicketOrigin.channel == channel, TicketOrigin.ts == ts)
    ).first()
    return session.get(Ticket, origin.ticket_id) if origin else None


def answered_in_slack(session: Session, ticket: Ticket) -> TicketOrigin | None:
    """The origin whose thread the ticket's answers go to, when they go to Slack."""
    if ticket.source != Source.SLACK:
        return None
    origin = session.get(TicketOrigin, ticket.id)
    return origin if origin is not None and origin.in_thread else None


def make_ticket(
    session: Session,
    desk: Desk,
    message: SlackMessage,
    *,
    actor: str,
    subject: str = "",
    priority: Priority = Priority.NORMAL,
    requester_email: str | None = None,
    requester_name: str = "",
) -> Ticket:
    """Opens the ticket, records its origin and queues the links both ways. Raises
    `AlreadyATicket`; a race with another request making the same message a ticket ends in
    the origin's unique key refusing the second (IntegrityError: the caller looks again).

    `requester_email` None: the requester is the message's author, answered in its thread.
    """
    earlier = ticket_made_from(session, message.channel, message.ts)
    if earlier is not None:
        raise AlreadyATicket(earlier)
    in_thread = requester_email is None
    address = slack_user_address(message.author) if in_thread else requester_email
    name = message.author_name if in_thread else requester_name
    customer = tickets.customer_for(session, address, name)
    ticket, _ = tickets.open_ticket(
        session,
        desk,
        customer=customer,
        subject=subject.strip() or message.subject,
        channel=desk.support_channel,
        source=Source.SLACK,
        first_message=_customer_words(customer.email, name, message),
    )
    session.add(
        TicketOrigin(
            ticket_id=ticket.id,
            channel=message.channel,
            ts=message.ts,
            thread_ts=message.thread_ts if message.thread_ts != message.ts else None,
            author=message.author,
            in_thread=in_thread,
        )
    )
    session.flush()  # the unique key speaks now, before anything else is written
    tickets.set_priority(session, desk, ticket, priority, actor=actor)
    tickets.record_event(
        session, ticket, "made_from_slack", actor, channel=message.channel, ts=message.ts
    )
    outbox.link_origin(session, ticket.id, shared=message.channel in desk.policy.connect_channels)
    return ticket


def add_thread_message(
    session: Session, desk: Desk, message: SlackMessage, thread_ts: str
) -> Message | None:
    """A message in the thread of a ticket answered in Slack joins it as the customer's;
    None when the thread is no such ticket's. A message seen before is not added again."""
    ticket = ticket_made_from(session, message.channel, thread_ts)
    if ticket is None or answered_in_slack(session, ticket) is None:
        return None
    address = tickets.customer_address(session, ticket)
    words = _customer_words(address, message.author_name, message)
    seen = session.exec(select(Message).where(Message.request_key == words.request_key)).first()
    return seen or tickets.add_customer_message(session, desk, ticket, words)


def _customer_words(address: str, name: str, message: SlackMessage) -> tickets.NewMessage:
    return tickets.NewMessage(
        source=Source.SLACK,
        author=address,
        author_name=name,
        body=message.text.strip() or EMPTY_MESSAGE,
        full_body=message.text,
        request_key=f"slack:{message.channel}:{message.ts}",
    )
