"""Replying to the customer: the Reply modal, its saved-reply picker, submission and retry."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core import replying, saved_replies, text
from bot.core.replies import Agent, ReplyRefused, SharedFile, reply_to_customer, retry_reply
from bot.handlers.slack.common import (
    metadata_of,
    services_of,
    tell,
    ticket_of_action,
)
from bot.handlers.slack.order_facts import order_placeholders
from bot.handlers.slack.services import Services
from bot.read_models.reply_draft import draft_for
from bot.storage.db import transaction
from bot.storage.models import Message, Ticket, TicketStatus, utcnow
from bot.storage.queries import last_customer_message, ticket_for_thread
from bot.views import ids
from bot.views.reply_modal import reply_modal

log = logging.getLogger(__name__)

QUEUED_ACTIONS = (ids.REPLY_RETRY,)


def register(app: App) -> None:
    app.action(ids.TICKET_REPLY)(on_reply_button)
    app.shortcut(ids.SHORTCUT_REPLY)(on_reply_shortcut)
    app.action(ids.REPLY_SAVED_PICK)(on_saved_reply_picked)
    app.view(ids.REPLY_MODAL)(on_reply_submitted)
    app.view_closed(ids.REPLY_MODAL)(on_reply_closed)
    app.action(ids.REPLY_RETRY)(on_retry)


def open_reply_modal(client: WebClient, body: dict, context, find_ticket) -> None:
    """Opens the modal, warning of anyone else replying, then records that this agent is."""
    helpdesk = services_of(context)
    agent = body["user"]["id"]
    if helpdesk.kb is not None:
        helpdesk.kb.refresh(helpdesk.engine)
    with Session(helpdesk.reader) as session:
        ticket = find_ticket(session)
        if ticket is None:
            tell(client, body, "This is not a ticket thread, or the ticket no longer exists.")
            return
        if ticket.status == TicketStatus.CLOSED:
            tell(client, body, f"Ticket #{ticket.number} is closed; reopen it to reply.")
            return
        draft = draft_for(
            session,
            ticket,
            helpdesk.reply_features,
            agent=agent,
        )
    opened = client.views_open(trigger_id=body["trigger_id"], view=reply_modal(draft))
    with transaction(helpdesk.engine) as session:
        replying.started(session, draft.ticket_id, agent, opened["view"]["id"], utcnow())


def on_reply_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    action = body["actions"][0]
    open_reply_modal(client, body, context, lambda session: ticket_of_action(session, action))


def on_reply_shortcut(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id", "")
    root_ts = message.get("thread_ts") or message.get("ts", "")
    open_reply_modal(
        client, body, context, lambda session: ticket_for_thread(session, channel, root_ts)
    )


def on_saved_reply_picked(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    view = body["view"]
    metadata = metadata_of(view)
    picked = (body["actions"][0].get("selected_option") or {}).get("value", "")
    agent_name = helpdesk.desk.roster.name_of(body["user"]["id"])
    with transaction(helpdesk.engine) as session:
        ticket = session.get(Ticket, metadata.get("ticket_id", 0))
        if ticket is None or not picked.isdigit():
            return
        orders = order_placeholders(helpdesk.shopify, session, ticket)
        text = saved_replies.render_for(session, int(picked), ticket, agent_name, orders)
        if text is None:
            return
        draft = draft_for(
            session,
            ticket,
            helpdesk.reply_features,
            text,
            version=metadata.get("version", 0) + 1,
            seen=metadata.get("seen"),
        )
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=reply_modal(draft))


def answer_of(view: dict) -> tuple[str | None, str]:
    """The answer's block ID (it carries a version) and its text."""
    for block_id, inputs in view.get("state", {}).get("values", {}).items():
        if block_id.startswith(ids.REPLY_ANSWER_BLOCK):
            return block_id, (inputs.get(ids.REPLY_ANSWER) or {}).get("value") or ""
    return None, ""


def files_of(view: dict) -> tuple[SharedFile, ...]:
    picked = view["state"]["values"].get(ids.REPLY_FILES_BLOCK, {}).get(ids.REPLY_FILES) or {}
    return tuple(
        SharedFile(
            slack_file_id=str(f.get("id", "")),
            name=text.name(str(f.get("name") or f.get("title") or ""), 255) or "attachment",
            size=int(f.get("size") or 0),
            content_type=str(f.get("mimetype") or "application/octet-stream"),
        )
        for f in picked.get("files") or []
        if f.get("id")
    )


def on_reply_submitted(ack: Ack, body: dict, client: WebClient, context) -> None:
    helpdesk = services_of(context)
    view = body["view"]
    block_id, answer = answer_of(view)
    errors_at = block_id or ids.REPLY_STATUS_BLOCK
    user = body["user"]
    # The widget shows it to the customer: "Alex Kim" reads better than "alex.k". Asked
    # before the transaction, so no Slack call is made while holding the database.
    agent = Agent(user["id"], helpdesk.desk.roster.name_of(user["id"]) or user.get("name", ""))
    status_input = view["state"]["values"].get(ids.REPLY_STATUS_BLOCK, {}).get(ids.REPLY_STATUS)
    status = ((status_input or {}).get("selected_option") or {}).get("value")
    metadata = metadata_of(view)
    if ids.REPLY_CONFIRM_BLOCK in view["state"]["values"] and not confirmed(view):
        ack(response_action="errors", errors={ids.REPLY_CONFIRM_BLOCK: UNCONFIRMED})
        return
    try:
        with transaction(helpdesk.engine) as session:
            ticket = session.get(Ticket, metadata.get("ticket_id", 0))
            if ticket is None:
                raise ReplyRefused("This ticket no longer exists.")
            changed = wrote_again(session, ticket, metadata, answer, helpdesk)
            if changed is None:
                replying.ended(session, view["id"])
                reply_to_customer(
                    session,
                    helpdesk.desk,
                    ticket,
                    agent,
                    answer,
                    new_status=TicketStatus(status) if status in ("pending", "solved") else None,
                    request_key=f"view:{view['id']}",
                    files=files_of(view),
                    max_file_bytes=helpdesk.desk.policy.mail.max_attachment_bytes,
                )
    except ReplyRefused as refused:
        ack(response_action="errors", errors={errors_at: str(refused)})
        return
    except Exception:
        log.exception("could not store a reply for view %s", view.get("id"))
        ack(
            response_action="errors",
            errors={errors_at: "The helpdesk could not save your answer; please try again."},
        )
        return
    if changed is not None:
        # Nothing was sent: the agent sees the new message and confirms, or rewrites.
        ack(response_action="update", view=reply_modal(changed))
        return
    ack()


UNCONFIRMED = "Tick this to send your answer as it is, or change it first."


def confirmed(view: dict) -> bool:
    picked = view["state"]["values"].get(ids.REPLY_CONFIRM_BLOCK, {}).get(ids.REPLY_CONFIRM) or {}
    return bool(picked.get("selected_options"))


def wrote_again(session: Session, ticket: Ticket, metadata: dict, answer: str, helpdesk: Services):
    """The modal redrawn with the customer's newest words and a confirmation, when they wrote
    since the agent last saw the modal; None when they didn't (or the modal predates this)."""
    seen = metadata.get("seen")
    latest = last_customer_message(session, ticket.id)
    if seen is None or latest is None or latest.id <= seen:
        return None
    return draft_for(
        session,
        ticket,
        helpdesk.reply_features,
        answer,
        version=metadata.get("version", 0) + 1,
        changed=True,
    )


def on_reply_closed(ack: Ack, body: dict, context) -> None:
    ack()
    with transaction(services_of(context).engine) as session:
        replying.ended(session, body["view"]["id"])


def on_retry(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    helpdesk = services_of(context)
    raw = body["actions"][0].get("value", "")
    with transaction(helpdesk.engine) as session:
        message = session.get(Message, int(raw)) if raw.isdigit() else None
        retried = message is not None and retry_reply(session, message, body["user"]["id"])
    if not retried:
        tell(client, body, "That reply has already been sent, or is being sent.")
