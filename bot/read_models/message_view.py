"""A message of a ticket as its thread shows it: an agent's reply or the customer's words."""

from __future__ import annotations

from bot.core.visitors import reachable
from bot.storage.models import Direction, Message, Source
from bot.views.thread_message import AgentReply, CustomerMessage


def message_view(message: Message) -> AgentReply | CustomerMessage:
    if message.direction == Direction.OUTBOUND:
        return AgentReply(
            message_id=message.id,
            agent_user_id=message.author,
            body=message.body,
            delivery=message.delivery,
            error=message.delivery_error,
            by_chat=message.source == Source.CHAT,
            emailed=message.source == Source.CHAT and message.email_message_id is not None,
            in_slack=message.source == Source.SLACK,
        )
    return CustomerMessage(
        author_name=message.author_name,
        author_email=reachable(message.author) or "",
        body=message.body,
        source=message.source,
        unverified_sender=message.unverified_sender,
    )
