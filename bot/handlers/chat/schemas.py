"""The chat API's bodies, as FastAPI validates them and the OpenAPI schema shows them."""

from __future__ import annotations

import re
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


def _required_email(value: str) -> str:
    address = _email(value)
    if address is None:
        raise ValueError("expected the order's email address, such as jane@example.com")
    return address


def _order_number(value: str) -> str:
    """ "#1001" from "#1001", "1001" or "# 1001"."""
    match = re.fullmatch(r"#?\s*(\d{1,12})", value.strip())
    if match is None:
        raise ValueError("expected an order number such as #1001")
    return f"#{int(match[1])}"


Email = Annotated[str | None, AfterValidator(_email)]
# A token the API handed out (a self-service session, an order look-up's proof).
Handed = Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")]
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
    # The widget's self-service session: writing means it was no deflection.
    self_service: Handed = None
    # A "Track my order" match's token: the conversation starts with that order attached.
    order_lookup: Handed = None


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
    suggestions: bool = False  # articles are suggested as the visitor types
    order_tracking: bool = False  # "Track my order": Shopify is connected


class SessionOut(BaseModel):
    session: str


class Suggestion(BaseModel):
    slug: str
    title: str
    snippet: str  # plain text
    url: str  # the article's page in the help centre


class Suggestions(BaseModel):
    articles: list[Suggestion]


class ArticleOpened(_Body):
    slug: str = Field(max_length=200)


class Deflection(BaseModel):
    deflected: bool


class OrderLookupIn(_Body):
    order: Annotated[str, Field(max_length=40), AfterValidator(_order_number)]
    email: Annotated[str, Field(max_length=320), AfterValidator(_required_email)]


class TrackingOut(BaseModel):
    company: str | None
    number: str | None
    url: str | None  # http(s) only; dropped when it is anything else


class OrderOut(BaseModel):
    name: str
    placed_at: datetime
    cancelled: bool
    payment: str | None  # e.g. "paid"
    fulfilment: str  # e.g. "fulfilled", "unfulfilled", "partially fulfilled"
    tracking: list[TrackingOut]


class OrderFound(BaseModel):
    order: OrderOut
    # Spent once, within the hour, as `order_lookup` when starting a conversation.
    lookup: str


class ErrorOut(BaseModel):
    error: str
    code: str
