"""The chat API's bodies, as FastAPI validates them and the OpenAPI schema shows them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.storage.models import Direction, Message

_ADDRESS = re.compile(r"[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+\.[A-Za-z0-9-]{2,}")
# Control characters render as nothing or garbage, and PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > 254 or not _ADDRESS.fullmatch(value):
        raise ValueError("expected an email address such as jane@example.com")
    return value.lower()


def _clean(value: str) -> str:
    return _CONTROL.sub("", value).strip()


def _clean_optional(value: str | None) -> str:
    return _clean(value or "")


Email = Annotated[str | None, AfterValidator(_email)]
Name = Annotated[str | None, Field(max_length=200), AfterValidator(_clean_optional)]
ClientId = Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StartConversation(_Body):
    message: Annotated[str, AfterValidator(_clean)]
    name: Name = ""
    email: Email = None
    page_url: Annotated[str | None, Field(max_length=2000), AfterValidator(_clean_optional)] = ""
    client_id: ClientId = None


class NewMessage(_Body):
    text: Annotated[str, AfterValidator(_clean)]
    client_id: ClientId = None


class Contact(_Body):
    name: Annotated[str | None, Field(max_length=200)] = None
    email: Email = None


class MessageOut(BaseModel):
    id: int
    sender: Literal["visitor", "agent"] = Field(serialization_alias="from")
    name: str
    text: str
    sent_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        by_agent = message.direction == Direction.OUTBOUND
        return cls(
            id=message.id,
            sender="agent" if by_agent else "visitor",
            name=message.author_name,
            text=message.body,
            sent_at=message.created_at,
        )


class ConversationOut(BaseModel):
    id: str
    ticket_number: int
    status: str
    name: str
    email: str | None


class Conversation(BaseModel):
    conversation: ConversationOut
    messages: list[MessageOut]


class Started(Conversation):
    token: str


class Posted(BaseModel):
    message: MessageOut


class Messages(BaseModel):
    messages: list[MessageOut]


class ChatConfig(BaseModel):
    title: str
    color: str
    greeting: str
    open: bool
    back_at: datetime | None
    max_message_chars: int


class ErrorOut(BaseModel):
    error: str
    code: str
