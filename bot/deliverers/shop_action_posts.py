"""What Slack is told about shop actions (bot/core/shop_actions.py): each approver's request
with Approve / Decline (a DM), those messages once decided, and how an action ended, in the
ticket's thread and in the modal that asked for it. Rendered from the action's row when sent
(bot/views/shop_actions.py).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.deliverers.discount_reply import insert_code_into_reply
from bot.deliverers.slack_posts import SlackDeliverer, SlackDelivery, posted_ticket, thread_of
from bot.delivery.contract import Deliverer, RetryLater
from bot.storage.models import OutboxItem, OutboxStatus, ShopAction
from bot.views.shop_actions import approval_decided, approval_request, modal_of, outcome_line

log = logging.getLogger(__name__)

# Slack's answers about a person no retry reaches (the policy names someone who isn't here).
UNREACHABLE_PEOPLE = {"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible"}


def shop_action_post_deliverers(client: WebClient) -> dict[str, Deliverer]:
    slack = SlackDelivery(client, [])
    return {
        kinds.SHOP_APPROVAL_REQUEST: ApprovalRequest(slack),
        kinds.SHOP_APPROVAL_DECISION: ApprovalDecision(slack),
        kinds.SHOP_ACTION_OUTCOME: ActionOutcome(slack),
    }


class ApprovalRequest(SlackDeliverer):
    """One approver's DM; its channel and ts are kept in the row's result for the update."""

    posts_to_channel = False  # a DM, not the ticket's channel

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        action = session.get(ShopAction, item.payload["action"])
        client = self.slack.client
        approver = item.payload["approver"]
        try:
            channel = client.conversations_open(users=approver)["channel"]["id"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in UNREACHABLE_PEOPLE:
                raise
            # The other approvers were asked too; waiting would hold up the ticket's thread.
            log.warning(
                "shop action %s: approver %s can't be asked: %s", action.id, approver, error
            )
            return {"skipped": error}
        link = self.slack.permalink(ticket)
        posted = self.slack.post_once(
            item,
            ticket,
            (channel, None),
            in_doubt,
            lambda: approval_request(action, ticket.number, link),
        )
        return {**posted, "channel": channel}


class ApprovalDecision(SlackDeliverer):
    """Every approver's message about the action shows its decision, buttons gone."""

    posts_to_channel = False

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        action = session.get(ShopAction, item.payload["action"])
        text, blocks = approval_decided(action, ticket.number)
        asked = [
            row
            for row in session.exec(
                select(OutboxItem).where(
                    OutboxItem.kind == kinds.SHOP_APPROVAL_REQUEST,
                    OutboxItem.ticket_id == ticket.id,
                )
            )
            if row.payload.get("action") == action.id
        ]
        if any(row.status == OutboxStatus.PENDING for row in asked):
            raise RetryLater("an approver's request is not in Slack yet", delay=5)
        for row in asked:
            if row.result and row.result.get("ts"):
                self.slack.client.chat_update(
                    channel=row.result["channel"], ts=row.result["ts"], text=text, blocks=blocks
                )
        return {}


class ActionOutcome(SlackDeliverer):
    """The thread's line when an action ended; the modal that asked for it, if still open,
    shows the same (a closed one is no failure)."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        action = session.get(ShopAction, item.payload["action"])
        if action.view_id:
            try:
                self.slack.client.views_update(view_id=action.view_id, view=modal_of(action))
            except SlackApiError as exc:
                log.info(
                    "shop action %s: modal not updated: %s", action.id, exc.response.get("error")
                )
        insert_code_into_reply(self.slack.client, session, action)
        line = outcome_line(action)
        return self.slack.post_once(item, ticket, thread_of(ticket), in_doubt, lambda: (line, None))
