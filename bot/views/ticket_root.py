"""The ticket's root message: the thread's first post, kept current with chat.update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.views import ids
from bot.views.customer_history import CustomerHistory, history_line
from bot.views.elements import button, context, option, plain
from bot.views.text import escape_mrkdwn, shown_name, slack_time, truncate
from bot.views.ticket_list import age

STATUS_LABELS = {
    "open": ":large_green_circle: Open",
    "pending": ":hourglass_flowing_sand: Pending",
    "solved": ":white_check_mark: Solved",
    "closed": ":lock: Closed",
}
SOURCE_LABELS = {"email": "email", "chat": "live chat", "slack": "Slack"}
PRIORITIES = ["urgent", "high", "normal", "low"]
VIP_BADGE = ":star: *VIP*  "
STATUS_MENU = {"open": "Reopen", "pending": "Mark pending", "solved": "Mark solved"}
# The overflow's value for closing without counting the ticket as solved, and its label.
CLOSE_UNRESOLVED = "close_unresolved"
CLOSE_UNRESOLVED_LABEL = "Close without resolving (spam, no reply needed)"


@dataclass(frozen=True)
class TicketSummary:
    """What the root shows, gathered by the caller from storage."""

    ticket_id: int
    number: int
    subject: str
    status: str
    priority: str
    source: str
    customer_name: str
    customer_email: str
    assignee: str | None
    tags: list[str]
    escalation: str | None = None  # one line on where an escalation stands, if any
    sla: tuple[SlaState, ...] = ()
    csat: str | None = None  # the customer's latest survey answer, one line, already escaped
    # Live chat only: the page the visitor wrote from, and their browser's User-Agent.
    chat_page: str | None = None
    chat_user_agent: str | None = None
    # "#1001": the order the visitor proved in the widget (number and email matched Shopify).
    chat_order: str | None = None
    order_lookup: bool = False  # Shopify is connected
    vip: bool = False  # a VIP's ticket (the policy's `vip` section, or a rule)
    pending_until: datetime | None = None  # snoozed: reopens by itself then
    history: CustomerHistory | None = None  # the customer's past, in one line
    replying: tuple[str, ...] = ()  # agents with the Reply modal open, earliest first
    merged_into: int | None = None  # the number of the ticket this one was merged into
    # Another open ticket of the customer's, opened in the day before: (its id, its number).
    possibly_same_as: tuple[int, int] | None = None


@dataclass(frozen=True)
class SlaState:
    label: str  # "First response"
    due_at: datetime | None  # while running
    left_seconds: int  # while paused
    breached: bool


def sla_line(state: SlaState) -> str:
    if state.breached:
        return f":red_circle: {state.label}: target missed"
    if state.due_at is None:
        left = age(timedelta(seconds=state.left_seconds))
        return f":double_vertical_bar: {state.label}: paused, {left} left"
    return f":stopwatch: {state.label} due {slack_time(state.due_at, '%Y-%m-%d %H:%M UTC')}"


def status_line(ticket: TicketSummary) -> str:
    if ticket.pending_until is None:
        return STATUS_LABELS[ticket.status]
    return f"{STATUS_LABELS['pending']} until {slack_time(ticket.pending_until)}"


def replying_line(agents: tuple[str, ...]) -> str:
    names = [f"<@{agent}>" for agent in agents]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
    return f":writing_hand: {who} {'is' if len(names) == 1 else 'are'} replying"


def root_text(ticket: TicketSummary) -> str:
    return truncate(f"#{ticket.number} {escape_mrkdwn(ticket.subject)}", 300)


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def browser_summary(user_agent: str) -> str:
    """`Chrome 131 on Windows` from a User-Agent header; the raw header when unrecognised."""
    browser = next(
        (
            f"{name} {user_agent.split(marker, 1)[1].split('.', 1)[0]}"
            for marker, name in _BROWSERS
            if marker in user_agent
        ),
        None,
    )
    if browser is None and "Safari/" in user_agent and "Version/" in user_agent:
        browser = "Safari " + user_agent.split("Version/", 1)[1].split(".", 1)[0]
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser is None:
        return truncate(user_agent, 120) or "unknown browser"
    return f"{browser} on {system}" if system else browser


def _chat_line(ticket: TicketSummary) -> str:
    parts = []
    if ticket.chat_page:
        parts.append(
            f":globe_with_meridians: Started on {escape_mrkdwn(truncate(ticket.chat_page, 300))}"
        )
    if ticket.chat_user_agent:
        parts.append(f":computer: {escape_mrkdwn(browser_summary(ticket.chat_user_agent))}")
    if ticket.chat_order:
        parts.append(f":package: Order {escape_mrkdwn(ticket.chat_order)} verified in the widget")
    return "  ·  ".join(parts)


def root_blocks(ticket: TicketSummary) -> list[dict]:
    if ticket.customer_email:
        customer = escape_mrkdwn(ticket.customer_email)
        if ticket.customer_name:
            customer = f"{shown_name(ticket.customer_name)} ({customer})"
    else:
        customer = f"{escape_mrkdwn(ticket.customer_name or 'a website visitor')} (no email given)"
    chat_line = _chat_line(ticket)
    assignee = f"<@{ticket.assignee}>" if ticket.assignee else "Unassigned"
    tags = ", ".join(f"`{escape_mrkdwn(tag)}`" for tag in ticket.tags) or "none"
    value = str(ticket.ticket_id)
    return [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(
                    f"{VIP_BADGE if ticket.vip else ''}"
                    f"*#{ticket.number} {escape_mrkdwn(ticket.subject)}*",
                    3000,
                ),
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": truncate(
                        f"From {customer} via {SOURCE_LABELS.get(ticket.source, ticket.source)}",
                        3000,
                    ),
                }
            ],
        },
        *([context(chat_line)] if chat_line else []),
        *([context(f":rotating_light: {ticket.escalation}")] if ticket.escalation else []),
        *([context("  ·  ".join(sla_line(state) for state in ticket.sla))] if ticket.sla else []),
        *([context(ticket.csat)] if ticket.csat else []),
        *([context(history_line(ticket.history))] if ticket.history else []),
        *([context(replying_line(ticket.replying))] if ticket.replying else []),
        *(
            [context(f":twisted_rightwards_arrows: Merged into #{ticket.merged_into}")]
            if ticket.merged_into
            else []
        ),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Status*\n{status_line(ticket)}"},
                {"type": "mrkdwn", "text": f"*Priority*\n{ticket.priority.capitalize()}"},
                {"type": "mrkdwn", "text": f"*Assignee*\n{assignee}"},
                {"type": "mrkdwn", "text": truncate(f"*Tags*\n{tags}", 2000)},
            ],
        },
        {
            "type": "actions",
            # The ticket rides in the block ID: selects and menus carry no value of their own.
            "block_id": f"{ids.ROOT_ACTIONS_BLOCK}:{ticket.ticket_id}",
            "elements": _actions(ticket, value),
        },
        *_merge_suggestion(ticket),
    ]


def _merge_suggestion(ticket: TicketSummary) -> list[dict]:
    if ticket.possibly_same_as is None:
        return []
    other_id, other_number = ticket.possibly_same_as
    return [
        {
            "type": "actions",
            "block_id": ids.MERGE_SUGGESTION_BLOCK,
            "elements": [
                button(
                    f"Possibly the same as #{other_number} — Merge",
                    ids.MERGE_SUGGESTED,
                    f"{ticket.ticket_id}:{other_id}",
                )
            ],
        }
    ]


def _actions(ticket: TicketSummary, value: str) -> list[dict]:
    assign_picker = {
        "type": "users_select",
        "action_id": ids.TICKET_ASSIGN_PICK,
        "placeholder": plain("Assign to…"),
    }
    if ticket.assignee:
        assign_picker["initial_user"] = ticket.assignee
    priorities = [option(p.capitalize(), p) for p in PRIORITIES]
    return [
        button("Reply", ids.TICKET_REPLY, value, style="primary"),
        button("Tag", ids.TICKET_TAG, value),
        button("Escalate", ids.TICKET_ESCALATE, value),
        button("Assign to me", ids.TICKET_ASSIGN, value),
        *([button("Orders", ids.TICKET_ORDERS, value)] if ticket.order_lookup else []),
        button("History", ids.TICKET_HISTORY, value),
        assign_picker,
        {
            "type": "static_select",
            "action_id": ids.TICKET_PRIORITY,
            "placeholder": plain("Priority"),
            "options": priorities,
            "initial_option": priorities[PRIORITIES.index(ticket.priority)],
        },
        {
            "type": "overflow",
            "action_id": ids.TICKET_STATUS_MENU,
            "options": [
                *(
                    option(label, status)
                    for status, label in STATUS_MENU.items()
                    if status != ticket.status
                ),
                *(
                    [option(CLOSE_UNRESOLVED_LABEL, CLOSE_UNRESOLVED)]
                    if ticket.status != "closed"
                    else []
                ),
            ],
        },
        *(
            [
                {
                    "type": "overflow",
                    "action_id": ids.TICKET_MORE,
                    "options": [option("Merge into…", ids.MORE_MERGE)],
                }
            ]
            if ticket.status != "closed"
            else []
        ),
        button("Pending until…", ids.TICKET_SNOOZE, value),
        button("Close", ids.TICKET_CLOSE, value, style="danger"),
    ]
