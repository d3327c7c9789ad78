"""A conversation's Server-Sent Events stream: every visible message after a cursor, live.

The stream sleeps until the chat bus wakes it, then reads what is new from the database.
Messages carry their id as the SSE `id`, so a reconnecting browser (or the widget, with
`after=`) resumes exactly where it stopped: nothing is skipped and nothing repeated.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import anyio
from fastapi import Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from bot.chat_bus import ChatBus
from bot.core import chat
from bot.handlers.chat.schemas import MessageOut
from bot.storage.db import transaction
from bot.storage.models import ChatConversation

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15
# How often a quiet stream checks that its visitor is still there.
DISCONNECT_CHECK_SECONDS = 5
RECONNECT_MILLISECONDS = 3000


async def event_stream(
    engine: Engine, bus: ChatBus, conversation: ChatConversation, after: int, request: Request
) -> AsyncIterator[str]:
    subscription = bus.subscribe(conversation.public_id)
    cursor = after

    def new_messages() -> list[MessageOut]:
        with transaction(engine) as session:
            messages = chat.visible_messages(session, conversation.ticket_id, cursor)
            chat.mark_seen(session, conversation, messages[-1].id if messages else None)
        return [MessageOut.of(m) for m in messages]

    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
        quiet = 0.0
        while True:
            for message in await run_in_threadpool(new_messages):
                cursor = message.id
                data = message.model_dump_json(by_alias=True)
                yield f"id: {message.id}\nevent: message\ndata: {data}\n\n"
            while not await subscription.wait(DISCONNECT_CHECK_SECONDS):
                if await request.is_disconnected():
                    return
                quiet += DISCONNECT_CHECK_SECONDS
                if quiet >= KEEPALIVE_SECONDS:
                    quiet = 0.0
                    yield ": keep-alive\n\n"
            if bus.closing.is_set():
                return
    finally:
        bus.unsubscribe(subscription)
        # The visitor was here until now; a reply after this may need to go by email.
        with anyio.CancelScope(shield=True):
            try:
                await run_in_threadpool(_left, engine, conversation)
            except Exception as exc:  # the database may be what ended the stream
                log.info("chat: could not note when visitor of %s left: %s", conversation.id, exc)


def _left(engine: Engine, conversation: ChatConversation) -> None:
    with transaction(engine) as session:
        chat.mark_seen(session, conversation, None)
