"""Managing saved replies: the list, and the form that creates or edits one."""

from __future__ import annotations

import json
from typing import NamedTuple

from bot.core.saved_replies import BODY_LIMIT, PLACEHOLDER_LIST, TITLE_LIMIT
from bot.views import ids
from bot.views.elements import button, context, plain, section
from bot.views.text import escape_mrkdwn, truncate

LIST_LIMIT = 95  # with the button and the overflow note, inside a modal's 100 blocks
PREVIEW_LIMIT = 200


class SavedReplyItem(NamedTuple):
    id: int
    title: str
    body: str


def saved_replies_modal(replies: list[SavedReplyItem]) -> dict:
    blocks: list[dict] = [
        {
            "type": "actions",
            "elements": [button("New saved reply", ids.SAVED_REPLY_NEW, "new", style="primary")],
        }
    ]
    if not replies:
        blocks.append(context("No saved replies yet."))
    blocks += [_listed(reply) for reply in replies[:LIST_LIMIT]]
    if len(replies) > LIST_LIMIT:
        blocks.append(context(f"{len(replies) - LIST_LIMIT} more are not shown."))
    return {
        "type": "modal",
        "callback_id": ids.SAVED_REPLIES_MODAL,
        "title": plain("Saved replies", 24),
        "close": plain("Done"),
        "blocks": blocks,
    }


def _listed(reply: SavedReplyItem) -> dict:
    preview = escape_mrkdwn(truncate(reply.body, PREVIEW_LIMIT))
    block = section(f"*{escape_mrkdwn(reply.title)}*\n{preview}")
    block["accessory"] = {
        "type": "overflow",
        "action_id": f"{ids.SAVED_REPLY_EDIT}-{reply.id}",
        "options": [
            {"text": plain("Edit"), "value": f"edit:{reply.id}"},
            {"text": plain("Delete"), "value": f"delete:{reply.id}"},
        ],
    }
    return block


def saved_reply_edit_modal(list_view_id: str, reply: SavedReplyItem | None = None) -> dict:
    """The form, pushed over the list whose view `list_view_id` it refreshes once saved."""
    title_input = {
        "type": "plain_text_input",
        "action_id": ids.SAVED_REPLY_TITLE,
        "max_length": TITLE_LIMIT,
    }
    body_input = {
        "type": "plain_text_input",
        "action_id": ids.SAVED_REPLY_BODY,
        "multiline": True,
        "max_length": BODY_LIMIT,
    }
    if reply is not None:
        title_input["initial_value"] = reply.title
        body_input["initial_value"] = reply.body
    metadata = {"reply_id": reply.id if reply else None, "list_view_id": list_view_id}
    return {
        "type": "modal",
        "callback_id": ids.SAVED_REPLY_EDIT_MODAL,
        "private_metadata": json.dumps(metadata),
        "title": plain("Edit saved reply" if reply else "New saved reply", 24),
        "submit": plain("Save"),
        "close": plain("Back"),
        "blocks": [
            {
                "type": "input",
                "block_id": ids.SAVED_REPLY_TITLE_BLOCK,
                "label": plain("Title"),
                "element": title_input,
            },
            {
                "type": "input",
                "block_id": ids.SAVED_REPLY_BODY_BLOCK,
                "label": plain("Text"),
                "hint": plain(f"Placeholders: {PLACEHOLDER_LIST}", 150),
                "element": body_input,
            },
        ],
    }
