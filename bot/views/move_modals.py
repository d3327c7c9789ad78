"""The modals of merging and splitting: pick the ticket to keep, confirm seeing both, split a
message off; and the answer when a move was refused after all."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.views import ids
from bot.views.elements import option, plain, section
from bot.views.text import escape_mrkdwn, truncate


@dataclass(frozen=True)
class TicketSide:
    """One ticket as a merge shows it."""

    ticket_id: int
    number: int
    subject: str
    customer: str  # plain text: name and address


def ticket_choice(side: TicketSide) -> dict:
    """An option of the type-ahead: number, subject and customer, as plain text."""
    return option(
        truncate(f"#{side.number} {side.subject} · {side.customer}", 75), str(side.ticket_id)
    )


def _shown(side: TicketSide) -> str:
    return (
        f"*#{side.number} {escape_mrkdwn(truncate(side.subject, 200))}*\n"
        f"From {escape_mrkdwn(side.customer)}"
    )


def merge_pick_modal(merged: TicketSide, preselected: TicketSide | None = None) -> dict:
    picker = {
        "type": "external_select",
        "action_id": ids.MERGE_TARGET,
        "placeholder": plain("A number, words of the subject, the customer"),
        "min_query_length": 0,
    }
    if preselected is not None:
        picker["initial_option"] = ticket_choice(preselected)
    return {
        "type": "modal",
        "callback_id": ids.MERGE_PICK_MODAL,
        "private_metadata": json.dumps({"ticket_id": merged.ticket_id}),
        "title": plain(f"Merge #{merged.number}", 24),
        "submit": plain("Next"),
        "close": plain("Cancel"),
        "blocks": [
            section(f"Merge this ticket into another one, which is kept:\n{_shown(merged)}"),
            {
                "type": "input",
                "block_id": ids.MERGE_TARGET_BLOCK,
                "label": plain("Ticket to keep"),
                "element": picker,
            },
        ],
    }


def merge_confirm_modal(merged: TicketSide, kept: TicketSide, different_customers: bool) -> dict:
    blocks = [
        section(f"Merge\n{_shown(merged)}"),
        section(f"into the ticket kept\n{_shown(kept)}"),
        section(
            "Its messages, notes, tags and files join the kept ticket, whose thread gets a "
            "summary with links; the customer's mail to it goes to the kept ticket. You can "
            "unmerge it today."
        ),
    ]
    if different_customers:
        blocks.append(
            {
                "type": "input",
                "block_id": ids.MERGE_CONFIRM_BLOCK,
                "label": plain("Different customers"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.MERGE_CONFIRM,
                    "options": [
                        option("Yes, these customers' tickets are one conversation", "yes")
                    ],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.MERGE_CONFIRM_MODAL,
        "private_metadata": json.dumps({"ticket_id": merged.ticket_id, "into": kept.ticket_id}),
        "title": plain("Merge tickets", 24),
        "submit": plain("Merge"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def split_modal(message_id: int, number: int, excerpt: str, following: int) -> dict:
    blocks = [
        section(
            f"Split this customer's message off #{number} into a new ticket of the same "
            f"customer:\n>{escape_mrkdwn(truncate(' '.join(excerpt.split()), 300))}"
        )
    ]
    if following:
        blocks.append(
            {
                "type": "input",
                "block_id": ids.SPLIT_FOLLOWING_BLOCK,
                "optional": True,
                "label": plain("Later messages"),
                "element": {
                    "type": "checkboxes",
                    "action_id": ids.SPLIT_FOLLOWING,
                    "options": [option(f"Also the {following} message(s) after it", "yes")],
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": ids.SPLIT_MODAL,
        "private_metadata": json.dumps({"message_id": message_id}),
        "title": plain(f"Split #{number}", 24),
        "submit": plain("Split"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def move_refused_modal(reason: str) -> dict:
    """The answer to a confirmed move that can't be done (the ticket changed meanwhile)."""
    return {
        "type": "modal",
        "callback_id": ids.MOVE_REFUSED_MODAL,
        "title": plain("Nothing was changed", 24),
        "close": plain("Close"),
        "blocks": [section(f":no_entry: {escape_mrkdwn(reason)}")],
    }
