"""Merging from Slack: the root's ⋯ "Merge into…", the message shortcut on a root and the
suggestion button open the pick modal; its type-ahead; the confirmation (an explicit yes for
two customers' tickets); Unmerge and Undo split on the threads' notices."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.merging import DifferentCustomers, merge, merge_refusal, unmerge, unmergeable
from bot.core.splitting import undo_split
from bot.core.ticket_moves import MERGE, MoveRefused
from bot.core.visitors import reachable
from bot.handlers.slack.common import (
    metadata_of,
    open_or_tell,
    services_of,
    tell,
    ticket_of_action,
)
from bot.storage.db import transaction
from bot.storage.models import Customer, Ticket, TicketMove, utcnow
from bot.storage.queries import merge_candidates, ticket_for_thread
from bot.views import ids
from bot.views.move_modals import (
    TicketSide,
    merge_confirm_modal,
    merge_pick_modal,
    move_refused_modal,
    ticket_choice,
)
from bot.views.text import customer_label

QUEUED_ACTIONS = (ids.MOVE_UNDO,)


def register(app: App) -> None:
    app.action(ids.TICKET_MORE)(on_more_menu)
    app.action(ids.MERGE_SUGGESTED)(on_suggestion)
    app.shortcut(ids.SHORTCUT_MERGE)(on_shortcut)
    app.options(ids.MERGE_TARGET)(on_target_options)
    app.view(ids.MERGE_PICK_MODAL)(on_picked)
    app.view(ids.MERGE_CONFIRM_MODAL)(on_confirmed)
    app.action(ids.MOVE_UNDO)(on_undo)


def side_of(session: Session, ticket: Ticket) -> TicketSide:
    customer = session.get(Customer, ticket.customer_id)
    label = customer_label(customer.name, reachable(customer.email))
    return TicketSide(ticket.id, ticket.number, ticket.subject, label)


def on_more_menu(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    action = body["actions"][0]
    if (action.get("selected_option") or {}).get("value") == ids.MORE_MERGE:
        with transaction(services_of(context).reader) as session:
            answer = _pick_modal(session, ticket_of_action(session, action), None)
        open_or_tell(client, body, answer)


def on_suggestion(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    merged_id, _, kept_id = (body["actions"][0].get("value") or "").partition(":")
    with transaction(services_of(context).reader) as session:
        merged = session.get(Ticket, int(merged_id)) if merged_id.isdigit() else None
        kept = session.get(Ticket, int(kept_id)) if kept_id.isdigit() else None
        answer = _pick_modal(session, merged, kept)
    open_or_tell(client, body, answer)


def on_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    with transaction(services_of(context).reader) as session:
        ticket = ticket_for_thread(session, channel, message.get("thread_ts") or message["ts"])
        answer = _pick_modal(session, ticket, None)
    open_or_tell(client, body, answer)


def _pick_modal(session: Session, merged: Ticket | None, kept: Ticket | None) -> dict | str:
    """The pick modal, or why not in words: a click on a root made stale by a change
    meanwhile is told where the ticket stands now."""
    if merged is None:
        return "This is not a ticket thread, or the ticket no longer exists."
    refusal = merge_refusal(merged, kept) if kept is not None else unmergeable(merged)
    if refusal:
        return refusal
    preselected = side_of(session, kept) if kept is not None else None
    return merge_pick_modal(side_of(session, merged), preselected)


def on_target_options(ack: Ack, body: dict, context) -> None:
    merged_id = metadata_of(body.get("view") or {}).get("ticket_id", 0)
    with transaction(services_of(context).reader) as session:
        found = merge_candidates(session, body.get("value") or "", merged_id)
        options = [
            ticket_choice(
                TicketSide(t.id, t.number, t.subject, customer_label(c.name, reachable(c.email)))
            )
            for t, c in found
        ]
    ack(options=options)


def on_picked(ack: Ack, body: dict, context) -> None:
    view = body["view"]
    picked = (
        (view["state"]["values"].get(ids.MERGE_TARGET_BLOCK) or {}).get(ids.MERGE_TARGET) or {}
    ).get("selected_option") or {}
    kept_id = str(picked.get("value") or "")
    with transaction(services_of(context).reader) as session:
        merged = session.get(Ticket, metadata_of(view).get("ticket_id", 0))
        kept = session.get(Ticket, int(kept_id)) if kept_id.isdigit() else None
        if merged is None or kept is None:
            refusal = "Pick the ticket to keep."
        else:
            refusal = merge_refusal(merged, kept)
        if refusal:
            ack(response_action="errors", errors={ids.MERGE_TARGET_BLOCK: refusal})
            return
        different = merged.customer_id != kept.customer_id
        confirm = merge_confirm_modal(side_of(session, merged), side_of(session, kept), different)
    ack(response_action="update", view=confirm)


def on_confirmed(ack: Ack, body: dict, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    metadata = metadata_of(view)
    ticked = (
        (view["state"]["values"].get(ids.MERGE_CONFIRM_BLOCK) or {}).get(ids.MERGE_CONFIRM) or {}
    ).get("selected_options")
    try:
        with transaction(helpdesk.engine) as session:
            merged = session.get(Ticket, metadata.get("ticket_id", 0))
            kept = session.get(Ticket, metadata.get("into", 0))
            if merged is None or kept is None:
                raise MoveRefused("One of the tickets no longer exists.")
            merge(
                session,
                helpdesk.desk,
                merged,
                kept,
                actor=body["user"]["id"],
                different_customers=bool(ticked),
                request_key=f"view:{view['id']}",
            )
    except DifferentCustomers as refused:
        ack(response_action="errors", errors={ids.MERGE_CONFIRM_BLOCK: str(refused)})
        return
    except MoveRefused as refused:
        ack(response_action="update", view=move_refused_modal(str(refused)))
        return
    ack()


def on_undo(ack: Ack, body: dict, client: WebClient, context) -> None:
    """Unmerge, or Undo split: a second click, or one after the day ended, is told why not."""
    ack()
    helpdesk = services_of(context)
    raw = body["actions"][0].get("value") or ""
    try:
        with transaction(helpdesk.engine) as session:
            move = session.get(TicketMove, int(raw)) if raw.isdigit() else None
            if move is None:
                raise MoveRefused("That merge or split is not on record.")
            undo = unmerge if move.kind == MERGE else undo_split
            undo(session, helpdesk.desk, move, actor=body["user"]["id"], now=utcnow())
    except MoveRefused as refused:
        tell(client, body, str(refused))
