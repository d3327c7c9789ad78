"""The `/helpdesk` slash command (`/escalate` lives with escalation)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core import assistance, metrics
from bot.handlers.slack import customer_history, kb, saved_reply_editing
from bot.handlers.slack.common import services_of
from bot.handlers.slack.permalinks import ticket_lines, with_customers
from bot.handlers.slack.services import Services
from bot.storage import queries
from bot.storage.models import utcnow
from bot.views.digest import assistant_usage, digest_blocks, digest_text, stats_title
from bot.views.escalation_surfaces import EscalationLine, escalation_list
from bot.views.text import escape_mrkdwn, truncate
from bot.views.ticket_list import FIND_LIST_LIMIT, find_answer

HELP = (
    "*Helpdesk*: customer email arrives in this channel as one thread per ticket.\n"
    "• `/helpdesk help`: this message\n"
    "• `/helpdesk find <text, #number or email>`: look tickets up\n"
    "• `/helpdesk customer <email or name>`: who a customer is: their tickets, CSAT, orders\n"
    "• `/helpdesk replies`: create, edit and delete saved replies\n"
    "• `/helpdesk kb <words>`: search the knowledge base's articles\n"
    "• `/helpdesk escalated`: open escalations, since when, and who took them\n"
    "• `/helpdesk stats [today|week|month]`: the digest's figures for today, or the last 7 "
    "or 30 days\n"
    "• `/escalate #number reason`: escalate a ticket\n"
)
AGENT_SUBCOMMANDS = ("find", "customer", "replies", "escalated", "stats", "kb")
FIND_USAGE = "Say what to look for: `/helpdesk find refund`, `/helpdesk find #12` or an email."
STATS_USAGE = "Which period? `/helpdesk stats today`, `/helpdesk stats week` or `month`."


def register(app: App) -> None:
    app.command("/helpdesk")(on_helpdesk)


def _split(command: dict) -> tuple[str, str]:
    subcommand, _, rest = (command.get("text") or "").strip().partition(" ")
    return subcommand.lower(), rest


def asks_for_help(services: Services, body: dict, user: str) -> bool:
    """Anyone may read the help (unknown subcommands get it too); the rest is for agents."""
    return body.get("command") == "/helpdesk" and _split(body)[0] not in AGENT_SUBCOMMANDS


def on_helpdesk(ack: Ack, respond: Respond, command: dict, client: WebClient, context) -> None:
    subcommand, rest = _split(command)
    if subcommand in ("", "help"):
        ack(HELP)
        return
    if subcommand not in AGENT_SUBCOMMANDS:
        ack(f"I did not understand `{escape_mrkdwn(truncate(subcommand, 50))}`.\n{HELP}")
        return
    services = services_of(context)
    if subcommand == "find":
        find(ack, services, rest.strip())
    elif subcommand == "customer":
        customer_history.customer(ack, services, rest.strip())
    elif subcommand == "escalated":
        with Session(services.reader) as session:
            rows = [
                EscalationLine(t.number, t.subject, e.tier_name, e.created_at, e.taken_by)
                for e, t in queries.open_escalations(session)
            ]
        ack(blocks=escalation_list(rows, utcnow()), text=f"{len(rows)} open escalation(s)")
    elif subcommand == "stats":
        stats(ack, respond, services, rest.strip().lower() or "today")
    elif subcommand == "kb":
        kb.search_command(ack, services, rest)
    else:
        ack()
        saved_reply_editing.open_list(client, services.engine, command["trigger_id"])


def find(ack: Ack, services: Services, query: str) -> None:
    """Answers in the ack itself: one query is well inside Slack's three seconds."""
    if not query:
        ack(FIND_USAGE)
        return
    with Session(services.reader) as session:
        found = with_customers(session, queries.find_tickets(session, query, FIND_LIST_LIMIT + 1))
    ack(**find_answer(query, ticket_lines(found, services.permalinks), utcnow()))


def stats(ack: Ack, respond: Respond, services: Services, name: str) -> None:
    """Acknowledged at once, answered through the command's `response_url` (privately, as
    the ack would have): a month's figures read the stored days' rows, but a day not rolled
    up yet is counted from the tickets, so the answer must not race Slack's three seconds."""
    if name not in metrics.RECENT_DAYS:
        ack(STATS_USAGE)
        return
    ack()
    zone = ZoneInfo(services.desk.policy.timezone)
    now = utcnow()
    period = metrics.recent_period(name, now.astimezone(zone).date(), zone)
    with Session(services.reader) as session:
        report = metrics.report(session, period, now)
        usage = assistance.used(session, period.first_day, period.last_day)
    title = stats_title(name, report)
    blocks = digest_blocks(report, title)
    if services.ai is not None or usage.requests:
        blocks.append(assistant_usage(usage))
    respond(blocks=blocks, text=digest_text(report, title))
