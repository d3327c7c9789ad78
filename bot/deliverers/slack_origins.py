"""Outbox rows about tickets made from Slack messages: the links between the ticket's thread
and the message, and agents' answers posted in the message's thread instead of emailed."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core.replies import record_delivery
from bot.deliverers.slack_posts import SlackDeliverer, SlackDelivery, posted_ticket, thread_of
from bot.delivery.contract import Deliverer
from bot.storage.models import Delivery, Message, OutboxItem, TicketOrigin
from bot.views.slack_origin import origin_note, origin_reply
from bot.views.text import FALLBACK_TEXT_LIMIT, escape_mrkdwn, truncate

log = logging.getLogger(__name__)

# The message was deleted, or the channel is gone or closed to the app: no link to give.
MESSAGE_GONE = {"message_not_found", "channel_not_found", "not_in_channel", "is_archived"}


def slack_origin_deliverers(client: WebClient) -> dict[str, Deliverer]:
    slack = SlackDelivery(client, tiers=[])
    return {
        kinds.SLACK_ORIGIN_NOTE: OriginNote(slack),
        kinds.SLACK_ORIGIN_REPLY: OriginReply(slack),
        kinds.SLACK_THREAD_REPLY: ThreadReply(slack),
    }


class OriginNote(SlackDeliverer):
    """In the ticket's thread: a link to the message it was made from."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        origin = session.get(TicketOrigin, ticket.id)
        permalink = self._permalink(origin)
        text = origin_note(origin.author, origin.channel, permalink)
        return self.slack.post_once(item, ticket, thread_of(ticket), in_doubt, lambda: (text, None))

    def _permalink(self, origin: TicketOrigin) -> str | None:
        try:
            response = self.slack.client.chat_getPermalink(
                channel=origin.channel, message_ts=origin.ts
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in MESSAGE_GONE:
                raise
            log.info("no link to %s/%s: %s", origin.channel, origin.ts, exc.response["error"])
            return None
        return response.get("permalink")


class OriginReply(SlackDeliverer):
    """Under the original message: which ticket it became."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        origin = session.get(TicketOrigin, ticket.id)
        shared = bool(item.payload.get("shared"))
        permalink = None if shared else self.slack.permalink(ticket)
        text = origin_reply(ticket.number, ticket.subject, permalink, shared=shared)
        return self.slack.post_once(
            item, ticket, (origin.channel, origin.thread), in_doubt, lambda: (text, None)
        )


class ThreadReply(SlackDeliverer):
    """An agent's answer, posted in the thread of the message the ticket was made from."""

    records_failures = True  # shown Not delivered with Retry, as an email that failed is

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        message = session.get(Message, item.message_id)
        if message.delivery == Delivery.SENT:
            return {"sent": message.id}
        ticket = posted_ticket(session, item)
        origin = session.get(TicketOrigin, ticket.id)
        # As typed: `<!channel>` or a stray `<` stays text in the customer's channel.
        text = truncate(escape_mrkdwn(message.body), FALLBACK_TEXT_LIMIT)
        return self.slack.post_once(
            item, ticket, (origin.channel, origin.thread), in_doubt, lambda: (text, None)
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        record_delivery(session, session.get(Message, item.message_id), result.get("failed"))
