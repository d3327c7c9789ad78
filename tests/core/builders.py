"""Builders for core tests: a policy, its rules, raw mail, and the core over one session.

`Core` passes the desk (policy-derived rules, routing) and tiers to the core the way the
composition root does, so a test says what happens and what it expects, not how to wire it.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.context import Desk
from bot.core.escalation import Tier, escalate, tiers_of
from bot.core.intake import IntakeResult, receive_email
from bot.core.replies import Agent, reply_to_customer
from bot.core.rules import desk_for
from bot.core.sla import SlaRules
from bot.core.tickets import set_status, tags_of
from bot.mail.parse import parse_email
from bot.storage.models import (
    Message,
    OutboxItem,
    OutboxStatus,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketStatus,
    utcnow,
)
from tests.conftest import ON_BOTH_DATABASES as ON_BOTH_DATABASES  # for the tier's tests

SUPPORT = "support@shop.example"
CHANNEL = "C0SUPPORT"
ESCALATION_CHANNEL = "C0ESCALATE"
JANE = "jane@customer.example"
AGENT = Agent("U0AGENT1", "Alex Agent")
# Targets long enough that nothing breaches while a test runs, unless it travels in time.
SLA = {"normal": {"first_response": "1h", "next_response": "2h", "resolution": "1d"}}


def policy(**settings: Any) -> Policy:
    """A policy as the YAML file would give it: the test SLA targets unless told otherwise."""
    return Policy.model_validate({"sla": SLA, **settings})


def desk_of(rules: Policy) -> Desk:
    """The desk as `create_app` builds it (no Shopify, no file store, no surveys)."""
    return desk_for(rules, support_channel=CHANNEL, support_address=SUPPORT)


def email(
    body: str = "Hello, where is my order?",
    *,
    subject: str = "Where is my order?",
    sender: str = f"Jane Doe <{JANE}>",
    to: str = SUPPORT,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    message_id: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """The raw bytes of a customer's mail (a fresh Message-ID unless given), as SMTP delivers
    them; `headers` come first, where the receiving server adds its own."""
    mail = EmailMessage()
    for name, value in headers:
        mail[name] = value
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{message_id}>" if message_id else make_msgid(domain="customer.example")
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = " ".join(f"<{ref}>" for ref in references)
    mail.set_content(body)
    return mail.as_bytes(policy=SMTP)


def message_id_of(raw: bytes) -> str:
    return parse_email(raw).message_id


@dataclass
class Core:
    """One session on a migrated database, and the rules the core is called with."""

    engine: Engine
    session: Session
    desk: Desk

    @property
    def sla(self) -> SlaRules:
        return self.desk.sla

    @property
    def tiers(self) -> list[Tier]:
        return tiers_of(self.desk.policy, ESCALATION_CHANNEL)

    def use(self, rules: Policy) -> None:
        self.desk = desk_of(rules)

    # --- acts, committed like the request or mail that would cause them ---------------------

    def receive(self, raw: bytes, recipients: tuple[str, ...] = (SUPPORT,)) -> IntakeResult:
        result = receive_email(
            self.session, parse_email(raw), raw, recipients=list(recipients), desk=self.desk
        )
        self.session.commit()
        return result

    def reply(self, ticket: Ticket, body: str, **options: Any) -> Message:
        message = reply_to_customer(self.session, self.desk, ticket, AGENT, body, **options)
        self.session.commit()
        return message

    def escalate(self, ticket: Ticket, reason: str = "Needs a refund over my limit", **options):
        escalation = escalate(
            self.session, self.desk, ticket, tiers=self.tiers, actor=AGENT.user_id, reason=reason,
            **options,
        )  # fmt: skip
        self.session.commit()
        return escalation

    def set_status(self, ticket: Ticket, status: TicketStatus) -> None:
        set_status(self.session, self.desk, ticket, status, actor=AGENT.user_id)
        self.session.commit()

    # --- what the core recorded --------------------------------------------------------------

    def ticket(self, number: int) -> Ticket:
        return self.session.exec(select(Ticket).where(Ticket.number == number)).one()

    def tickets(self) -> list[int]:
        return list(self.session.exec(select(Ticket.number).order_by(Ticket.number)))

    def messages(self, ticket: Ticket) -> list[Message]:
        return list(
            self.session.exec(
                select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
            )
        )

    def clocks(self, ticket: Ticket) -> dict[str, SlaClock]:
        """Each kind's latest clock, stopped ones included."""
        rows = self.session.exec(
            select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id)
        )
        return {clock.kind: clock for clock in rows}

    def tags(self, ticket: Ticket) -> list[str]:
        return tags_of(self.session, ticket.id)

    def events(self, ticket: Ticket) -> list[str]:
        rows = self.session.exec(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id)
        )
        return list(rows)

    def outbox(self) -> list[tuple[str, int | None]]:
        """(kind, ticket number) of each outbox row recorded since the last look, in order.

        The rows looked at count as delivered afterwards, as the worker would leave them, so
        that a later change is not merged into a row still waiting (`dedupe_key`).
        """
        rows = self.session.exec(
            select(OutboxItem, Ticket.number)
            .outerjoin(Ticket, Ticket.id == OutboxItem.ticket_id)
            .where(OutboxItem.status == OutboxStatus.PENDING)
            .order_by(OutboxItem.id)
        ).all()
        for item, _ in rows:
            item.status, item.sent_at = OutboxStatus.SENT, utcnow()
        self.session.commit()
        return [(item.kind, number) for item, number in rows]

    def outbox_rows(self, kind: str) -> list[OutboxItem]:
        """Every row of `kind` ever recorded, for what a row carries (message, payload)."""
        return list(
            self.session.exec(
                select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)
            )
        )
