"""Outbox rows that go to customers by email, threaded per the contract: an agent's reply,
and the surveys: CSAT, sent when a ticket is solved, and NPS, sent a while later."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core import csat
from bot.core import outbox as kinds
from bot.core.placeholders import first_name
from bot.core.replies import record_delivery
from bot.core.survey_links import SurveyKind, SurveyTokens
from bot.core.tickets import record_event
from bot.deliverers.slack_files import FileUnavailable, SlackFiles
from bot.deliverers.smtp_sender import SendFailed, SmtpSender
from bot.delivery.contract import OUTBOUND_SMTP, SERVICE_DOWN, Deliverer, RetryLater, ServiceDown
from bot.mail.compose import OutboundReply, compose_reply
from bot.mail.ids import new_message_id
from bot.mail.survey import SurveyMail, compose_survey
from bot.storage.models import (
    Attachment,
    CsatSurvey,
    Customer,
    Delivery,
    Direction,
    Message,
    NpsSurvey,
    OutboxItem,
    Ticket,
    utcnow,
)
from bot.storage.queries import email_chain

log = logging.getLogger(__name__)

# A mail server that answers with a passing refusal gets this many tries before the agent
# is told.
ATTEMPTS_BEFORE_GIVING_UP = 3
# One that can't be reached at all is waited for, this long after the mail was queued: the
# outbox holds every email meanwhile, trying one now and then (its circuit breaker).
UNREACHABLE_GIVE_UP_AFTER = timedelta(minutes=5)


def email_deliverers(
    sender: SmtpSender,
    support_address: str | None,
    survey_tokens: SurveyTokens | None,
    public_url: str,
    files: SlackFiles | None = None,
    nps: tuple[SurveyTokens | None, SurveyKind] | None = None,
) -> dict[str, Deliverer]:
    """`nps`: the NPS link signer (None while NPS is off, so a survey left waiting from
    before fails with a clear reason) and the NPS kind, from the policy."""
    deliverers = {
        kinds.EMAIL_SEND: ReplyEmail(sender, support_address, files),
        kinds.EMAIL_SURVEY: SurveyEmail(
            sender, support_address, survey_tokens, public_url, csat.KIND
        ),
    }
    if nps is not None:
        nps_tokens, nps_kind = nps
        deliverers[kinds.EMAIL_NPS] = SurveyEmail(
            sender, support_address, nps_tokens, public_url, nps_kind
        )
    return deliverers


class CustomerEmail:
    """What every email to a customer shares: the outbound service, and how a send's failure
    is told apart (retried, waited for, or final)."""

    service = OUTBOUND_SMTP
    posts_to_channel = False

    def __init__(self, sender: SmtpSender, support_address: str | None):
        self._sender = sender
        self._support_address = support_address

    def _send(self, item: OutboxItem, mail: EmailMessage, what: str) -> dict | None:
        """None once sent, else the result saying why it never will be; a passing failure
        is retried first."""
        try:
            self._sender.send(mail)
        except SendFailed as failed:
            if failed.unreachable:
                if utcnow() - item.created_at < UNREACHABLE_GIVE_UP_AFTER:
                    raise ServiceDown(str(failed)) from None
            elif not failed.permanent and item.attempts < ATTEMPTS_BEFORE_GIVING_UP:
                raise RetryLater(str(failed)) from None
            log.warning("%s not sent: %s", what, failed)
            return {"failed": str(failed), **({SERVICE_DOWN: True} if failed.unreachable else {})}
        return None


class ReplyEmail(CustomerEmail):
    # A reply that fails for good is marked Not delivered in the thread, with a Retry button.
    records_failures = True

    def __init__(self, sender: SmtpSender, support_address: str | None, files: SlackFiles | None):
        super().__init__(sender, support_address)
        self._files = files

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        message = session.get(Message, item.message_id)
        if message.delivery == Delivery.SENT:
            return {"sent": message.email_message_id}
        ticket = session.get(Ticket, message.ticket_id)
        try:
            attached = self._attachments(session, message)
        except FileUnavailable as missing:
            if not missing.permanent and item.attempts < ATTEMPTS_BEFORE_GIVING_UP:
                raise RetryLater(str(missing)) from None
            return {"failed": str(missing)}
        mail = compose_reply(replace(self._reply(session, ticket, message), attachments=attached))
        failure = self._send(item, mail, f"reply {message.id} to ticket #{ticket.number}")
        return failure or {"sent": message.email_message_id}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        record_delivery(session, session.get(Message, item.message_id), result.get("failed"))

    def _attachments(self, session: Session, message: Message) -> tuple:
        wanted = session.exec(
            select(Attachment).where(
                Attachment.message_id == message.id, Attachment.slack_file_id.is_not(None)
            )
        ).all()
        if wanted and self._files is None:
            raise FileUnavailable("files can't be fetched from Slack here", permanent=True)
        fetched = [self._files.fetch(row.slack_file_id) for row in wanted]
        return tuple((f.name, f.content_type, f.data) for f in fetched)

    def _reply(self, session: Session, ticket: Ticket, message: Message) -> OutboundReply:
        customer = session.get(Customer, ticket.customer_id)
        chain = email_chain(session, ticket.id, message.id)
        last_inbound = next((m for m in reversed(chain) if m.direction == Direction.INBOUND), None)
        return OutboundReply(
            # From the inbox the customer wrote to (returns@, say), else the support address.
            support_address=ticket.support_address or self._support_address,
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


class SurveyEmail(CustomerEmail):
    """A survey's email; like a reply's, a final failure is logged and not retried."""

    def __init__(
        self,
        sender: SmtpSender,
        support_address: str | None,
        tokens: SurveyTokens | None,
        public_url: str,
        kind: SurveyKind,
    ):
        super().__init__(sender, support_address)
        self._tokens = tokens
        self._public_url = public_url
        self._kind = kind

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        survey = session.get(self._kind.table, item.payload["survey"])
        ticket = session.get(Ticket, survey.ticket_id)
        what = f"survey {survey.id} for ticket #{ticket.number}"
        if self._tokens is None or not self._support_address:
            # Surveys are only offered with both set; this one outlived a configuration change.
            log.warning("%s not sent: HELPDESK_SECRET_KEY or the support address is unset", what)
            return {"failed": "HELPDESK_SECRET_KEY or HELPDESK_SUPPORT_ADDRESS is not set"}
        mail = compose_survey(self._mail(session, ticket, survey))
        return self._send(item, mail, what) or {"sent": mail["Message-ID"]}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        survey = session.get(self._kind.table, item.payload["survey"])
        ticket = session.get(Ticket, survey.ticket_id)
        kind = f"{self._kind.name}_{'failed' if 'failed' in result else 'sent'}"
        record_event(session, ticket, kind, "helpdesk", survey_id=survey.id, **result)

    def _mail(self, session: Session, ticket: Ticket, survey: CsatSurvey | NpsSurvey) -> SurveyMail:
        customer = session.get(Customer, survey.customer_id)
        # Every email of the ticket so far: the survey follows the last of them.
        last_id = session.exec(select(func.max(Message.id)).where(Message.ticket_id == ticket.id))
        chain = email_chain(session, ticket.id, before_id=last_id.one() + 1)
        last_inbound = next((m for m in reversed(chain) if m.direction == Direction.INBOUND), None)
        token = self._tokens.issue(survey.id, survey.sent_at)
        return SurveyMail(
            question=self._kind.question,
            support_address=self._support_address,
            customer_address=customer.email,
            customer_name=customer.name,
            customer_first_name=first_name(customer.name),
            ticket_number=ticket.number,
            subject=ticket.subject,
            choices=self._kind.scale.links(self._public_url, token),
            links_expire=(survey.sent_at + self._tokens.ttl).date(),
            in_reply_to=last_inbound.email_message_id if last_inbound else None,
            references=[m.email_message_id for m in chain],
            message_id=new_message_id(self._support_address),
            date=utcnow(),
        )
