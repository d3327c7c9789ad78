"""Outbox rows that go to Slack: ticket roots, thread messages, their updates, and DMs."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core.tickets import tags_of
from bot.jobs.delivery import Deliverer, RetryLater
from bot.storage.models import Customer, Direction, Message, OutboxItem, Ticket
from bot.views import ids
from bot.views.notifications import assigned_text
from bot.views.thread_message import (
    AgentReply,
    CustomerMessage,
    agent_reply_blocks,
    agent_reply_text,
    customer_message_blocks,
    customer_message_text,
)
from bot.views.ticket_root import TicketSummary, root_blocks, root_text

log = logging.getLogger(__name__)

LOOKUP_PAGES = 10


def slack_deliverers(client: WebClient) -> dict[str, Deliverer]:
    slack = SlackDelivery(client)
    return {
        kinds.SLACK_POST_ROOT: RootPost(slack),
        kinds.SLACK_POST_MESSAGE: MessagePost(slack),
        kinds.SLACK_UPDATE_ROOT: RootUpdate(slack),
        kinds.SLACK_UPDATE_MESSAGE: MessageUpdate(slack),
        kinds.SLACK_DIRECT_MESSAGE: DirectMessage(slack),
    }


class SlackDelivery:
    def __init__(self, client: WebClient):
        self.client = client

    def post(
        self, item: OutboxItem, ticket: Ticket, thread_ts: str | None, text: str, blocks: list
    ) -> dict:
        response = self.client.chat_postMessage(
            channel=ticket.channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": ids.OUTBOX_METADATA_EVENT,
                "event_payload": {"outbox_id": item.id, "ticket": ticket.number},
            },
        )
        return {"ts": response["ts"]}

    def find_posted(self, item: OutboxItem, ticket: Ticket, thread_ts: str | None) -> dict | None:
        """The ts of this row's message if an earlier attempt did post it, else None."""
        cursor = None
        for _ in range(LOOKUP_PAGES):
            arguments = {
                "channel": ticket.channel,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if thread_ts:
                response = self.client.conversations_replies(ts=thread_ts, **arguments)
            else:
                oldest = item.created_at.timestamp() - 60
                response = self.client.conversations_history(oldest=f"{oldest:.6f}", **arguments)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == ids.OUTBOX_METADATA_EVENT
                    and payload.get("outbox_id") == item.id
                ):
                    log.info("outbox row %s was already in Slack as %s", item.id, message["ts"])
                    return {"ts": message["ts"]}
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        raise RetryLater("could not finish looking for an earlier attempt", definite=False)

    def post_once(
        self, item: OutboxItem, ticket: Ticket, thread_ts: str | None, in_doubt: bool, render
    ) -> dict:
        found = self.find_posted(item, ticket, thread_ts) if in_doubt else None
        return found or self.post(item, ticket, thread_ts, *render())


class _SlackDeliverer:
    def __init__(self, slack: SlackDelivery):
        self.slack = slack

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        """Most deliveries change nothing locally once done."""


class RootPost(_SlackDeliverer):
    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = session.get(Ticket, item.ticket_id)
        if ticket.thread_ts:
            return {"ts": ticket.thread_ts}
        return self.slack.post_once(
            item, ticket, None, in_doubt, lambda: render_root(session, ticket)
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        session.get(Ticket, item.ticket_id).thread_ts = result["ts"]


class MessagePost(_SlackDeliverer):
    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        message = session.get(Message, item.message_id)
        return self.slack.post_once(
            item, ticket, ticket.thread_ts, in_doubt, lambda: render_message(message)
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        session.get(Message, item.message_id).slack_ts = result["ts"]


class RootUpdate(_SlackDeliverer):
    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        text, blocks = render_root(session, ticket)
        self.slack.client.chat_update(
            channel=ticket.channel, ts=ticket.thread_ts, text=text, blocks=blocks
        )
        return {"ts": ticket.thread_ts}


class MessageUpdate(_SlackDeliverer):
    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        message = session.get(Message, item.message_id)
        if message.slack_ts is None:
            raise RetryLater("the message is not in Slack yet", delay=5)
        text, blocks = render_message(message)
        self.slack.client.chat_update(
            channel=ticket.channel, ts=message.slack_ts, text=text, blocks=blocks
        )
        return {"ts": message.slack_ts}


class DirectMessage(_SlackDeliverer):
    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        client = self.slack.client
        permalink = client.chat_getPermalink(channel=ticket.channel, message_ts=ticket.thread_ts)
        channel = client.conversations_open(users=item.payload["user"])["channel"]["id"]
        text = assigned_text(
            ticket.number, ticket.subject, permalink.get("permalink"), item.payload["by"]
        )
        response = client.chat_postMessage(channel=channel, text=text)
        return {"ts": response["ts"]}


def posted_ticket(session: Session, item: OutboxItem) -> Ticket:
    ticket = session.get(Ticket, item.ticket_id)
    if ticket.thread_ts is None:
        raise RetryLater("the ticket's root message is not in Slack yet", delay=5)
    return ticket


def render_root(session: Session, ticket: Ticket) -> tuple[str, list]:
    customer = session.get(Customer, ticket.customer_id)
    summary = TicketSummary(
        ticket_id=ticket.id,
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        source=ticket.source,
        customer_name=customer.name,
        customer_email=customer.email,
        assignee=ticket.assignee,
        tags=tags_of(session, ticket.id),
    )
    return root_text(summary), root_blocks(summary)


def render_message(message: Message) -> tuple[str, list]:
    if message.direction == Direction.OUTBOUND:
        reply = AgentReply(
            message_id=message.id,
            agent_user_id=message.author,
            body=message.body,
            delivery=message.delivery,
            error=message.delivery_error,
        )
        return agent_reply_text(reply), agent_reply_blocks(reply)
    view = CustomerMessage(
        author_name=message.author_name,
        author_email=message.author,
        body=message.body,
        source=message.source,
    )
    return customer_message_text(view), customer_message_blocks(view)
