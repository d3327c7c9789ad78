"""Outbox rows for live chat: telling the visitor's open widgets that there is news."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.chat_bus import ChatBus
from bot.core import chat
from bot.core import outbox as kinds
from bot.delivery.contract import CHAT_BUS, Deliverer, ServiceDown
from bot.storage.models import OutboxItem


def chat_deliverers(bus: ChatBus) -> dict[str, Deliverer]:
    return {kinds.CHAT_PUSH: ChatPush(bus)}


class ChatPush:
    service = CHAT_BUS
    posts_to_channel = False

    def __init__(self, bus: ChatBus):
        self._bus = bus

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        conversation = chat.conversation_of(session, item.payload["ticket"])
        if conversation is None:
            return {"skipped": "no conversation"}
        try:
            self._bus.announce(conversation.public_id)
        except OperationalError as exc:  # NOTIFY could not reach PostgreSQL
            raise ServiceDown(f"chat bus: {exc.orig}") from None
        return {"announced": conversation.public_id}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        pass
