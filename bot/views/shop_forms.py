"""What the Shopify action forms (cancel, address, reship, discount) share: the order they act
on, their metadata, inputs, and Shopify's refusals shown under the field they are about.

Slack shows field errors only in the answer to a submission; Shopify answers later (the
outbox sends the action), so its `userErrors` come back as the form redrawn with what the
agent typed, each problem under its field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from bot.integrations.shopify_actions import ActionableOrder
from bot.views.customer_context import status_word
from bot.views.elements import context, plain, section
from bot.views.text import escape_mrkdwn, truncate

GENERAL = ""  # a problem about no one field: shown on top


def form_metadata(ticket_id: int, order: ActionableOrder, **extra) -> str:
    # The order's customer, checked against the ticket's again when the form is submitted.
    metadata = {
        "ticket_id": ticket_id,
        "order_id": order.id,
        "order_name": order.name,
        "customer_id": order.customer_id,
        "customer_email": order.customer_email,
        **extra,
    }
    return json.dumps(metadata, ensure_ascii=False)


def seen_at(view: dict, moment: datetime) -> dict:
    """The form with the moment its order was read from Shopify in its metadata: an action
    recorded on the order since then refuses this one (two agents who both looked)."""
    metadata = {**json.loads(view["private_metadata"]), "seen_at": moment.isoformat()}
    return {**view, "private_metadata": json.dumps(metadata, ensure_ascii=False)}


def order_header(order: ActionableOrder) -> dict:
    states = [status_word(order.financial_status), status_word(order.fulfillment_status)]
    if order.cancelled_at:
        states.insert(0, "cancelled")
    return section(f"*Order {escape_mrkdwn(order.name)}* · {', '.join(states)}")


def text_input(
    block_id: str,
    action_id: str,
    label: str,
    value: str | None,
    *,
    optional: bool = False,
    multiline: bool = False,
    max_length: int = 255,
    hint: str | None = None,
) -> dict:
    element = {
        "type": "plain_text_input",
        "action_id": action_id,
        "max_length": max_length,
        "multiline": multiline,
    }
    if value:
        element["initial_value"] = truncate(value, max_length)
    block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, 150)
    return block


def with_problems(blocks: list[dict], problems: Mapping[str, str]) -> list[dict]:
    """`blocks` with each problem (block ID → text) as a warning under its block; those about
    no block shown on top."""
    known = {block.get("block_id") for block in blocks}
    general = [text for block_id, text in problems.items() if block_id not in known]
    shown = [_warning(text) for text in general]
    for block in blocks:
        shown.append(block)
        if block.get("block_id") in problems:
            shown.append(_warning(problems[block["block_id"]]))
    return shown


def _warning(text: str) -> dict:
    return context(f":warning: {escape_mrkdwn(text)}")


def value_of(values: Mapping, block_id: str, action_id: str) -> str:
    """A text input's value from a submission's state, stripped ("" when absent)."""
    return (((values.get(block_id) or {}).get(action_id) or {}).get("value") or "").strip()


def modal(callback_id: str, title: str, submit: str, metadata: str, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": plain(truncate(title, 24)),
        "submit": plain(truncate(submit, 24)),
        "close": plain("Back"),
        "blocks": blocks,
    }
