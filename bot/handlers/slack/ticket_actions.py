"""The controls on a ticket's root message: one click where one click suffices."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core import tickets
from bot.handlers.slack.common import services_of, tell, ticket_of_action
from bot.handlers.slack.services import Services
from bot.storage.db import transaction
from bot.storage.models import Priority, Ticket, TicketStatus
from bot.views import ids
from bot.views.ai_suggestion import suggested
from bot.views.ticket_root import CLOSE_UNRESOLVED

# A ticket change: returns what to tell the agent when nothing changed, else None.
Change = Callable[[Session, Ticket, str, dict, Services], str | None]


def register(app: App) -> None:
    for action_id, change in CHANGES.items():
        app.action(action_id)(_listener(change))


def _listener(change: Change):
    def on_action(ack: Ack, body: dict, client: WebClient, context) -> None:
        ack()
        helpdesk = services_of(context)
        action = body["actions"][0]
        user = body["user"]["id"]
        with transaction(helpdesk.engine) as session:
            ticket = ticket_of_action(session, action)
            if ticket is None:
                answer = "That ticket no longer exists."
            else:
                answer = change(session, ticket, user, action, helpdesk)
        if answer:
            tell(client, body, answer)

    return on_action


def assign_to_me(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    if not tickets.assign(session, ticket, user, actor=user):
        return f"You already have ticket #{ticket.number}."
    return None


def assign_to_picked(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    tickets.assign(session, ticket, action.get("selected_user"), actor=user)
    return None


def set_priority(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    choice = (action.get("selected_option") or {}).get("value")
    if choice not in Priority.__members__.values():
        return "That priority is not one the helpdesk knows."
    tickets.set_priority(session, helpdesk.desk, ticket, Priority(choice), actor=user)
    return None


def set_status(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    choice = (action.get("selected_option") or {}).get("value")
    if choice == CLOSE_UNRESOLVED:
        return _close(session, ticket, user, helpdesk, resolving=False)
    if choice not in (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.SOLVED):
        return "That status is not one the helpdesk knows."
    tickets.set_status(session, helpdesk.desk, ticket, TicketStatus(choice), actor=user)
    return None


def close(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    """The Close button resolves the ticket (counted as solved, surveyed); the ⋯ menu's
    "Close without resolving" is the explicit way not to."""
    return _close(session, ticket, user, helpdesk, resolving=True)


def _close(
    session: Session, ticket: Ticket, user: str, helpdesk: Services, *, resolving: bool
) -> str | None:
    if ticket.status == TicketStatus.CLOSED:
        return f"Ticket #{ticket.number} is already closed; reopen it from the ⋯ menu."
    tickets.set_status(
        session, helpdesk.desk, ticket, TicketStatus.CLOSED, actor=user, resolving=resolving
    )
    return None


def apply_suggested_tag(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    """The AI assistant's suggestion (bot/views/ai_suggestion.py), checked again: the block
    ID comes back from the client and can be forged."""
    tag, _ = suggested(action.get("block_id", ""))
    if not tag or tag not in {tickets.normalize_tag(t) for t in helpdesk.desk.policy.tags}:
        return "That tag is not one of the team's."
    tickets.set_tags(session, ticket, [*tickets.tags_of(session, ticket.id), tag], actor=user)
    return None


def apply_suggested_priority(
    session: Session, ticket: Ticket, user: str, action: dict, helpdesk: Services
) -> str | None:
    _, priority = suggested(action.get("block_id", ""))
    return set_priority(session, ticket, user, {"selected_option": {"value": priority}}, helpdesk)


CHANGES: dict[str, Change] = {
    ids.TICKET_ASSIGN: assign_to_me,
    ids.TICKET_ASSIGN_PICK: assign_to_picked,
    ids.TICKET_PRIORITY: set_priority,
    ids.TICKET_STATUS_MENU: set_status,
    ids.TICKET_CLOSE: close,
    ids.AI_SUGGESTED_TAG: apply_suggested_tag,
    ids.AI_SUGGESTED_PRIORITY: apply_suggested_priority,
}
QUEUED_ACTIONS = tuple(CHANGES)
