"""The Discount form: a single-use code for the ticket's customer, a percentage or an amount
in the shop's currency, until a date; and what a submission of it says."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from bot.core.discount_codes import VALID_HINT, is_valid
from bot.integrations.shopify_actions import ActionableOrder
from bot.views import ids
from bot.views.elements import context, option, plain
from bot.views.shop_forms import modal, text_input, value_of, with_problems
from bot.views.text import escape_mrkdwn

KINDS = {"percentage": "Percentage off", "amount": "Amount off"}
# "10", "12.5%", "10 USD", "USD 10", "$10": a number, perhaps with a currency code or sign.
VALUE = re.compile(
    r"(?P<before>[A-Za-z]{3})?\s*[$€£]?\s*(?P<number>\d+(?:[.,]\d+)?)\s*(?P<after>%|[A-Za-z]{3})?"
)


@dataclass(frozen=True)
class DiscountForm:
    code: str
    kind: str = "percentage"
    value: str = ""
    expires: date | None = None

    @classmethod
    def again(cls, params: Mapping) -> DiscountForm:
        """The form as a recorded action's parameters have it (shown again after Shopify
        refused it)."""
        percentage = params.get("percentage")
        ends = str(params.get("ends_at") or "")
        return cls(
            str(params.get("code") or ""),
            "percentage" if percentage is not None else "amount",
            str(percentage if percentage is not None else params.get("amount") or ""),
            datetime.fromisoformat(ends).date() if ends else None,
        )

    def params(self, currency: str, customer_id: str, title: str) -> dict:
        """What the action records and the deliverer sends (`ShopifyActions.create_discount`):
        the code ends at the end of its last day, UTC."""
        number = str(parse_number(self.value))
        ends_at = datetime.combine(self.expires, time(23, 59, 59), tzinfo=UTC)
        return {
            "code": self.code,
            "percentage": number if self.kind == "percentage" else None,
            "amount": number if self.kind == "amount" else None,
            "currency": currency,
            "customer_id": customer_id,
            "ends_at": ends_at.isoformat(),
            "title": title,
        }


@dataclass(frozen=True)
class DiscountFor:
    """Whom and what the code is for; carried in the modal's metadata."""

    ticket_id: int
    order_id: str
    order_name: str
    currency: str  # the shop's
    customer_id: str | None
    customer_email: str | None
    reply_view: str | None = None  # the Reply modal it was opened from: its answer gets the code

    @classmethod
    def of(cls, ticket_id: int, order: ActionableOrder, reply_view: str | None = None):
        return cls(
            ticket_id,
            order.id,
            order.name,
            order.currency,
            order.customer_id,
            order.customer_email,
            reply_view,
        )

    @classmethod
    def again(cls, ticket_id: int, order_id: str, order_name: str, params: Mapping):
        """As a recorded action's parameters have it, for the form shown again."""
        reply = params.get("reply") or {}
        return cls(
            ticket_id,
            order_id,
            order_name,
            str(params.get("currency") or ""),
            params.get("customer_id"),
            params.get("customer_email"),
            reply.get("view"),
        )


def discount_modal(
    target: DiscountFor, form: DiscountForm, problems: Mapping[str, str] | None = None
) -> dict:
    metadata = json.dumps(
        {
            "ticket_id": target.ticket_id,
            "order_id": target.order_id,
            "order_name": target.order_name,
            "currency": target.currency,
            "customer_id": target.customer_id,
            "customer_email": target.customer_email,
            "reply_view": target.reply_view,
        }
    )
    currency, reply_view = target.currency, target.reply_view
    kind = {
        "type": "radio_buttons",
        "action_id": ids.SHOP_DISCOUNT_KIND,
        "options": [option(label, value) for value, label in KINDS.items()],
        "initial_option": option(KINDS[form.kind], form.kind),
    }
    expiry = {"type": "datepicker", "action_id": ids.SHOP_DISCOUNT_EXPIRY}
    if form.expires:
        expiry["initial_date"] = form.expires.isoformat()
    where = "inserted into your reply" if reply_view else "posted in the thread for your reply"
    blocks = [
        context(
            f"A code the customer of {escape_mrkdwn(target.order_name)} can use once, on their "
            f"own account; it is {where} once Shopify has made it."
        ),
        text_input(
            ids.SHOP_DISCOUNT_CODE_BLOCK,
            ids.SHOP_DISCOUNT_CODE,
            "Code",
            form.code,
            max_length=64,
            hint=VALID_HINT,
        ),
        {
            "type": "input",
            "block_id": ids.SHOP_DISCOUNT_KIND_BLOCK,
            "label": plain("Kind"),
            "element": kind,
        },
        text_input(
            ids.SHOP_DISCOUNT_VALUE_BLOCK,
            ids.SHOP_DISCOUNT_VALUE,
            f"Percentage, or amount in {currency}",
            form.value,
            max_length=20,
            hint=f"15 for 15% off, or 10 for {currency} 10 off.",
        ),
        {
            "type": "input",
            "block_id": ids.SHOP_DISCOUNT_EXPIRY_BLOCK,
            "label": plain("Valid until (the end of that day, UTC)"),
            "element": expiry,
        },
    ]
    return modal(
        ids.SHOP_DISCOUNT_MODAL,
        "Discount",
        "Create code",
        metadata,
        with_problems(blocks, problems or {}),
    )


def parse_number(value: str) -> Decimal | None:
    match = VALUE.fullmatch(value.strip())
    if not match:
        return None
    try:
        return Decimal(match.group("number").replace(",", "."))
    except InvalidOperation:
        return None


def read_discount(values: Mapping, currency: str, today: date) -> tuple[DiscountForm, dict]:
    """The form as submitted, and its problems (block ID → text)."""
    code = value_of(values, ids.SHOP_DISCOUNT_CODE_BLOCK, ids.SHOP_DISCOUNT_CODE)
    picked = (values.get(ids.SHOP_DISCOUNT_KIND_BLOCK) or {}).get(ids.SHOP_DISCOUNT_KIND) or {}
    kind = (picked.get("selected_option") or {}).get("value") or ""
    value = value_of(values, ids.SHOP_DISCOUNT_VALUE_BLOCK, ids.SHOP_DISCOUNT_VALUE)
    dated = (values.get(ids.SHOP_DISCOUNT_EXPIRY_BLOCK) or {}).get(ids.SHOP_DISCOUNT_EXPIRY) or {}
    try:
        expires = date.fromisoformat(dated.get("selected_date") or "")
    except ValueError:
        expires = None
    problems = {}
    if not is_valid(code):
        problems[ids.SHOP_DISCOUNT_CODE_BLOCK] = VALID_HINT
    if kind not in KINDS:
        problems[ids.SHOP_DISCOUNT_KIND_BLOCK] = "Choose a percentage or an amount."
        kind = "percentage"
    value_problem = _value_problem(value, kind, currency)
    if value_problem:
        problems[ids.SHOP_DISCOUNT_VALUE_BLOCK] = value_problem
    if expires is None or expires <= today:
        problems[ids.SHOP_DISCOUNT_EXPIRY_BLOCK] = "Choose a day after today."
    return DiscountForm(code.upper(), kind, value, expires), problems


def _value_problem(value: str, kind: str, currency: str) -> str | None:
    match = VALUE.fullmatch(value.strip())
    number = parse_number(value)
    if match is None or number is None:
        return "A number, such as 15."
    named = {(match.group("before") or "").upper(), (match.group("after") or "").upper()}
    named -= {"", "%"}
    if kind == "percentage":
        if named or not Decimal(1) <= number <= Decimal(100):
            return "A percentage from 1 to 100."
        return None
    if named and named != {currency.upper()}:
        return (
            f"Amounts are in {currency}, the shop's currency; Shopify can't make a code "
            f"in {', '.join(sorted(named))}."
        )
    if match.group("after") == "%":
        return "That is a percentage: choose Percentage off, or give an amount."
    if number <= 0:
        return "An amount above 0."
    if number.as_tuple().exponent < -2:
        return "At most two decimals."
    return None


def discount_form_again(target: DiscountFor, params: Mapping, errors: list) -> dict:
    """The form as submitted, with Shopify's refusals (`[{field, message, code}]`) under
    the fields they are about: a code that exists already under the code."""
    problems: dict[str, str] = {}
    for problem in errors:
        if isinstance(problem, dict):
            block = discount_problem_block(tuple(str(p) for p in problem.get("field") or ()))
            said = str(problem.get("message") or "Shopify refused it.")
        else:
            block, said = "", str(problem)
        problems[block] = f"{problems[block]} {said}" if block in problems else said
    return discount_modal(target, DiscountForm.again(params), problems)


def discount_problem_block(field: tuple[str, ...]) -> str:
    """Where Shopify's complaint goes: the code (taken, invalid), the value, the dates."""
    last = field[-1] if field else ""
    return {
        "code": ids.SHOP_DISCOUNT_CODE_BLOCK,
        "percentage": ids.SHOP_DISCOUNT_VALUE_BLOCK,
        "amount": ids.SHOP_DISCOUNT_VALUE_BLOCK,
        "value": ids.SHOP_DISCOUNT_VALUE_BLOCK,
        "endsAt": ids.SHOP_DISCOUNT_EXPIRY_BLOCK,
    }.get(last, "")


def discount_in_reply(code: str, form_kind: str, number: str, currency: str, ends: date) -> str:
    """The sentence inserted into the reply draft (plain text, to the customer)."""
    off = f"{number}% off" if form_kind == "percentage" else f"{currency} {number} off"
    return (
        f"As an apology, here is a code for {off} your next order, valid once until "
        f"{ends:%B %-d, %Y}: {code}"
    )
