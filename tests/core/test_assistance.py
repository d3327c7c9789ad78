"""The AI assistant's traces: a note and an event per draft or summary, and the server's use
counted per day in one upsert (on both databases, which spell it differently)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlmodel import Session, select

from bot.core import assistance
from bot.core.assistant import Reference, TicketData
from bot.core.outbox import THREAD_NOTICE
from bot.storage.db import transaction
from bot.storage.models import TicketEvent
from tests.core.builders import ON_BOTH_DATABASES, email

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


@ON_BOTH_DATABASES
def test_use_adds_up_per_day_and_concurrent_counts_are_all_kept(engine):
    def count(n: int) -> None:
        with transaction(engine) as session:
            assistance.count(session, MONDAY, prompt_tokens=100, completion_tokens=n)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(count, range(1, 9)))
    with transaction(engine) as session:
        assistance.count(session, MONDAY, failed=True)
        assistance.count(session, TUESDAY, prompt_tokens=7, completion_tokens=3)
    with Session(engine) as session:
        monday = assistance.used(session, MONDAY, MONDAY)
        both = assistance.used(session, MONDAY, TUESDAY)
        nothing = assistance.used(session, date(2026, 1, 1), date(2026, 1, 31))
    assert monday == assistance.Usage(9, 1, 800, 36)
    assert both == assistance.Usage(10, 1, 807, 39)
    assert nothing == assistance.Usage(0, 0, 0, 0)


def test_a_draft_leaves_a_note_naming_what_it_used_and_the_draft_nowhere(core):
    core.receive(email())
    core.outbox()
    ticket = core.ticket(1)
    data = TicketData(
        number=ticket.number,
        subject=ticket.subject,
        customer_name="Jane",
        conversation=(),
        orders=(Reference("#1001", "Order #1001: paid"),),
        articles=(Reference("Lost parcels", "We resend."),),
    )
    assistance.drafted(core.session, ticket, "U0AGENT", data)
    assistance.summarised(core.session, ticket, "U0AGENT", "Jane wants her parcel.")
    core.session.commit()
    assert core.outbox() == [(THREAD_NOTICE, 1), (THREAD_NOTICE, 1)]
    assert [row.payload for row in core.outbox_rows(THREAD_NOTICE)[-2:]] == [
        {"notice": "drafted", "by": "U0AGENT", "articles": ["Lost parcels"], "orders": ["#1001"]},
        {"notice": "summary", "by": "U0AGENT", "text": "Jane wants her parcel."},
    ]
    kinds = [e.kind for e in core.session.exec(select(TicketEvent).order_by(TicketEvent.id))]
    assert kinds[-2:] == ["reply_drafted", "summarised"]
