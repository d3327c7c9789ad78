"""Erasure's rules on a real database: shared files, the outbox's own posts, mail not yet sent.

The end-to-end story (CLI, Slack, SMTP) is tests/e2e/test_customer_data.py; these are the
cases it doesn't reach: files shared by hash, posts of kinds it doesn't produce.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import customer_data, outbox, privacy
from bot.core.attachments import FileStore
from bot.storage.db import transaction
from bot.storage.models import (
    Attachment,
    Message,
    OutboxItem,
    OutboxStatus,
    Ticket,
    utcnow,
)
from tests.unit.test_attachments import new_message

SAME_BYTES = b"the same invoice, sent by both customers"


def ticket_of(session: Session, store: FileStore, email: str) -> Ticket:
    """A ticket in Slack whose first message came with SAME_BYTES attached."""
    message = new_message(session, email)
    ticket = session.get(Ticket, message.ticket_id)
    ticket.thread_ts = "1700000000.000100"
    kept = store.put(SAME_BYTES)
    session.add(
        Attachment(
            message_id=message.id,
            filename="invoice.pdf",
            content_type="application/pdf",
            size=len(SAME_BYTES),
            sha256=kept.sha256,
            stored_path=kept.path,
        )
    )
    session.flush()
    return ticket


def sent(session: Session, ticket: Ticket, kind: str, payload: dict, ts: str) -> None:
    session.add(
        OutboxItem(
            ticket_id=ticket.id,
            kind=kind,
            payload=payload,
            status=OutboxStatus.SENT,
            result={"ts": ts},
            sent_at=utcnow(),
        )
    )


def test_files_shared_by_hash_stay_and_every_own_post_is_replaced(engine, tmp_path):
    store = FileStore(tmp_path / "data")
    with transaction(engine) as session:
        pat = ticket_of(session, store, "pat@example.com")
        ticket_of(session, store, "kim@example.com")
        sent(session, pat, outbox.CHANNEL_NOTICE, {"channel": "C0LEADS", "text": "x"}, "1.1")
        sent(session, pat, outbox.SHOPIFY_CONTEXT, {}, "1.2")
        sent(session, pat, outbox.DIRECT_MESSAGE, {"user": "U0LEAD", "about": "x"}, "1.3")
        automatic = {"notice": "automatic_reply", "sender": "pat@example.com", "subject": "Away"}
        sent(session, pat, outbox.THREAD_NOTICE, automatic, "1.4")
        first = session.exec(select(Message.id).where(Message.ticket_id == pat.id)).one()
        outbox.send_email(session, pat.id, first)
        mail = session.exec(select(OutboxItem).where(OutboxItem.kind == outbox.EMAIL_SEND)).one()
        mail.last_error = "550 5.1.1 <pat@example.com>: no such user"
    [stored] = [path for path in (tmp_path / "data").rglob("*") if path.is_file()]

    with transaction(engine) as session:
        customer = customer_data.find_customer(session, "Pat@Example.com")
        done = privacy.erase(session, customer, store, actor="U0ADMIN")
    assert done.files_deleted == 0 and stored.read_bytes() == SAME_BYTES  # Kim's file too

    with Session(engine) as session:
        erasures = session.exec(
            select(OutboxItem.payload).where(OutboxItem.kind == outbox.SLACK_ERASE)
        ).all()
        assert sorted(erasures, key=str) == sorted(
            [
                {"channel": "C0LEADS", "ts": "1.1"},
                {"channel": "C0SUPPORT", "ts": "1.2"},
                {"user": "U0LEAD", "ts": "1.3"},
                {"channel": "C0SUPPORT", "ts": "1.4"},
            ],
            key=str,
        )
        mail = session.exec(select(OutboxItem).where(OutboxItem.kind == outbox.EMAIL_SEND)).one()
        assert mail.status == OutboxStatus.FAILED and mail.last_error == privacy.NOT_SENT
        notice = session.exec(
            select(OutboxItem).where(OutboxItem.kind == outbox.CHANNEL_NOTICE)
        ).one()
        assert notice.payload["text"] == privacy.PLACEHOLDER
        facts = session.exec(
            select(OutboxItem.payload).where(OutboxItem.kind == outbox.THREAD_NOTICE)
        ).one()
        assert facts == {"notice": "automatic_reply", "sender": "[erased]", "subject": "[erased]"}

    with transaction(engine) as session:
        kim = customer_data.find_customer(session, "kim@example.com")
        assert privacy.erase(session, kim, store, actor="U0ADMIN").files_deleted == 1
    assert not stored.exists()
