"""An approver's Approve / Decline on a shop action over someone's limits (the DM from
bot/deliverers/shop_action_posts.py). Queued clicks: the decision's effects leave through the
outbox; anyone else who clicks is told privately that only an approver can.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.shop_actions import ActionRefused, approve, decline
from bot.handlers.slack.common import services_of, tell
from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.views import ids

log = logging.getLogger(__name__)

QUEUED_ACTIONS = (ids.SHOP_APPROVE, ids.SHOP_DECLINE)
DECISIONS = {ids.SHOP_APPROVE: approve, ids.SHOP_DECLINE: decline}


def register(app: App) -> None:
    for action_id in DECISIONS:
        app.action(action_id)(on_decision)


def by_approver(helpdesk: Services, body: dict, user: str) -> bool:
    """An approver who is not an agent may still approve or decline (the gate asks)."""
    actions = body.get("actions") or [{}]
    return (
        body.get("type") == "block_actions"
        and actions[0].get("action_id") in DECISIONS
        and user in helpdesk.desk.policy.shopify.approvers
    )


def on_decision(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    user = body["user"]["id"]
    clicked = body["actions"][0]
    raw = clicked.get("value") or ""
    if not raw.isdigit():
        tell(client, body, "That request no longer exists.")
        return
    decide = DECISIONS[clicked["action_id"]]
    try:
        with transaction(helpdesk.engine) as session:
            decided = decide(session, helpdesk.desk.policy, int(raw), user)
    except ActionRefused as refused:
        log.info("shop action %s: %s refused to %s: %s", raw, decide.__name__, user, refused)
        tell(client, body, str(refused))
        return
    if decided.refusal:
        tell(client, body, decided.refusal)
