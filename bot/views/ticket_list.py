"""Tickets as a list with links to their threads: the App Home and `/helpdesk find`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.views import ids
from bot.views.elements import button, context, plain, section
from bot.views.text import escape_mrkdwn, truncate

HOME_LIST_LIMIT = 30  # three lists and their headings stay inside a view's 100 blocks
FIND_LIST_LIMIT = 20  # callers ask for one more, to know when there are more


@dataclass(frozen=True)
class TicketLine:
    """What a list shows of a ticket, gathered by the caller from storage."""

    number: int
    subject: str
    status: str
    customer: str
    updated_at: datetime
    permalink: str | None  # None until the ticket's thread exists
    sla_missed: bool = False
    sla_due: datetime | None = None  # the nearest running SLA clock's breach


def ticket_line(ticket: TicketLine, now: datetime) -> dict:
    title = f"#{ticket.number} {escape_mrkdwn(truncate(ticket.subject, 120))}"
    link = f"<{ticket.permalink}|{title}>" if ticket.permalink else title
    sla = ""
    if ticket.sla_missed:
        sla = " · :red_circle: SLA missed"
    elif ticket.sla_due is not None:
        left = ticket.sla_due - now
        sla = f" · :stopwatch: SLA due in {age(left)}" if left.total_seconds() > 0 else ""
    return section(
        f"*{link}*\n{escape_mrkdwn(truncate(ticket.customer, 200))} · {ticket.status} · "
        f"updated {age(now - ticket.updated_at)} ago{sla}"
    )


def age(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // (24 * 60)}d {minutes // 60 % 24}h"


def home_view(
    waiting: list[TicketLine],
    mine: list[TicketLine],
    unassigned: list[TicketLine],
    now: datetime,
    *,
    knowledge_base: bool = False,
) -> dict:
    """An agent's App Home: their customers waiting for an answer (longest first), their open
    tickets, then everyone's unassigned ones. `knowledge_base`: the policy has one, listed
    from a button."""
    buttons = [button("Saved replies", ids.HOME_SAVED_REPLIES, "open")]
    if knowledge_base:
        buttons.append(button("Knowledge base", ids.HOME_KB, "open"))
    blocks: list[dict] = [
        {"type": "header", "text": plain("Helpdesk", 150)},
        {"type": "actions", "elements": buttons},
    ]
    for heading, tickets, empty in (
        ("My customers waiting", waiting, "No customer of yours is waiting for an answer."),
        ("Your open tickets", mine, "Nothing assigned to you is open."),
        ("Unassigned", unassigned, "Every open ticket has someone."),
    ):
        blocks += [{"type": "divider"}, {"type": "header", "text": plain(heading, 150)}]
        if not tickets:
            blocks.append(context(empty))
        blocks += [ticket_line(ticket, now) for ticket in tickets[:HOME_LIST_LIMIT]]
    return {"type": "home", "blocks": blocks}


def outsider_home_view() -> dict:
    """The App Home of someone outside the support team."""
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain("Helpdesk", 150)},
            section(
                "This app is for the support team: customer email arrives in the support "
                "channel as one thread per ticket, and agents answer from there. If you "
                "should be helping, ask an admin to add you to the support channel."
            ),
        ],
    }


def find_answer(query: str, tickets: list[TicketLine], now: datetime) -> dict:
    """The `text` and `blocks` of a private answer to `/helpdesk find`."""
    asked = f"`{escape_mrkdwn(truncate(query, 200))}`"
    if not tickets:
        summary = f"No tickets match {asked}."
        return {"text": summary, "blocks": [section(summary)]}
    shown = tickets[:FIND_LIST_LIMIT]
    if len(tickets) > FIND_LIST_LIMIT:
        summary = f"More than {FIND_LIST_LIMIT} tickets match {asked}; the latest updated:"
    elif len(tickets) == 1:
        summary = f"1 ticket matches {asked}:"
    else:
        summary = f"{len(tickets)} tickets match {asked}:"
    return {
        "text": summary,
        "blocks": [context(summary), *(ticket_line(ticket, now) for ticket in shown)],
    }
