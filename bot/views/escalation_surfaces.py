"""Escalation surfaces: the tier channel's post, the modal, the reminder and DMs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.views import ids
from bot.views.elements import button, context, option, plain, section
from bot.views.text import escape_mrkdwn, truncate
from bot.views.ticket_list import age
from bot.views.ticket_root import SlaState, sla_line

REASON_SHOWN = 1500
LAST_MESSAGE_SHOWN = 1000


@dataclass(frozen=True)
class EscalationSummary:
    escalation_id: int
    number: int
    subject: str
    customer: str
    priority: str
    ticket_created_at: datetime
    tier_name: str
    urgency: str
    reason: str
    escalated_by: str
    escalated_at: datetime
    last_customer_message: str | None
    permalink: str | None
    groups: tuple[str, ...] = ()
    taken_by: str | None = None
    resolved_by: str | None = None
    sla: tuple[SlaState, ...] = ()
    ticket_status: str = "open"


def escalation_text(summary: EscalationSummary) -> str:
    return truncate(
        f"#{summary.number} {escape_mrkdwn(summary.subject)} escalated to {summary.tier_name}", 300
    )


def escalation_blocks(summary: EscalationSummary, now: datetime) -> list[dict]:
    mentions = " ".join(f"<!subteam^{group}>" for group in summary.groups)
    title = f"#{summary.number} {escape_mrkdwn(truncate(summary.subject, 200))}"
    if summary.permalink:
        title = f"<{summary.permalink}|{title}>"
    blocks = [
        section(f":rotating_light: *{title}* escalated to *{summary.tier_name}* {mentions}"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Customer*\n{escape_mrkdwn(summary.customer)}"},
                {"type": "mrkdwn", "text": f"*Priority*\n{summary.priority.capitalize()}"},
                {"type": "mrkdwn", "text": f"*Urgency*\n{summary.urgency.capitalize()}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Ticket age*\n{age(now - summary.ticket_created_at)}",
                },
                {"type": "mrkdwn", "text": f"*Escalated by*\n<@{summary.escalated_by}>"},
            ],
        },
        section(f"*Why*\n{escape_mrkdwn(truncate(summary.reason, REASON_SHOWN))}"),
    ]
    if summary.sla:
        blocks.append(context("  ·  ".join(sla_line(state) for state in summary.sla)))
    if summary.last_customer_message:
        quoted = "\n".join(
            f"> {line}"
            for line in escape_mrkdwn(
                truncate(summary.last_customer_message, LAST_MESSAGE_SHOWN)
            ).splitlines()
        )
        blocks.append(section(f"*The customer's last message*\n{quoted}"))
    blocks.append(context(_state(summary, now)))
    value = str(summary.escalation_id)
    actions = []
    if summary.taken_by is None and summary.resolved_by is None:
        actions.append(button("Take it", ids.ESCALATION_TAKE, value, style="primary"))
    if summary.permalink:
        actions.append(
            {**button("Open thread", ids.ESCALATION_OPEN_THREAD, value), "url": summary.permalink}
        )
    if summary.resolved_by is None:
        actions.append(button("De-escalate", ids.ESCALATION_RESOLVE, value))
    if actions:
        blocks.append({"type": "actions", "elements": actions})
    return blocks


def _state(summary: EscalationSummary, now: datetime) -> str:
    if summary.resolved_by and summary.ticket_status in ("solved", "closed"):
        return f":white_check_mark: Ticket {summary.ticket_status}, nothing left to take"
    if summary.resolved_by:
        return f":leftwards_arrow_with_hook: Back with support (<@{summary.resolved_by}>)"
    if summary.taken_by:
        return f":raised_hand: Taken by <@{summary.taken_by}>"
    waited = age(now - summary.escalated_at)
    return f":hourglass_flowing_sand: Waiting for someone to take it for {waited}"


def reannounce_text(summary: EscalationSummary, now: datetime) -> str:
    mentions = " ".join(f"<!subteam^{group}>" for group in summary.groups)
    title = f"#{summary.number} {escape_mrkdwn(truncate(summary.subject, 150))}"
    if summary.permalink:
        title = f"<{summary.permalink}|{title}>"
    return (
        f":alarm_clock: Still waiting: nobody has taken {title} for "
        f"{age(now - summary.escalated_at)}. {mentions}"
    ).strip()


@dataclass(frozen=True)
class TicketChoice:
    ticket_id: int
    number: int
    subject: str


def ticket_option(choice: TicketChoice) -> dict:
    return option(truncate(f"#{choice.number} {choice.subject}", 75), str(choice.ticket_id))


def escalation_modal(
    tiers: list[tuple[int, str]], ticket: TicketChoice | None, channel: str | None
) -> dict:
    picker = {
        "type": "external_select",
        "action_id": ids.ESCALATION_TICKET,
        "placeholder": plain("Type a number or words from the subject"),
        "min_query_length": 0,
    }
    if ticket is not None:
        picker["initial_option"] = ticket_option(ticket)
    tier_options = [option("The next tier up", "next")] + [
        option(name, str(index)) for index, name in tiers
    ]
    urgencies = [option(u.capitalize(), u) for u in ("normal", "high", "urgent")]
    return {
        "type": "modal",
        "callback_id": ids.ESCALATION_MODAL,
        "private_metadata": json.dumps({"channel": channel}),
        "title": plain("Escalate a ticket", 24),
        "submit": plain("Escalate"),
        "close": plain("Cancel"),
        "blocks": [
            _input(ids.ESCALATION_TICKET_BLOCK, "Ticket", picker),
            _input(
                ids.ESCALATION_TIER_BLOCK,
                "To",
                {
                    "type": "static_select",
                    "action_id": ids.ESCALATION_TIER,
                    "options": tier_options,
                    "initial_option": tier_options[0],
                },
            ),
            _input(
                ids.ESCALATION_URGENCY_BLOCK,
                "Urgency",
                {
                    "type": "static_select",
                    "action_id": ids.ESCALATION_URGENCY,
                    "options": urgencies,
                    "initial_option": urgencies[0],
                },
            ),
            _input(
                ids.ESCALATION_REASON_BLOCK,
                "Why",
                {
                    "type": "plain_text_input",
                    "action_id": ids.ESCALATION_REASON,
                    "multiline": True,
                    "max_length": 3000,
                    "placeholder": plain("What the next tier needs to know"),
                },
            ),
        ],
    }


def _input(block_id: str, label: str, element: dict) -> dict:
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element}


def escalation_badge_text(tier_name: str, escalated_by: str, taken_by: str | None) -> str:
    taken = f", taken by <@{taken_by}>" if taken_by else ", waiting to be taken"
    return f"Escalated to *{tier_name}* by <@{escalated_by}>{taken}"


@dataclass(frozen=True)
class EscalationLine:
    number: int
    subject: str
    tier_name: str
    since: datetime
    taken_by: str | None


def escalation_list(lines: list[EscalationLine], now: datetime) -> list[dict]:
    """What managers see with `/helpdesk escalated`: oldest first."""
    if not lines:
        return [section("No ticket is escalated right now.")]
    return [
        section(
            f"*#{line.number} {escape_mrkdwn(truncate(line.subject, 120))}* · {line.tier_name} "
            f"for {age(now - line.since)} · "
            + (f"taken by <@{line.taken_by}>" if line.taken_by else "*nobody has taken it*")
        )
        for line in lines[:45]
    ]
