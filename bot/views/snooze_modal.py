"""The "Pending until…" modal: a date and time (the agent's own zone, as Slack shows it)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.views import ids
from bot.views.elements import plain, section


def snooze_modal(ticket_id: int, number: int, proposed: datetime) -> dict:
    return {
        "type": "modal",
        "callback_id": ids.SNOOZE_MODAL,
        "private_metadata": json.dumps({"ticket_id": ticket_id}),
        "title": plain(f"Pending #{number}", 24),
        "submit": plain("Set pending"),
        "close": plain("Cancel"),
        "blocks": [
            section(
                f"Ticket *#{number}* waits, its SLA clocks paused, and reopens by itself at "
                "this time; sooner if the customer writes."
            ),
            {
                "type": "input",
                "block_id": ids.SNOOZE_UNTIL_BLOCK,
                "label": plain("Pending until"),
                "element": {
                    "type": "datetimepicker",
                    "action_id": ids.SNOOZE_UNTIL,
                    "initial_date_time": int(proposed.timestamp()),
                },
            },
        ],
    }
