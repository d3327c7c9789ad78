"""What every shop action's Slack side shares: the shop's write side, the user groups the
policy's limits name that an agent is in, and recording a submitted action (after Slack has
its answer) with the modal told what became of it.

A form's submission acknowledges with its "in progress" view first (`action_in_progress`),
then calls `record_action`: within the agent's limits the outbox sends it and updates the
modal when Shopify answered; over them the modal says it went to the approvers; refused
(another action on the order under way) the modal says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import Session

from bot.config import Pool
from bot.core.customer_links import owner_of
from bot.core.roster import MembersUnknown
from bot.core.shop_actions import ActionRefused, ActionRequest, ActionState, request_action
from bot.handlers.slack.services import Services
from bot.integrations.shopify_actions import ActionableOrder, ShopifyActions, ShopifyError
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views.shop_action_menu import KIND_LABELS, action_refused
from bot.views.shop_actions import modal_of

log = logging.getLogger(__name__)

NOT_CONNECTED = (
    "Shopify isn't connected: set SHOPIFY_SHOP and SHOPIFY_ACCESS_TOKEN to look up orders."
)
NOT_THEIRS = (
    "That order is not this ticket's customer's, so nothing can be done to it from here. If it "
    "is theirs, link the ticket to its customer from the Shopify post in the thread."
)


@dataclass(frozen=True)
class OwnOrder:
    """An order read fresh from Shopify for an action, proven the ticket's customer's."""

    ticket_id: int
    order: ActionableOrder
    read_at: datetime  # when it was read: an action on it recorded since refuses the form's


def own_order(helpdesk: Services, kind: str, ticket_id: int, order_id: str) -> OwnOrder | dict:
    """The order an action's form is about, or the modal saying why there is none: Shopify
    not connected, the token without the action's scope, the order unreadable, or not the
    ticket's customer's (the same answer whether it exists or not: nothing of others' orders)."""
    shop = shop_of(helpdesk)
    if shop is None:
        return action_refused(kind, NOT_CONNECTED)
    with Session(helpdesk.reader) as session:
        ticket = session.get(Ticket, ticket_id)
        owner = owner_of(session, ticket) if ticket else None
    if owner is None:
        return action_refused(kind, "This ticket no longer exists.")
    try:
        missing = shop.available_actions().get(kind)
        if missing:
            return action_refused(
                kind,
                f"{KIND_LABELS[kind]} needs the {missing} scope, which the Shopify token lacks: "
                "add it to the app in the Shopify admin.",
            )
        read_at = utcnow()
        order = shop.order(order_id)
    except (ShopifyError, ValueError) as problem:  # ValueError: not an order's GID
        log.info("shop action %s on %s: %s", kind, order_id, problem)
        return action_refused(kind, f"Shopify didn't give the order: {problem}")
    if order is None or not owner.owns(order.customer_id, order.customer_email):
        log.info("shop action %s refused: %s is not ticket %s's", kind, order_id, ticket_id)
        return action_refused(kind, NOT_THEIRS)
    return OwnOrder(ticket_id, order, read_at)


def shop_of(helpdesk: Services) -> ShopifyActions | None:
    """The shop's write side, when Shopify is connected."""
    return ShopifyActions(helpdesk.shopify.client) if helpdesk.shopify else None


def limit_groups(helpdesk: Services, user: str) -> frozenset[str]:
    """The user groups named in `shopify.limits` that `user` is in (the roster keeps each
    group's members a few minutes, so this seldom asks Slack). Not asked when the user has
    limits of their own, which come first."""
    limits = helpdesk.desk.policy.shopify.limits
    if user in limits:
        return frozenset()
    groups = set()
    for owner in limits:
        if not owner.startswith("S"):
            continue
        try:
            if user in helpdesk.desk.roster.pool_members(Pool(usergroup=owner)):
                groups.add(owner)
        except MembersUnknown as unknown:
            log.warning("shop limits: user group %s can't be read (%s)", owner, unknown)
    return frozenset(groups)


def record_action(client: WebClient, helpdesk: Services, request: ActionRequest) -> None:
    """Records the submitted action and shows its state in the modal (`request.view_id`),
    which already says it is in progress; a new action being sent is left to the outbox to
    update, so this never overwrites its outcome."""
    try:
        with transaction(helpdesk.engine) as session:
            done = request_action(session, helpdesk.desk.policy, request)
        sending = done.new and done.action.state == ActionState.QUEUED
        view = None if sending else modal_of(done.action)
        if done.new:
            log.info(
                "shop action %s (%s) by %s: %s",
                done.action.id, request.kind, request.requested_by, done.action.state,
            )  # fmt: skip
    except ActionRefused as refused:
        log.info("shop action %s by %s refused: %s", request.kind, request.requested_by, refused)
        view = action_refused(request.kind.value, str(refused))
    if view is not None and request.view_id:
        client.views_update(view_id=request.view_id, view=view)
