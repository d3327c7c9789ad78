"""The Reship form: how many of each of the order's items to send again, free, to its
shipping address; and what a submission of it says.

The items' IDs and ordered quantities, and the order's address, travel in the modal's
metadata, so a submission is checked without asking Shopify before Slack has its answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.integrations.shopify_actions import ActionableOrder
from bot.views import ids
from bot.views.address_modal import address_dict, address_text
from bot.views.elements import context, plain, section
from bot.views.shop_forms import form_metadata, modal, order_header, with_problems

MAX_LINES = 20  # the metadata carries each line and the address; Slack allows 3,000 characters


def line_block(index: int) -> str:
    return f"{ids.SHOP_RESHIP_LINE_BLOCK}:{index}"


def reship_metadata(ticket_id: int, order: ActionableOrder) -> str:
    lines = [[line.id, line.quantity] for line in order.line_items[:MAX_LINES]]
    address = address_dict(order.shipping_address) if order.shipping_address else None
    return form_metadata(ticket_id, order, lines=lines, address=address)


def reship_modal(
    ticket_id: int,
    order: ActionableOrder,
    quantities: Mapping[int, int] | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict:
    """`quantities`: line index → how many, as the agent typed them (redrawn after a refusal)."""
    chosen = quantities or {}
    blocks = [
        order_header(order),
        section(f"*Ships to* {address_text(order.shipping_address)}"),
        context(
            "A new order at 100% off, linked to this ticket. Choose how many of each item "
            "to send again."
        ),
    ]
    for index, line in enumerate(order.line_items[:MAX_LINES]):
        quantity = {
            "type": "number_input",
            "action_id": ids.SHOP_RESHIP_QUANTITY,
            "is_decimal_allowed": False,
            "min_value": "0",
            "max_value": str(line.quantity),
            "initial_value": str(chosen.get(index, 0)),
        }
        sku = f" · {line.sku}" if line.sku else ""
        label = f"{line.title}{sku} (ordered {line.quantity})"
        blocks.append(
            {
                "type": "input",
                "block_id": line_block(index),
                "optional": True,
                "label": plain(label, 150),
                "element": quantity,
            }
        )
    if len(order.line_items) > MAX_LINES:
        blocks.append(context(f"Only the first {MAX_LINES} items can be reshipped from here."))
    return modal(
        ids.SHOP_RESHIP_MODAL,
        f"Reship {order.name}",
        "Reship",
        reship_metadata(ticket_id, order),
        with_problems(blocks, problems or {}),
    )


def read_reship(values: Mapping, metadata: Mapping) -> tuple[dict[int, int], dict[str, str]]:
    """line index → quantity chosen (above zero), and the problems (block ID → text)."""
    lines = metadata.get("lines") or []
    chosen, problems = {}, {}
    for index, (_, ordered) in enumerate(lines):
        raw = ((values.get(line_block(index)) or {}).get(ids.SHOP_RESHIP_QUANTITY) or {}).get(
            "value"
        )
        raw = (raw or "0").strip()
        if not raw.isdigit():
            problems[line_block(index)] = "A whole number, 0 or more."
        elif int(raw) > ordered:
            problems[line_block(index)] = f"At most {ordered}: the order has {ordered}."
        elif int(raw):
            chosen[index] = int(raw)
    if not chosen and not problems:
        problems[line_block(0) if lines else ""] = "Choose at least one item to send again."
    return chosen, problems


def reship_params(metadata: Mapping, chosen: Mapping[int, int]) -> dict:
    """What the action records: [line id, quantity] of each line sent again, and where to."""
    lines = metadata.get("lines") or []
    chosen_lines = [[lines[index][0], quantity] for index, quantity in chosen.items()]
    return {"lines": chosen_lines, "address": metadata.get("address")}
