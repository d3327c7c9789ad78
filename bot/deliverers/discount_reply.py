"""A discount code made from the Reply modal goes into the answer there, as an order's status
does (bot/handlers/slack/orders.py), once Shopify has made it.

The answer is the one the agent had when they opened the Discount form over the Reply modal,
recorded with the action (`params["reply"]`): Slack never says what a modal holds unasked.
Only an action carried out at once is inserted: one that waited for an approver finishes
long after, when the agent has moved on and their reply may be sent or rewritten, so the
code is in the thread for them instead.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core.shop_actions import ActionKind, ActionState
from bot.read_models.reply_draft import ReplyFeatures, draft_for
from bot.storage.models import ShopAction, Ticket
from bot.views.discount_modal import discount_in_reply
from bot.views.reply_modal import reply_modal

log = logging.getLogger(__name__)


def insert_code_into_reply(client: WebClient, session: Session, action: ShopAction) -> bool:
    """Whether the code went into the Reply modal the Discount form was opened from."""
    params = action.params or {}
    reply = params.get("reply")
    if (
        action.kind != ActionKind.DISCOUNT
        or action.state != ActionState.DONE
        or not reply
        or action.approver
    ):
        return False
    ticket = session.get(Ticket, action.ticket_id)
    percentage = params.get("percentage")
    sentence = discount_in_reply(
        str(params["code"]),
        "percentage" if percentage is not None else "amount",
        str(percentage if percentage is not None else params.get("amount")),
        str(params.get("currency") or ""),
        datetime.fromisoformat(params["ends_at"]).date(),
    )
    answer = str(reply.get("answer") or "")
    answer = f"{answer.rstrip()}\n\n{sentence}" if answer.strip() else sentence
    draft = draft_for(
        session,
        ticket,
        ReplyFeatures(**reply.get("features") or {}),
        answer,
        version=int(reply.get("version") or 0) + 1,
        seen=reply.get("seen"),
    )
    try:
        client.views_update(view_id=reply["view"], view=reply_modal(draft))
    except SlackApiError as exc:
        # Closed or sent meanwhile: the code is in the thread all the same.
        log.info("discount %s: reply modal not updated: %s", action.id, exc.response.get("error"))
        return False
    return True
