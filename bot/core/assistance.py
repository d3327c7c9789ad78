"""What the AI assistant's work leaves behind: a note in the ticket's thread and an event for
each draft and summary, and the server's use counted per local day (requests, failures,
tokens: one row a day, added to in one statement, so concurrent drafts lose no count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.assistant import TicketData, described
from bot.core.notices import Notice
from bot.core.tickets import record_event
from bot.storage.models import AiUsageDay, Ticket


def drafted(session: Session, ticket: Ticket, agent: str, data: TicketData) -> None:
    """The thread says what the draft was built from; the draft itself is only in the
    agent's modal until they send it."""
    used_here = described(data)
    record_event(session, ticket, "reply_drafted", agent, **used_here)
    outbox.notice(session, ticket.id, Notice.DRAFTED, by=agent, **used_here)


def summarised(session: Session, ticket: Ticket, agent: str, summary: str) -> None:
    record_event(session, ticket, "summarised", agent)
    outbox.notice(session, ticket.id, Notice.SUMMARY, by=agent, text=summary)


def count(
    session: Session, day: date, *, prompt_tokens: int = 0, completion_tokens: int = 0,
    failed: bool = False,
) -> None:  # fmt: skip
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    table = AiUsageDay.__table__
    added = {
        "requests": 1,
        "failures": int(failed),
        "prompt_tokens": max(prompt_tokens, 0),
        "completion_tokens": max(completion_tokens, 0),
    }
    row = dialect.insert(table).values(day=day, **added)
    session.execute(
        row.on_conflict_do_update(
            index_elements=[table.c.day],
            set_={name: table.c[name] + value for name, value in added.items()},
        )
    )


@dataclass(frozen=True)
class Usage:
    requests: int
    failures: int
    prompt_tokens: int
    completion_tokens: int


def used(session: Session, first: date, last: date) -> Usage:
    """The days' totals added up (zeros when the server was never asked)."""
    columns = ("requests", "failures", "prompt_tokens", "completion_tokens")
    sums = session.exec(
        select(*(func.coalesce(func.sum(getattr(AiUsageDay, name)), 0) for name in columns)).where(
            AiUsageDay.day >= first, AiUsageDay.day <= last
        )
    ).one()
    return Usage(*(int(value) for value in sums))
