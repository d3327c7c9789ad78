"""The AI assistant in the Reply modal: "Draft a reply" and "Summarise".

The server can take seconds, so nothing waits on it before acknowledging: the click is
acknowledged, the modal says "Drafting…", the server is asked, and the modal is updated
with the draft in the answer box, for the agent to edit and send, or with a note saying why
there is none. Nothing the model writes is sent or acted on: a draft goes out only when the
agent submits the modal, and a summary is a note in the thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core import assistance
from bot.core.assistant import Reference, TicketData, draft_request, summary_request
from bot.core.customer_links import owner_of
from bot.handlers.slack.common import metadata_of, services_of
from bot.handlers.slack.replies import answer_of
from bot.handlers.slack.services import Services
from bot.integrations.ai import AiProblem, Completion
from bot.integrations.customer_orders import own_orders
from bot.integrations.shopify import Order, ShopifyError
from bot.read_models.assistant_input import ticket_data
from bot.read_models.reply_draft import draft_for, with_addition
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views import ids
from bot.views.reply_modal import ANSWER_LIMIT, reply_modal

log = logging.getLogger(__name__)

DRAFTED = "Draft added to the answer: check and edit it before you send it."
SUMMARISED = "Summary posted in the ticket's thread."


def register(app: App) -> None:
    app.action(ids.REPLY_DRAFT)(on_draft)
    app.action(ids.REPLY_SUMMARISE)(on_summarise)


class _Modal:
    """The Reply modal the click came from, redrawn as the assistant works. Each update names
    the hash of the view it replaces: if the agent changed the modal meanwhile (picked a
    saved reply, say), Slack refuses it, and their change stays."""

    def __init__(self, helpdesk: Services, client: WebClient, body: dict) -> None:
        self.helpdesk, self.client = helpdesk, client
        self.agent = body["user"]["id"]
        view = body["view"]
        self.view_id, self.hash = view["id"], view.get("hash")
        self.metadata = metadata_of(view)
        self.version = self.metadata.get("version", 0)
        self.answer = answer_of(view)[1]

    def show(self, *, status: str | None = None, notice: str | None = None) -> bool:
        with Session(self.helpdesk.reader) as session:
            ticket = session.get(Ticket, self.metadata.get("ticket_id", 0))
            if ticket is None:
                return False
            draft = draft_for(
                session,
                ticket,
                self.helpdesk.reply_features,
                self.answer,
                version=self.version,
                notice=notice,
                seen=self.metadata.get("seen"),
                assistant_status=status,
            )
        try:
            shown = self.client.views_update(
                view_id=self.view_id, hash=self.hash, view=reply_modal(draft)
            )
        except SlackApiError as refused:
            log.info("Reply modal %s not updated: %s", self.view_id, refused.response.get("error"))
            return False
        self.hash = shown["view"].get("hash")
        return True

    def ticket_data(self) -> TicketData | None:
        """This ticket's data, with its customer's own orders (asked of Shopify here, after
        the acknowledgement and outside any transaction)."""
        helpdesk = self.helpdesk
        with Session(helpdesk.reader) as session:
            ticket = session.get(Ticket, self.metadata.get("ticket_id", 0))
            if ticket is None:
                return None
            data = ticket_data(session, ticket, articles=helpdesk.kb is not None)
            owner = owner_of(session, ticket) if helpdesk.shopify is not None else None
        return replace(data, orders=tuple(map(_described, self._orders(owner))))

    def _orders(self, owner) -> list[Order]:
        if self.helpdesk.shopify is None or owner is None:
            return []
        try:
            orders = own_orders(self.helpdesk.shopify, owner)
        except ShopifyError as problem:
            log.info("drafting without orders: %s", problem)
            return []
        return orders[: self.helpdesk.desk.policy.shopify.recent_orders]

    def ask(self, request: list[dict[str, str]]) -> Completion:
        """The server's answer, its use counted either way; AiProblem when there is none."""
        ai = self.helpdesk.ai
        zone = ZoneInfo(self.helpdesk.desk.policy.timezone)
        day = utcnow().astimezone(zone).date()
        try:
            answer = ai.complete(request)
        except AiProblem:
            with transaction(self.helpdesk.engine) as session:
                assistance.count(session, day, failed=True)
            raise
        with transaction(self.helpdesk.engine) as session:
            assistance.count(
                session,
                day,
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
            )
        return answer

    def record(self, what: Callable[[Session, Ticket], None]) -> None:
        with transaction(self.helpdesk.engine) as session:
            ticket = session.get(Ticket, self.metadata.get("ticket_id", 0))
            if ticket is not None:
                what(session, ticket)


def _described(order: Order) -> Reference:
    placed = f"placed {order.processed_at:%Y-%m-%d}; total {order.total}"
    return Reference(order.name, f"{order.status_text()}; {placed}")


def on_draft(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    _assist(body, client, context, "Drafting a reply…", draft_request, _drafted, "No draft")


def on_summarise(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    _assist(
        body, client, context, "Summarising the conversation…", summary_request, _summarised,
        "No summary",
    )  # fmt: skip


def _drafted(modal: _Modal, data: TicketData, answer: Completion) -> None:
    modal.record(lambda session, ticket: assistance.drafted(session, ticket, modal.agent, data))
    modal.answer = with_addition(modal.answer, answer.text)[:ANSWER_LIMIT]
    modal.version += 1  # a new block ID: Slack shows the new text in the answer box
    modal.show(status=DRAFTED)


def _summarised(modal: _Modal, data: TicketData, answer: Completion) -> None:
    modal.record(
        lambda session, ticket: assistance.summarised(session, ticket, modal.agent, answer.text)
    )
    modal.show(status=SUMMARISED)


def _assist(
    body: dict,
    client: WebClient,
    context,
    working: str,
    request_for: Callable[[TicketData], list[dict[str, str]]],
    done: Callable[[_Modal, TicketData, Completion], None],
    nothing: str,
) -> None:
    """The modal says `working`, the server is asked `request_for` the ticket's data, and
    `done` shows the answer; a failure is a note in the modal, which works as before."""
    helpdesk = services_of(context)
    if helpdesk.ai is None or not body.get("view"):
        return
    modal = _Modal(helpdesk, client, body)
    data = modal.ticket_data() if modal.show(status=working) else None
    if data is None:
        return
    try:
        answer = modal.ask(request_for(data))
    except AiProblem as problem:
        modal.show(notice=f"{nothing}: {problem}. Write your answer as usual.")
        return
    done(modal, data, answer)
