"""What the helpdesk holds about one customer: their rows, and all of it as an export.

`helpdesk customer export` writes `held_about`'s data as JSON and copies its files; erasure
(`bot.core.privacy`) walks the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from bot.core.ticket_moves import MERGE
from bot.core.tickets import tags_of
from bot.storage.models import (
    Attachment,
    ChatConversation,
    CsatSurvey,
    Customer,
    Escalation,
    Message,
    NpsSurvey,
    Ticket,
    TicketEvent,
    TicketMove,
)


def find_customer(session: Session, email: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.email == email.strip().lower())).first()


def tickets_of(session: Session, customer_id: int) -> list[Ticket]:
    return list(
        session.exec(select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.id))
    )


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    """The messages of the ticket's own conversation: with those a merge moved away into
    another ticket (perhaps another customer's), without those merged in from another."""
    away = _merged(session, TicketMove.from_ticket_id == ticket_id)
    merged_in = _merged(session, TicketMove.to_ticket_id == ticket_id)
    return [
        message
        for message in session.exec(
            select(Message)
            .where(or_(Message.ticket_id == ticket_id, Message.id.in_(away)))
            .order_by(Message.id)
        )
        if message.id not in merged_in
    ]


def _merged(session: Session, which) -> set[int]:
    """The ids of the messages moved by the merges (not undone) that `which` selects."""
    moved: set[int] = set()
    for ids in session.exec(
        select(TicketMove.message_ids).where(
            which, TicketMove.kind == MERGE, TicketMove.undone_at.is_(None)
        )
    ):
        moved.update(ids)
    return moved


def rows_of(session: Session, model, ticket_id: int) -> list:
    return list(session.exec(select(model).where(model.ticket_id == ticket_id).order_by(model.id)))


def attachments_of(session: Session, message_ids: list[int]) -> list[Attachment]:
    if not message_ids:
        return []
    return list(
        session.exec(
            select(Attachment).where(Attachment.message_id.in_(message_ids)).order_by(Attachment.id)
        )
    )


@dataclass(frozen=True)
class HeldFile:
    """An attachment kept on disk, and the name it gets in the export."""

    attachment_id: int
    stored_path: str
    export_name: str
    size: int


@dataclass
class Held:
    """Everything held about one customer: `data` as JSON, `files` to copy beside it."""

    data: dict[str, Any]
    files: list[HeldFile]

    @property
    def counts(self) -> dict[str, int]:
        tickets = self.data["tickets"]
        return {
            "tickets": len(tickets),
            "messages": sum(len(t["messages"]) for t in tickets),
            "files": len(self.files),
        }


def _plain(row) -> dict[str, Any]:
    """The row's columns as JSON values (read from the columns: enums are stored as text)."""
    return {column.name: _json_value(getattr(row, column.name)) for column in row.__table__.columns}


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def held_about(session: Session, customer: Customer) -> Held:
    files: list[HeldFile] = []
    tickets = []
    for ticket in tickets_of(session, customer.id):
        messages = []
        for message in messages_of(session, ticket.id):
            attachments = []
            for row in attachments_of(session, [message.id]):
                described = _plain(row)
                if row.stored_path:
                    name = f"attachments/{row.id}-{Path(row.filename).name or 'file'}"
                    files.append(HeldFile(row.id, row.stored_path, name, row.size))
                    described["file"] = name
                attachments.append(described)
            messages.append({**_plain(message), "attachments": attachments})
        conversation = rows_of(session, ChatConversation, ticket.id)
        tickets.append(
            {
                **_plain(ticket),
                "tags": tags_of(session, ticket.id),
                "messages": messages,
                "csat_surveys": [_plain(s) for s in rows_of(session, CsatSurvey, ticket.id)],
                "nps_surveys": [_plain(s) for s in rows_of(session, NpsSurvey, ticket.id)],
                "chat_conversation": _chat(conversation[0]) if conversation else None,
                "escalations": [_plain(e) for e in rows_of(session, Escalation, ticket.id)],
                "events": [_plain(e) for e in rows_of(session, TicketEvent, ticket.id)],
            }
        )
    return Held({"customer": _plain(customer), "tickets": tickets}, files)


def _chat(conversation: ChatConversation) -> dict[str, Any]:
    # The token's hash is a credential of the helpdesk's, not data about the visitor.
    return {k: v for k, v in _plain(conversation).items() if k != "token_hash"}
