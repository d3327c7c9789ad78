"""The outbox row that sends a new email ticket's automatic acknowledgement (RFC 3834).

Rendered when sent, from the ticket as it is then: its number, when its first answer is due
(its first-response clock: business hours, holidays and its priority's target), and, with
Shopify connected, the status of an order the customer's message quotes, looked up here,
outside any transaction, and only when the order is theirs (bot/core/customer_links.py's
rule): never another customer's order, and no order at all for a sender whose mail server
did not verify them (an unverified sender still gets the acknowledgement, without order facts).
Shopify failing only leaves the order out. The thread is told that it went, or why it never
will; a ticket closed before it went (a rule closing noise) gets none.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.config import Policy
from bot.core import acknowledgements
from bot.core import outbox as kinds
from bot.core.customer_links import owner_of
from bot.core.kb import help_centre_url
from bot.core.notices import Notice
from bot.core.placeholders import first_name
from bot.core.tickets import name_given, record_event
from bot.deliverers.customer_email import CustomerEmail
from bot.deliverers.smtp_sender import SmtpSender
from bot.delivery.contract import Deliverer
from bot.integrations.customer_orders import own_order_quoted
from bot.integrations.shopify import Order, ShopifyError
from bot.integrations.shopify_cache import CachedShopify
from bot.mail.acknowledgement import compose_acknowledgement, promise
from bot.mail.compose import OutboundReply
from bot.storage.models import Customer, Message, OutboxItem, Ticket, TicketStatus, utcnow
from bot.views.customer_context import order_placeholders_of

log = logging.getLogger(__name__)


def acknowledgement_deliverers(
    sender: SmtpSender,
    support_address: str | None,
    policy: Policy,
    shopify: CachedShopify | None,
    public_url: str,
) -> dict[str, Deliverer]:
    return {
        kinds.EMAIL_ACKNOWLEDGEMENT: AcknowledgementEmail(
            sender, support_address, policy, shopify, public_url
        )
    }


class AcknowledgementEmail(CustomerEmail):
    # A final failure is noted in the thread (`record`), not as a generic failed delivery.
    records_failures = True

    def __init__(
        self,
        sender: SmtpSender,
        support_address: str | None,
        policy: Policy,
        shopify: CachedShopify | None,
        public_url: str,
    ):
        super().__init__(sender, support_address)
        self._policy = policy
        self._help_line = (
            f"Many questions are answered in our help centre: {help_centre_url(public_url)}"
            if policy.kb
            else None
        )
        self._zone = ZoneInfo(policy.timezone)
        self._shopify = shopify

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = session.get(Ticket, item.ticket_id)
        acknowledgement = self._policy.acknowledgement_for(ticket.support_address)
        if acknowledgement is None or ticket.status == TicketStatus.CLOSED:
            return {"skipped": "closed before it went" if acknowledgement else "turned off"}
        message = session.get(Message, item.message_id)
        due = acknowledgements.reply_by(session, ticket)
        promised = promise(due, self._zone, utcnow()) if due else None
        order, problem = self._own_order(session, ticket, message)
        given = name_given(session, ticket)
        values = {
            "customer.first_name": first_name(given),
            "customer.name": given,
            "ticket.number": str(ticket.number),
            "ticket.subject": ticket.subject,
            "ticket.reply_by": promised,
            **(_order_values(order) if order else {}),
            "help_centre.summary": self._help_line,
        }
        text = acknowledgements.render(acknowledgement.template, values)
        mail = self._mail(session, ticket, message, item.payload["mail_id"], text)
        failure = self._send(item, mail, f"acknowledgement of ticket #{ticket.number}")
        if failure:
            return failure
        told = {"reply_by": promised, "order": order.name if order else None}
        return {
            "sent": item.payload["mail_id"],
            **told,
            **({"shopify": problem} if problem else {}),
        }

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        ticket = session.get(Ticket, item.ticket_id)
        if "skipped" in result:
            record_event(
                session, ticket, acknowledgements.SKIPPED, "helpdesk", reason=result["skipped"]
            )
        elif "failed" in result:
            record_event(
                session, ticket, acknowledgements.FAILED, "helpdesk", reason=result["failed"]
            )
            kinds.notice(session, ticket.id, Notice.ACKNOWLEDGEMENT_FAILED, reason=result["failed"])
        else:
            record_event(session, ticket, acknowledgements.SENT, "helpdesk", **result)
            kinds.notice(
                session,
                ticket.id,
                Notice.ACKNOWLEDGED,
                reply_by=result["reply_by"],
                order=result["order"],
            )

    def _mail(
        self, session: Session, ticket: Ticket, message: Message, mail_id: str, text: str
    ) -> EmailMessage:
        """Threaded into the customer's conversation as an agent's reply to their message is."""
        return compose_acknowledgement(
            OutboundReply(
                # From the inbox the customer wrote to, as agents' replies are.
                support_address=ticket.support_address or self._support_address,
                support_name="",
                customer_address=session.get(Customer, ticket.customer_id).email,
                customer_name=name_given(session, ticket),
                subject=ticket.subject,
                body=text,
                in_reply_to=message.email_message_id,
                references=[message.email_message_id] if message.email_message_id else [],
                message_id=mail_id,
                date=utcnow(),
            )
        )

    def _own_order(
        self, session: Session, ticket: Ticket, message: Message
    ) -> tuple[Order | None, str | None]:
        """The customer's own order their message quotes, if any, and Shopify's problem."""
        if self._shopify is None or message.unverified_sender:
            return None, None
        owner = owner_of(session, ticket)
        try:
            return own_order_quoted(self._shopify, owner, f"{ticket.subject}\n{message.body}"), None
        except ShopifyError as problem:
            log.info("acknowledgement of #%s without order facts: %s", ticket.number, problem)
            return None, str(problem)


def _order_values(order: Order) -> dict[str, str | None]:
    return {**order_placeholders_of(order), "order.summary": order.status_text()}
