"""The one place that decides whether a person's click, submission, menu, shortcut or command
reaches a listener: agents always; anyone else only for what `OPEN_TO_NON_AGENTS` names.

A Bolt global middleware, so a listener added tomorrow is guarded without remembering to be.
Events (thread messages, App Home) pass: they are not requests to act, and their listeners
decide what a non-agent sees.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, BoltResponse
from slack_sdk import WebClient

from bot.handlers.slack import commands, escalate, shop_approvals
from bot.handlers.slack.common import services_of, tell_if_possible

log = logging.getLogger(__name__)

NOT_AN_AGENT = (
    "Only the support team can do that. Ask an admin to add you to the support channel "
    "(or to the policy's `agents` list)."
)

# What a non-agent may still do, each a predicate (services, body, user) -> bool.
OPEN_TO_NON_AGENTS = (
    commands.asks_for_help,
    escalate.by_tier_member,
    shop_approvals.by_approver,
)


def admit_agents(ack: Ack, body: dict, client: WebClient, context, next) -> BoltResponse | None:
    """Calls `next` for an agent or an allowed request; else answers for the listener."""
    helpdesk = services_of(context)
    user = context.user_id
    if body.get("type") == "event_callback" or (
        user
        and (
            helpdesk.desk.roster.is_agent(user)
            or any(allowed(helpdesk, body, user) for allowed in OPEN_TO_NON_AGENTS)
        )
    ):
        next()
        return None
    log.info("refused %s from non-agent %s", _kind(body), user)
    return _refuse(ack, body, client)


def _kind(body: dict) -> str:
    return body.get("command") or body.get("type") or "request"


def _refuse(ack: Ack, body: dict, client: WebClient) -> BoltResponse:
    """Nothing runs; the person is told privately wherever Slack has a place to say it."""
    kind = body.get("type")
    if "command" in body:
        return ack(NOT_AN_AGENT)
    if kind == "block_suggestion":
        # One menu load per keystroke: an empty menu, not a message each time.
        return ack(options=[])
    if kind == "view_closed":
        return ack()
    inputs = list(((body.get("view") or {}).get("state") or {}).get("values") or {})
    if kind == "view_submission" and inputs:
        return ack(response_action="errors", errors={inputs[0]: NOT_AN_AGENT})
    tell_if_possible(client, body, NOT_AN_AGENT)
    return ack()
