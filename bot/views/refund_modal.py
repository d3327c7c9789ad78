"""The Refund modal: what to refund of an order (items and quantities, shipping, restock),
then Shopify's own calculation (`suggestedRefund`) to confirm, in the same modal.

The order's lines travel in the modal's metadata, so a submission is checked against what
can still be refunded without asking Shopify before Slack has its answer; with them the
order's customer, so a ticket no longer that customer's refuses it the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.integrations.shopify_actions import ActionableOrder, SuggestedRefund
from bot.views import ids
from bot.views.elements import context, option, plain, section
from bot.views.shop_forms import modal, text_input, value_of, with_problems
from bot.views.text import escape_mrkdwn, truncate

MAX_LINES = 20  # each line travels in the metadata, which Slack allows 3,000 characters
TITLE_LENGTH = 30
NOTE_LIMIT = 200  # the action's key is added to it in Shopify's note
CALCULATE, CONFIRM = "calculate", "confirm"
SHIPPING, RESTOCK = "shipping", "restock"
NOTHING_CHOSEN = "Choose at least one item, or the shipping, to refund."
NOT_THEIRS = (
    "This order is not this ticket's customer's, so it can't be refunded from here. If it is "
    "theirs, link the ticket to its customer from the Shopify post in the thread."
)


@dataclass(frozen=True)
class RefundLine:
    id: str  # GID
    title: str
    refundable: int  # units not refunded yet
    unit_price: str  # "10.00"


@dataclass(frozen=True)
class RefundOrder:
    """What the modal knows of the order, carried in its metadata."""

    ticket_id: int
    order_id: str
    order_name: str
    currency: str
    customer_id: str | None
    customer_email: str | None
    shipping_refundable: str
    lines: tuple[RefundLine, ...]
    more_lines: bool = False  # the order has more lines than the modal can carry

    @classmethod
    def of(cls, ticket_id: int, order: ActionableOrder) -> RefundOrder:
        return cls(
            ticket_id,
            order.id,
            order.name,
            order.currency,
            order.customer_id,
            order.customer_email,
            str(order.shipping_refundable.amount),
            tuple(
                RefundLine(
                    line.id,
                    truncate(line.title, TITLE_LENGTH),
                    line.refundable_quantity,
                    str(line.unit_price.amount),
                )
                for line in order.line_items[:MAX_LINES]
            ),
            more_lines=len(order.line_items) > MAX_LINES,
        )

    def metadata(self, step: str, **extra) -> str:
        lines = [[line.id, line.title, line.refundable, line.unit_price] for line in self.lines]
        return json.dumps(
            {
                "step": step,
                "ticket_id": self.ticket_id,
                "order_id": self.order_id,
                "order_name": self.order_name,
                "currency": self.currency,
                "customer_id": self.customer_id,
                "customer_email": self.customer_email,
                "shipping": self.shipping_refundable,
                "lines": lines,
                "more": self.more_lines,
                **extra,
            }
        )

    @classmethod
    def from_metadata(cls, data: Mapping) -> RefundOrder:
        return cls(
            int(data["ticket_id"]),
            str(data["order_id"]),
            str(data["order_name"]),
            str(data["currency"]),
            data.get("customer_id"),
            data.get("customer_email"),
            str(data["shipping"]),
            tuple(RefundLine(str(i), str(t), int(r), str(p)) for i, t, r, p in data["lines"]),
            bool(data.get("more")),
        )


@dataclass(frozen=True)
class RefundForm:
    """What the agent chose: line index → quantity (0 or absent: none of it)."""

    quantities: dict[int, int] = field(default_factory=dict)
    shipping: bool = False
    restock: bool = False
    note: str = ""

    def lines(self, order: RefundOrder) -> list[tuple[str, int]]:
        return [(order.lines[i].id, n) for i, n in sorted(self.quantities.items()) if n > 0]

    def params(self, order: RefundOrder) -> dict:
        """What the action records (bot/deliverers/shop_actions.py's refund)."""
        return {
            "lines": [[line, quantity] for line, quantity in self.lines(order)],
            "shipping": self.shipping,
            "restock": self.restock,
            "note": self.note,
        }

    def as_data(self) -> dict:
        return {
            "quantities": {str(i): n for i, n in self.quantities.items()},
            "shipping": self.shipping,
            "restock": self.restock,
            "note": self.note,
        }

    @classmethod
    def from_data(cls, data: Mapping) -> RefundForm:
        quantities = {int(i): int(n) for i, n in (data.get("quantities") or {}).items()}
        return cls(quantities, bool(data.get("shipping")), bool(data.get("restock")),
                   str(data.get("note") or ""))  # fmt: skip


def whole_order(order: RefundOrder) -> RefundForm:
    """The form as it opens: everything still refundable, shipping included, restocked."""
    quantities = {i: line.refundable for i, line in enumerate(order.lines) if line.refundable}
    return RefundForm(quantities, Decimal(order.shipping_refundable) > 0, True)


def line_block(index: int) -> str:
    return f"{ids.SHOP_REFUND_LINE_BLOCK}:{index}"


def refund_modal(
    order: RefundOrder, form: RefundForm | None = None, problems: Mapping[str, str] | None = None
) -> dict:
    """The form; `problems` (block ID → text) shown under their blocks, e.g. Shopify's."""
    form = form or whole_order(order)
    blocks = [
        section(f"*Refund {escape_mrkdwn(order.order_name)}*"),
        context(
            "Choose what to refund. *Calculate* asks Shopify for the amount; nothing is "
            "refunded before you confirm it."
        ),
    ]
    for index, line in enumerate(order.lines):
        label = f"{line.title} · {line.unit_price} {order.currency}"
        if line.refundable == 0:
            blocks.append(context(f"{escape_mrkdwn(label)}: refunded already"))
            continue
        blocks.append(_quantity(index, line, label, form.quantities.get(index, 0)))
    if order.more_lines:
        blocks.append(context(f"Only the first {MAX_LINES} items can be refunded here."))
    blocks.append(_options(order, form))
    blocks.append(
        text_input(
            ids.SHOP_REFUND_NOTE_BLOCK,
            ids.SHOP_REFUND_NOTE,
            "Reason (kept with the refund in Shopify)",
            form.note,
            optional=True,
            max_length=NOTE_LIMIT,
        )
    )
    metadata = order.metadata(CALCULATE)
    return modal(
        ids.SHOP_REFUND_MODAL,
        "Refund",
        "Calculate",
        metadata,
        with_problems(blocks, problems or {}),
    )


def refund_confirm(
    order: RefundOrder, form: RefundForm, plan: SuggestedRefund, calculated_at: datetime
) -> dict:
    """Shopify's calculation, to confirm: submitting it records the refund, unless another
    action on the order was recorded after `calculated_at`."""
    chosen = [
        f"• {quantity} x {escape_mrkdwn(order.lines[index].title)}"
        for index, quantity in sorted(form.quantities.items())
        if quantity > 0
    ]
    if form.shipping:
        chosen.append(f"• shipping ({escape_mrkdwn(str(plan.shipping))})")
    blocks = [
        section(
            f"*Shopify calculates {escape_mrkdwn(str(plan.amount))}* for "
            f"{escape_mrkdwn(order.order_name)}: items {escape_mrkdwn(str(plan.subtotal))}, "
            f"shipping {escape_mrkdwn(str(plan.shipping))}, tax {escape_mrkdwn(str(plan.tax))}."
        ),
        section("\n".join(chosen) or "Nothing chosen."),
        context(
            ("Items go back to stock. " if form.restock else "Items are not restocked. ")
            + (f"Reason: {escape_mrkdwn(form.note)}" if form.note else "")
        ),
    ]
    metadata = order.metadata(
        CONFIRM,
        form=form.as_data(),
        amount=str(plan.amount.amount),
        amount_currency=plan.amount.currency,
        calculated_at=calculated_at.isoformat(),
    )
    submit = truncate(f"Refund {plan.amount}", 24)
    return modal(ids.SHOP_REFUND_MODAL, "Refund", submit, metadata, blocks)


def read_form(values: Mapping, order: RefundOrder) -> tuple[RefundForm, dict[str, str]]:
    """The agent's choice from a submission, and its problems (block ID → text), checked
    against what the order can still refund."""
    problems: dict[str, str] = {}
    quantities: dict[int, int] = {}
    for index, line in enumerate(order.lines):
        if line.refundable == 0:
            continue
        typed = value_of(values, line_block(index), ids.SHOP_REFUND_QUANTITY) or "0"
        try:
            quantity = int(typed)
        except ValueError:
            problems[line_block(index)] = "Enter a whole number of items."
            continue
        if quantity < 0:
            problems[line_block(index)] = "A quantity can't be negative."
        elif quantity > line.refundable:
            problems[line_block(index)] = (
                f"Only {line.refundable} of this item can still be refunded."
            )
        quantities[index] = quantity
    chosen = {
        item.get("value")
        for item in (values.get(ids.SHOP_REFUND_OPTIONS_BLOCK) or {})
        .get(ids.SHOP_REFUND_OPTIONS, {})
        .get("selected_options")
        or []
    }
    shipping = SHIPPING in chosen and Decimal(order.shipping_refundable) > 0
    form = RefundForm(
        quantities,
        shipping,
        RESTOCK in chosen,
        value_of(values, ids.SHOP_REFUND_NOTE_BLOCK, ids.SHOP_REFUND_NOTE),
    )
    if not problems and not shipping and not any(quantities.values()):
        first = next((line_block(i) for i, line in enumerate(order.lines) if line.refundable), None)
        problems[first or ids.SHOP_REFUND_NOTE_BLOCK] = NOTHING_CHOSEN
    return form, problems


def _quantity(index: int, line: RefundLine, label: str, chosen: int) -> dict:
    return {
        "type": "input",
        "block_id": line_block(index),
        "label": plain(label),
        "hint": plain(f"Up to {line.refundable}", 150),
        "element": {
            "type": "number_input",
            "action_id": ids.SHOP_REFUND_QUANTITY,
            "is_decimal_allowed": False,
            "min_value": "0",
            "max_value": str(line.refundable),
            "initial_value": str(chosen),
        },
    }


def _options(order: RefundOrder, form: RefundForm) -> dict:
    choices = [option("Restock the items", RESTOCK)]
    if Decimal(order.shipping_refundable) > 0:
        label = f"Refund shipping ({order.shipping_refundable} {order.currency})"
        choices.insert(0, option(label, SHIPPING))
    initial = [c for c in choices if (c["value"] == SHIPPING and form.shipping)
               or (c["value"] == RESTOCK and form.restock)]  # fmt: skip
    element = {"type": "checkboxes", "action_id": ids.SHOP_REFUND_OPTIONS, "options": choices}
    if initial:
        element["initial_options"] = initial
    return {
        "type": "input",
        "block_id": ids.SHOP_REFUND_OPTIONS_BLOCK,
        "label": plain("Also"),
        "optional": True,
        "element": element,
    }
