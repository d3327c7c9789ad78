"""Outbox rows that go to customers by email: an agent's reply, threaded per the contract."""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core.tickets import record_event
from bot.jobs.delivery import Deliverer, RetryLater
from bot.jobs.smtp_sender import SendFailed, SmtpSender
from bot.mail.compose import OutboundReply, compose_reply
from bot.storage.models import Customer, Delivery, Direction, Message, OutboxItem, Ticket
from bot.storage.queries import email_chain

log = logging.getLogger(__name__)

# A mail server that is briefly away gets this many tries before the agent is told.
ATTEMPTS_BEFORE_GIVING_UP = 3


def email_deliverers(sender: SmtpSender, support_address: str | None) -> dict[str, Deliverer]:
    return {kinds.EMAIL_SEND: ReplyEmail(sender, support_address)}


class ReplyEmail:
    def __init__(self, sender: SmtpSender, support_address: str | None):
        self._sender = sender
        self._support_address = support_address

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        message = session.get(Message, item.message_id)
        if message.delivery == Delivery.SENT:
            return {"sent": message.email_message_id}
        ticket = session.get(Ticket, message.ticket_id)
        try:
            self._sender.send(compose_reply(self._reply(session, ticket, message)))
        except SendFailed as failed:
            if not failed.permanent and item.attempts < ATTEMPTS_BEFORE_GIVING_UP:
                raise RetryLater(str(failed)) from None
            log.warning("reply %s to ticket #%s not sent: %s", message.id, ticket.number, failed)
            return {"failed": str(failed)}
        return {"sent": message.email_message_id}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        message = session.get(Message, item.message_id)
        ticket = session.get(Ticket, message.ticket_id)
        if "failed" in result:
            message.delivery = Delivery.FAILED
            message.delivery_error = result["failed"]
            record_event(session, ticket, "reply_failed", "helpdesk", message_id=message.id)
        else:
            message.delivery = Delivery.SENT
            message.delivery_error = None
            record_event(session, ticket, "reply_sent", "helpdesk", message_id=message.id)
        if message.slack_ts:
            # A retried reply: its copy in the thread still says it failed.
            kinds.refresh_message(session, ticket.id, message.id)

    def _reply(self, session: Session, ticket: Ticket, message: Message) -> OutboundReply:
        customer = session.get(Customer, ticket.customer_id)
        chain = email_chain(session, ticket.id, message.id)
        last_inbound = next((m for m in reversed(chain) if m.direction == Direction.INBOUND), None)
        return OutboundReply(
            support_address=self._support_address,
            support_name="",
            customer_address=customer.email,
            customer_name=customer.name,
            subject=ticket.subject,
            body=message.body,
            in_reply_to=last_inbound.email_message_id if last_inbound else None,
            references=[m.email_message_id for m in chain],
            message_id=message.email_message_id,
            date=message.created_at,
        )
