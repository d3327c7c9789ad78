"""The saved replies modals: the list, its New / Edit / Delete, and the form's submission."""

from __future__ import annotations

import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import saved_replies
from bot.handlers.slack.common import metadata_of, services_of
from bot.storage import queries
from bot.storage.db import transaction
from bot.storage.models import SavedReply
from bot.views import ids
from bot.views.saved_reply_modals import SavedReplyItem, saved_replies_modal, saved_reply_edit_modal

ERROR_BLOCKS = {"title": ids.SAVED_REPLY_TITLE_BLOCK, "body": ids.SAVED_REPLY_BODY_BLOCK}


def register(app: App) -> None:
    app.action(ids.HOME_SAVED_REPLIES)(on_home_button)
    app.action(ids.SAVED_REPLY_NEW)(on_new)
    app.action(re.compile(rf"^{ids.SAVED_REPLY_EDIT}-\d+$"))(on_overflow)
    app.view(ids.SAVED_REPLY_EDIT_MODAL)(on_form_submitted)


def open_list(client: WebClient, engine: Engine, trigger_id: str) -> None:
    client.views_open(trigger_id=trigger_id, view=list_modal(engine))


def list_modal(engine: Engine) -> dict:
    with Session(engine) as session:
        replies = [_item(reply) for reply in queries.saved_replies(session)]
    return saved_replies_modal(replies)


def on_home_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    open_list(client, services_of(context).engine, body["trigger_id"])


def on_new(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    client.views_push(trigger_id=body["trigger_id"], view=saved_reply_edit_modal(_list_id(body)))


def on_overflow(ack: Ack, body: dict, action: dict, client: WebClient, context) -> None:
    ack()
    services = services_of(context)
    verb, _, value = action["selected_option"]["value"].partition(":")
    reply_id = int(value)
    with transaction(services.engine) as session:
        if verb == "delete":
            saved_replies.delete(session, reply_id)
        editing = session.get(SavedReply, reply_id) if verb == "edit" else None
    if editing is None:
        # Deleted now, or by someone else since the list was shown: show what is left.
        client.views_update(view_id=_list_id(body), view=list_modal(services.engine))
    else:
        form = saved_reply_edit_modal(_list_id(body), _item(editing))
        client.views_push(trigger_id=body["trigger_id"], view=form)


def on_form_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context) -> None:
    """Saves, or keeps the form open with the reason on the field at fault.

    On success the form closes onto the list beneath, which is refreshed to show the change.
    """
    services = services_of(context)
    values = view["state"]["values"]
    title = values[ids.SAVED_REPLY_TITLE_BLOCK][ids.SAVED_REPLY_TITLE].get("value") or ""
    text = values[ids.SAVED_REPLY_BODY_BLOCK][ids.SAVED_REPLY_BODY].get("value") or ""
    metadata = metadata_of(view)
    try:
        with transaction(services.engine) as session:
            if metadata.get("reply_id"):
                saved_replies.update(session, int(metadata["reply_id"]), title, text)
            else:
                saved_replies.create(session, title, text, actor=body["user"]["id"])
    except saved_replies.SavedReplyRefused as refused:
        ack(response_action="errors", errors={ERROR_BLOCKS[refused.field]: str(refused)})
        return
    ack()
    if list_view_id := metadata.get("list_view_id"):
        client.views_update(view_id=list_view_id, view=list_modal(services.engine))


def _list_id(body: dict) -> str:
    return body["view"]["id"]


def _item(reply: SavedReply) -> SavedReplyItem:
    return SavedReplyItem(reply.id, reply.title, reply.body)
