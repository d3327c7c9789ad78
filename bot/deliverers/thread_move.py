"""A policy rule moved a ticket whose thread was already posted: a new root in the new channel,
a link to it left in the old thread, and (by a notice row) a link back in the new one.

Slack's refusal to post there (the bot is not in the channel, it was archived or deleted) is
no failure of the row: the old thread says why, and the ticket stays where it was.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core import outbox
from bot.core import outbox as kinds
from bot.core.notices import Notice
from bot.core.tickets import record_event
from bot.deliverers.slack_posts import (
    UNUSABLE_CHANNEL,
    SlackDeliverer,
    SlackDelivery,
    posted_ticket,
    render_root,
    thread_of,
)
from bot.delivery.contract import Deliverer
from bot.storage.models import OutboxItem, Ticket
from bot.views.notices import move_refused, moved_root, thread_moved_away


def move_deliverers(client: WebClient, order_lookup: bool) -> dict[str, Deliverer]:
    return {kinds.SLACK_MOVE_THREAD: ThreadMove(SlackDelivery(client, [], order_lookup))}


class ThreadMove(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        target, rule = item.payload["channel"], item.payload["rule"]
        if ticket.channel == target:
            return {"moved": False}
        # A retry may follow an attempt that posted some of the three: look before each.
        again = in_doubt or item.attempts > 1
        try:
            root = self.slack.post_once(
                item, ticket, (target, None), again,
                lambda: render_root(session, ticket, self.slack.order_lookup),
            )  # fmt: skip
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in UNUSABLE_CHANNEL:
                raise
            note = move_refused(rule, target, error)
            self.slack.post_once(item, ticket, thread_of(ticket), again, lambda: (note, None))
            return {"moved": False, "refused": error}
        old_link = self.slack.permalink(ticket)
        new_link = self.slack.client.chat_getPermalink(channel=target, message_ts=root["ts"])
        note = thread_moved_away(rule, target, new_link["permalink"])
        self.slack.post_once(item, ticket, thread_of(ticket), again, lambda: (note, None))
        # The old root keeps no buttons that would act from the wrong place, nor the customer's
        # details (an erasure replaces the current root only).
        self.slack.client.chat_update(
            channel=ticket.channel,
            ts=ticket.thread_ts,
            text=moved_root(ticket.number, target, new_link["permalink"]),
            blocks=[],
        )
        return {"moved": True, "ts": root["ts"], "from": ticket.channel, "link": old_link}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        if not result.get("moved"):
            return
        ticket = session.get(Ticket, item.ticket_id)
        rule, previous = item.payload["rule"], ticket.channel
        ticket.channel, ticket.thread_ts = item.payload["channel"], result["ts"]
        record_event(
            session, ticket, "channel_changed", f"rule:{rule}", old=previous, new=ticket.channel
        )
        outbox.notice(
            session, ticket.id, Notice.THREAD_MOVED_HERE,
            rule=rule, channel=result["from"], link=result["link"],
        )  # fmt: skip
