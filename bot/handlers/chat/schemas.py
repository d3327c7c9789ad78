"""The chat API's bodies, as FastAPI validates them and the OpenAPI schema shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.core import text
from bot.storage.models import Direction, Message

# Everything a visitor sends is cleaned here, once (bot/core/text.py): PostgreSQL refuses
# NUL, a JSON "\ud800" escape decodes to a lone surrogate nothing can encode, and a name
# with a line break would end up in an email header.


def _email(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    address = text.plain_address(value)
    if address is None:
        raise ValueError("expected an email address such as jane@example.com")
    return address


def _message(value: str) -> str:
    return text.multi_line(value).strip()


def _name(value: str | None) -> str:
    return text.name(value or "")


def _optional_name(value: str | None) -> str | None:
    return None if value is None else text.name(value)


def _url(value: str | None) -> str:
    return text.single_line(value or "", text.URL_LIMIT)


Email = Annotated[str | None, AfterValidator(_email)]
Name = Annotated[str | None, Field(max_length=200), AfterValidator(_name)]
ClientId = Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StartConversation(_Body):
    message: Annotated[str, AfterValidator(_message)]
    name: Name = ""
    email: Email = None
    page_url: Annotated[str | None, Field(max_length=2000), AfterValidator(_url)] = ""
    client_id: ClientId = None


class NewMessage(_Body):
    text: Annotated[str, AfterValidator(_message)]
    client_id: ClientId = None


class Contact(_Body):
    # None leaves the name as it is; "" clears it.
    name: Annotated[str | None, Field(max_length=200), AfterValidator(_optional_name)] = None
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
    # The public help centre (`/help/`), when the policy has a knowledge base.
    help_url: str | None = None


class ErrorOut(BaseModel):
    error: str
    code: str
