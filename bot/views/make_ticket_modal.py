"""The "Make a ticket" modal: a Slack message's text, its requester, subject and priority; and
the modal that says why a message can't be made a ticket."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.views import ids
from bot.views.elements import context, option, plain, section
from bot.views.text import escape_mrkdwn, truncate
from bot.views.ticket_root import PRIORITIES

TEXT_LIMIT = 3000  # Slack's limit for a plain-text input
SUBJECT_LIMIT = 150


@dataclass(frozen=True)
class TicketDraft:
    channel: str
    ts: str
    author: str  # the Slack user who wrote the message
    text: str
    subject: str
    thread_ts: str | None = None  # the thread the message is a reply in


def make_ticket_metadata(draft: TicketDraft) -> str:
    where = {"channel": draft.channel, "ts": draft.ts, "thread_ts": draft.thread_ts}
    return json.dumps({**where, "author": draft.author})


def _input(block_id: str, label: str, element: dict, *, optional: bool = False) -> dict:
    block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    if optional:
        block["optional"] = True
    return block


def _prefilled(element: dict, value: str) -> dict:
    """The input with `value` in it; Slack refuses an empty initial value (a file share's
    message may have no text)."""
    if value:
        element["initial_value"] = truncate(value, element["max_length"])
    return element


def make_ticket_modal(draft: TicketDraft) -> dict:
    priorities = [option(p.capitalize(), p) for p in PRIORITIES]
    return {
        "type": "modal",
        "callback_id": ids.MAKE_TICKET_MODAL,
        "private_metadata": make_ticket_metadata(draft),
        "title": plain("Make a ticket", 24),
        "submit": plain("Make a ticket"),
        "close": plain("Cancel"),
        "blocks": [
            _input(
                ids.MAKE_TICKET_TEXT_BLOCK,
                "Message",
                _prefilled(
                    {
                        "type": "plain_text_input",
                        "action_id": ids.MAKE_TICKET_TEXT,
                        "multiline": True,
                        "max_length": TEXT_LIMIT,
                    },
                    draft.text,
                ),
            ),
            _input(
                ids.MAKE_TICKET_REQUESTER_BLOCK,
                "Customer's email address",
                {
                    "type": "plain_text_input",
                    "action_id": ids.MAKE_TICKET_REQUESTER,
                    "placeholder": plain("customer@example.com"),
                },
                optional=True,
            ),
            context(
                f"Leave it empty for a request from <@{draft.author}>: answered in the "
                "message's thread in Slack, not by email."
            ),
            _input(
                ids.MAKE_TICKET_SUBJECT_BLOCK,
                "Subject",
                _prefilled(
                    {
                        "type": "plain_text_input",
                        "action_id": ids.MAKE_TICKET_SUBJECT,
                        "max_length": SUBJECT_LIMIT,
                    },
                    draft.subject,
                ),
            ),
            _input(
                ids.MAKE_TICKET_PRIORITY_BLOCK,
                "Priority",
                {
                    "type": "static_select",
                    "action_id": ids.MAKE_TICKET_PRIORITY,
                    "options": priorities,
                    "initial_option": priorities[PRIORITIES.index("normal")],
                },
            ),
        ],
    }


def already_a_ticket(number: int, subject: str, permalink: str | None) -> str:
    """Where a message made a ticket before points to: the ticket, linked when it can be."""
    name = f"ticket #{number}: {escape_mrkdwn(subject)}"
    return f"This message is already {f'<{permalink}|{name}>' if permalink else name}."


def refusal_modal(text: str) -> dict:
    """Why the message can't be made a ticket, where the shortcut was used."""
    return {
        "type": "modal",
        "title": plain("Make a ticket", 24),
        "close": plain("OK"),
        "blocks": [section(text)],
    }
