"""The Cancel order form: Shopify's reason, refund or not, restock, tell the customer or not,
a staff note; and what a submission of it says."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.integrations.shopify_actions import ActionableOrder
from bot.views import ids
from bot.views.elements import context, option, plain
from bot.views.shop_forms import (
    form_metadata,
    modal,
    order_header,
    text_input,
    value_of,
    with_problems,
)

# Shopify's OrderCancelReason values, as the admin words them.
REASONS = {
    "CUSTOMER": "The customer changed or cancelled the order",
    "DECLINED": "The payment was declined",
    "FRAUD": "The order was fraudulent",
    "INVENTORY": "Items unavailable",
    "STAFF": "Staff error",
    "OTHER": "Other",
}
OPTIONS = {
    "refund": "Refund the payment",
    "restock": "Restock the items",
    "notify": "Email the customer a cancellation notice",
}
NOTE_LIMIT = 255


@dataclass(frozen=True)
class CancelForm:
    reason: str = "CUSTOMER"
    refund: bool = True
    restock: bool = True
    notify: bool = True
    note: str = ""

    def params(self) -> dict:
        """What the action records and the deliverer sends (`ShopifyActions.cancel`)."""
        return {
            "reason": self.reason,
            "refund": self.refund,
            "restock": self.restock,
            "notify_customer": self.notify,
            "staff_note": self.note,
        }


def cancel_modal(
    ticket_id: int,
    order: ActionableOrder,
    form: CancelForm | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict:
    form = form or CancelForm()
    chosen = [name for name in OPTIONS if getattr(form, name)]
    checkboxes = {
        "type": "checkboxes",
        "action_id": ids.SHOP_CANCEL_OPTIONS,
        "options": [option(label, name) for name, label in OPTIONS.items()],
    }
    if chosen:
        checkboxes["initial_options"] = [option(OPTIONS[name], name) for name in chosen]
    reason = {
        "type": "static_select",
        "action_id": ids.SHOP_CANCEL_REASON,
        "options": [option(label, value) for value, label in REASONS.items()],
        "initial_option": option(REASONS[form.reason], form.reason),
    }
    blocks = [
        order_header(order),
        context(
            "Cancelling can't be undone. Shopify finishes it in the background; this "
            "window says when it has."
        ),
        {
            "type": "input",
            "block_id": ids.SHOP_CANCEL_REASON_BLOCK,
            "label": plain("Reason"),
            "element": reason,
        },
        {
            "type": "input",
            "block_id": ids.SHOP_CANCEL_OPTIONS_BLOCK,
            "optional": True,
            "label": plain("And"),
            "element": checkboxes,
        },
        text_input(
            ids.SHOP_CANCEL_NOTE_BLOCK,
            ids.SHOP_CANCEL_NOTE,
            "Staff note",
            form.note,
            optional=True,
            multiline=True,
            max_length=NOTE_LIMIT,
            hint="Kept on the order in Shopify; the customer doesn't see it.",
        ),
    ]
    return modal(
        ids.SHOP_CANCEL_MODAL,
        f"Cancel {order.name}",
        "Cancel order",
        form_metadata(ticket_id, order),
        with_problems(blocks, problems or {}),
    )


def read_cancel(values: Mapping) -> tuple[CancelForm, dict[str, str]]:
    """The form as submitted, and its problems (block ID → text) for Slack to show."""
    picked = (values.get(ids.SHOP_CANCEL_REASON_BLOCK) or {}).get(ids.SHOP_CANCEL_REASON) or {}
    reason = (picked.get("selected_option") or {}).get("value") or ""
    boxes = (values.get(ids.SHOP_CANCEL_OPTIONS_BLOCK) or {}).get(ids.SHOP_CANCEL_OPTIONS) or {}
    ticked = {o.get("value") for o in boxes.get("selected_options") or []}
    note = value_of(values, ids.SHOP_CANCEL_NOTE_BLOCK, ids.SHOP_CANCEL_NOTE)
    problems = {}
    if reason not in REASONS:
        problems[ids.SHOP_CANCEL_REASON_BLOCK] = "Choose why the order is cancelled."
        reason = CancelForm.reason
    if len(note) > NOTE_LIMIT:
        problems[ids.SHOP_CANCEL_NOTE_BLOCK] = f"At most {NOTE_LIMIT} characters."
    form = CancelForm(reason, "refund" in ticked, "restock" in ticked, "notify" in ticked, note)
    return form, problems


def cancel_problem_block(field: tuple[str, ...]) -> str:
    """Where Shopify's complaint about `field` shows: the reason, the note, or on top."""
    last = field[-1] if field else ""
    return {"reason": ids.SHOP_CANCEL_REASON_BLOCK, "staffNote": ids.SHOP_CANCEL_NOTE_BLOCK}.get(
        last, ""
    )
