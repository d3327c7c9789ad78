"""The modal that links a ticket to the Shopify customer of an order, once the writer proves it."""

from __future__ import annotations

import json

from bot.views import ids
from bot.views.elements import context, plain
from bot.views.text import escape_mrkdwn, truncate

ASKING = (
    "Order {order} belongs to a different customer than this ticket's. If the person writing "
    "says it is theirs, ask them for the order's email address, or the postcode of its "
    "shipping or billing address, and enter what they tell you. The helpdesk checks it with "
    "Shopify and links the ticket only if it matches; a few wrong answers lock linking."
)


def link_modal(
    ticket_id: int, number: int, order: str, problem: str | None = None, *, given: str = ""
) -> dict:
    """`problem`: why the last answer didn't link, shown above the input."""
    blocks = [context(escape_mrkdwn(ASKING.format(order=order)))]
    if problem:
        blocks.append(context(f":warning: {escape_mrkdwn(problem)}"))
    answer = {"type": "plain_text_input", "action_id": ids.SHOPIFY_PROOF, "max_length": 320,
              "placeholder": plain("an email address, or a postcode such as 90210")}  # fmt: skip
    if given:
        answer["initial_value"] = given
    blocks.append(
        {
            "type": "input",
            "block_id": ids.SHOPIFY_PROOF_BLOCK,
            "label": plain("The order's email address or postcode"),
            "element": answer,
        }
    )
    return {**_modal(ticket_id, number, order, blocks), "submit": plain("Check and link")}


def checking(ticket_id: int, number: int, order: str) -> dict:
    """Shown at once while Shopify answers: Slack wants an answer within three seconds."""
    return _modal(
        ticket_id, number, order, [context(":hourglass_flowing_sand: Checking with Shopify…")]
    )


def linked(ticket_id: int, number: int, order: str, proven_by: str) -> dict:
    said = "email address" if proven_by == "email" else proven_by
    text = (
        f":white_check_mark: Ticket #{number} is now linked to the customer of order "
        f"{escape_mrkdwn(order)} (the {said} matched). Their orders are being posted in the thread."
    )
    return _modal(ticket_id, number, order, [context(text)])


def _modal(ticket_id: int, number: int, order: str, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "callback_id": ids.SHOPIFY_LINK_MODAL,
        "private_metadata": json.dumps({"ticket_id": ticket_id, "order": order}),
        "title": plain(truncate(f"Link customer · #{number}", 24)),
        "close": plain("Close"),
        "blocks": blocks,
    }
