"""The Tag modal: the policy's tags to pick from, and free new ones."""

from __future__ import annotations

import json

from bot.views import ids
from bot.views.elements import option, plain, section


def tag_modal(ticket_id: int, number: int, current: list[str], known: list[str]) -> dict:
    # Slack allows 100 options; the ticket's own tags must be among them to show as chosen.
    choices = sorted(set(current) | set(sorted(set(known) - set(current))[: 100 - len(current)]))
    blocks: list[dict] = [section(f"Tags for ticket *#{number}*")]
    if choices:
        picker = {
            "type": "multi_static_select",
            "action_id": ids.TAG_PICK,
            "placeholder": plain("Choose tags"),
            "options": [option(tag, tag) for tag in choices],
        }
        if current:
            picker["initial_options"] = [option(tag, tag) for tag in current if tag in choices]
        blocks.append(
            {
                "type": "input",
                "block_id": ids.TAG_PICK_BLOCK,
                "optional": True,
                "label": plain("Tags"),
                "element": picker,
            }
        )
    blocks.append(
        {
            "type": "input",
            "block_id": ids.TAG_NEW_BLOCK,
            "optional": True,
            "label": plain("New tags"),
            "hint": plain("Separate with commas; they are lower-cased, spaces become dashes.", 150),
            "element": {"type": "plain_text_input", "action_id": ids.TAG_NEW, "max_length": 500},
        }
    )
    return {
        "type": "modal",
        "callback_id": ids.TAG_MODAL,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": plain(f"Tag #{number}", 24),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
