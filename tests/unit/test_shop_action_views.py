"""The Shopify action forms (cancel, address, reship, discount) and their menus as Block Kit:
valid views, what each offers, and what each submission says, problems included."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from slack_sdk.models.views import View

from bot.core.discount_codes import ALPHABET, PREFIX, is_valid, new_code
from bot.integrations.shopify import Money
from bot.integrations.shopify_actions import ActionableOrder, Address, LineItem
from bot.views import ids
from bot.views.address_modal import (
    address_modal,
    address_problem_block,
    address_text,
    field_block,
    read_address,
)
from bot.views.cancel_modal import CancelForm, cancel_modal, read_cancel
from bot.views.discount_modal import (
    DiscountFor,
    DiscountForm,
    discount_form_again,
    discount_in_reply,
    discount_modal,
    discount_problem_block,
    read_discount,
)
from bot.views.reship_modal import line_block, read_reship, reship_modal, reship_params
from bot.views.shop_action_menu import (
    ActionChoice,
    action_buttons,
    action_in_progress,
    action_menu,
    action_outcome,
    action_refused,
    loading_order,
    missing_scopes_note,
    offered_kinds,
)

USD = "USD"
HOME = Address(
    "Bob <!channel> Norman",
    "Chestnut Street 92",
    None,
    "Louisville",
    "KY",
    "40202",
    "US",
    "+1 555 555 5555",
)
LINES = tuple(
    LineItem(
        f"gid://shopify/LineItem/{n}",
        f"IPod Nano {n} *bold*",
        f"SKU{n}",
        n,
        n,
        Money(Decimal("199.00"), USD),
    )
    for n in range(1, 4)
)
ORDER = ActionableOrder(
    id="gid://shopify/Order/450789469",
    name="#1001",
    currency=USD,
    customer_id="gid://shopify/Customer/207119551",
    customer_email="bob.norman@hostmail.com",
    line_items=LINES,
    shipping_address=HOME,
    shipping_refundable=Money(Decimal("10"), USD),
    refundable=Money(Decimal("409.94"), USD),
    financial_status="PAID",
    fulfillment_status="UNFULFILLED",
    cancelled_at=None,
    transactions=(),
    refunds=(),
)
EVERYTHING = dict.fromkeys(("refund", "cancel", "address", "reship", "discount"))
TODAY = date(2026, 12, 3)


def valid(view: dict) -> dict:
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view
    return view


def test_what_an_order_offers_depends_on_its_state_the_scopes_and_the_agent():
    assert offered_kinds("UNFULFILLED", "PAID", False, EVERYTHING) == [
        "refund",
        "cancel",
        "address",
        "reship",
        "discount",
    ]
    # Shipped: no cancelling, no new address.
    assert offered_kinds("FULFILLED", "PAID", False, EVERYTHING) == ["refund", "reship", "discount"]
    assert offered_kinds("UNFULFILLED", "REFUNDED", True, EVERYTHING) == ["discount"]
    no_drafts = {**EVERYTHING, "reship": "write_draft_orders"}
    assert "reship" not in offered_kinds("FULFILLED", "PAID", False, no_drafts)
    # What the agent's policy doesn't list is offered as a request to an approver.
    menu = action_menu(42, ORDER.id, ["cancel", "discount"], allowed=["discount"])
    assert [o["text"]["text"] for o in menu["options"]] == [
        "Cancel order (needs approval)",
        "Discount",
    ]
    note = json.dumps(missing_scopes_note(no_drafts))
    assert "Not offered: Reship needs `write_draft_orders`, which" in note
    read_only = {kind: "write_orders" for kind in ("refund", "cancel", "address")}
    assert "Refund, Cancel order and Change address need `write_orders`" in json.dumps(
        missing_scopes_note(read_only)
    )
    assert missing_scopes_note(EVERYTHING) is None


def test_a_choice_names_kind_ticket_and_order_and_a_forged_one_is_nothing():
    choice = ActionChoice("cancel", 42, ORDER.id)
    assert ActionChoice.parse(choice.value) == choice
    for forged in ("", "cancel", "drop:42:gid://x", "cancel:x:gid://x", "cancel:4:1001"):
        assert ActionChoice.parse(forged) is None
    menu = action_menu(42, ORDER.id, ["refund", "cancel"])
    assert [o["text"]["text"] for o in menu["options"]] == ["Refund", "Cancel order"]
    assert action_menu(42, ORDER.id, []) is None
    buttons = action_buttons(42, ORDER.id, "#1001", ["discount"])
    assert buttons[1]["elements"][0]["value"] == f"discount:42:{ORDER.id}"
    assert action_buttons(42, ORDER.id, "#1001", []) == []


@pytest.mark.parametrize(
    "view",
    [
        loading_order("cancel", 1),
        action_refused("address", "Order #1001 has shipped <!here>"),
        action_in_progress("cancel", "Cancelling #1001…"),
        action_outcome("address", ["Address changed", "*Old* a", "*New* b"]),
        cancel_modal(1, ORDER),
        cancel_modal(
            1,
            ORDER,
            CancelForm("FRAUD", False, False, False, "x" * 255),
            {"": "Shopify said no", ids.SHOP_CANCEL_NOTE_BLOCK: "too long"},
        ),
        address_modal(1, ORDER),
        address_modal(1, ORDER, problems={field_block("zip"): "Enter a valid postcode"}),
        reship_modal(1, ORDER, {1: 2}),
        discount_modal(
            DiscountFor.of(1, ORDER, "V0REPLY"), DiscountForm("SORRY-7KQ2M", expires=TODAY)
        ),
        discount_modal(
            DiscountFor.of(1, ORDER),
            DiscountForm("X", "amount", "10", None),
            problems={ids.SHOP_DISCOUNT_CODE_BLOCK: "Code must be unique."},
        ),
    ],
)
def test_every_form_is_a_valid_modal(view):
    valid(view)
    shown = json.dumps(list(mrkdwn_of(view)))
    assert "<!channel>" not in shown and "<!here>" not in shown  # plain text inputs may hold it


def mrkdwn_of(value):
    """Every mrkdwn text in a view: what Slack would turn into mentions and links."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            yield value["text"]
        for inner in value.values():
            yield from mrkdwn_of(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from mrkdwn_of(inner)


def test_cancel_reads_reason_choices_and_note():
    values = {
        ids.SHOP_CANCEL_REASON_BLOCK: {
            ids.SHOP_CANCEL_REASON: {"selected_option": {"value": "STAFF"}}
        },
        ids.SHOP_CANCEL_OPTIONS_BLOCK: {
            ids.SHOP_CANCEL_OPTIONS: {"selected_options": [{"value": "restock"}]}
        },
        ids.SHOP_CANCEL_NOTE_BLOCK: {ids.SHOP_CANCEL_NOTE: {"value": "  typo  "}},
    }
    form, problems = read_cancel(values)
    assert problems == {}
    assert form.params() == {
        "reason": "STAFF",
        "refund": False,
        "restock": True,
        "notify_customer": False,
        "staff_note": "typo",
    }
    forged = {
        ids.SHOP_CANCEL_REASON_BLOCK: {
            ids.SHOP_CANCEL_REASON: {"selected_option": {"value": "WHIM"}}
        }
    }
    assert ids.SHOP_CANCEL_REASON_BLOCK in read_cancel(forged)[1]


def test_the_address_form_is_prefilled_and_requires_what_a_parcel_needs():
    view = address_modal(1, ORDER)
    prefilled = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b["type"] == "input"
    }
    assert prefilled[field_block("zip")] == "40202"
    assert prefilled[field_block("address2")] is None

    def typed(**fields):
        return {field_block(k): {ids.SHOP_ADDRESS_INPUT: {"value": v}} for k, v in fields.items()}

    address, problems = read_address(
        typed(name="Bob", address1="1 Main St", city="Town", zip="12345", country_code="gb")
    )
    assert problems == {} and address.country_code == "GB" and address.address2 is None
    _, problems = read_address(typed(name=" ", address1="x", city="y", zip="z", country_code="GBR"))
    assert problems == {
        field_block("name"): "Name is required.",
        field_block("country_code"): "Two letters, such as US, GB or DE.",
    }
    assert address_problem_block(("address", "zip")) == field_block("zip")
    assert address_problem_block(("somewhere",)) == ""
    assert "\\<!channel&gt;" not in address_text(HOME) and "&lt;!channel&gt;" in address_text(HOME)


def test_reship_quantities_must_be_within_what_the_order_has():
    view = reship_modal(1, ORDER)
    metadata = json.loads(view["private_metadata"])
    assert [line[:2] for line in metadata["lines"]] == [[line.id, line.quantity] for line in LINES]

    def typed(**by_index):
        return {
            line_block(int(i[1:])): {ids.SHOP_RESHIP_QUANTITY: {"value": v}}
            for i, v in by_index.items()
        }

    chosen, problems = read_reship(typed(i0="1", i2="3"), metadata)
    assert problems == {} and chosen == {0: 1, 2: 3}
    assert reship_params(metadata, chosen)["lines"][1][:2] == [LINES[2].id, 3]
    assert read_reship(typed(i1="3"), metadata)[1] == {line_block(1): "At most 2: the order has 2."}
    assert line_block(0) in read_reship(typed(i0="-1"), metadata)[1]
    assert read_reship({}, metadata)[1] == {
        line_block(0): "Choose at least one item to send again."
    }


def discount_values(code="SORRY-7KQ2M", kind="percentage", value="15", expires="2026-12-31"):
    return {
        ids.SHOP_DISCOUNT_CODE_BLOCK: {ids.SHOP_DISCOUNT_CODE: {"value": code}},
        ids.SHOP_DISCOUNT_KIND_BLOCK: {
            ids.SHOP_DISCOUNT_KIND: {"selected_option": {"value": kind}}
        },
        ids.SHOP_DISCOUNT_VALUE_BLOCK: {ids.SHOP_DISCOUNT_VALUE: {"value": value}},
        ids.SHOP_DISCOUNT_EXPIRY_BLOCK: {ids.SHOP_DISCOUNT_EXPIRY: {"selected_date": expires}},
    }


def test_a_discount_is_a_percentage_or_an_amount_in_the_shops_currency_until_a_later_day():
    form, problems = read_discount(discount_values(code="sorry-abc"), USD, TODAY)
    assert problems == {} and form.code == "SORRY-ABC"
    params = form.params(USD, ORDER.customer_id, "Helpdesk #1")
    assert params["percentage"] == "15" and params["amount"] is None
    assert datetime.fromisoformat(params["ends_at"]) == datetime(
        2026, 12, 31, 23, 59, 59, tzinfo=UTC
    )
    amount, problems = read_discount(discount_values(kind="amount", value="$10.50 usd"), USD, TODAY)
    assert problems == {} and amount.params(USD, "c", "t")["amount"] == "10.50"

    def problem(block, **values):
        return read_discount(discount_values(**values), USD, TODAY)[1].get(block)

    value = ids.SHOP_DISCOUNT_VALUE_BLOCK
    assert problem(value, value="0") == "A percentage from 1 to 100."
    assert problem(value, value="101") == "A percentage from 1 to 100."
    assert problem(value, kind="amount", value="0") == "An amount above 0."
    assert problem(value, kind="amount", value="-5") == "A number, such as 15."
    assert problem(value, kind="amount", value="1.005") == "At most two decimals."
    assert "Shopify can't make a code in EUR" in problem(value, kind="amount", value="10 EUR")
    assert (
        problem(ids.SHOP_DISCOUNT_EXPIRY_BLOCK, expires="2026-12-03") == "Choose a day after today."
    )
    assert problem(ids.SHOP_DISCOUNT_EXPIRY_BLOCK, expires="soon") == "Choose a day after today."
    assert problem(ids.SHOP_DISCOUNT_CODE_BLOCK, code="SORRY 1") is not None
    assert discount_problem_block(("basicCodeDiscount", "code")) == ids.SHOP_DISCOUNT_CODE_BLOCK


def test_codes_are_readable_and_the_reply_gets_a_sentence_with_the_code():
    codes = {new_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert code.startswith(PREFIX) and set(code[len(PREFIX) :]) <= set(ALPHABET)
        assert is_valid(code)
    sentence = discount_in_reply("SORRY-7KQ2M", "amount", "10", USD, date(2027, 1, 5))
    assert sentence.endswith(
        "USD 10 off your next order, valid once until January 5, 2027: SORRY-7KQ2M"
    )


def test_a_code_shopify_refused_is_shown_again_with_the_problem_under_its_field():
    form, _ = read_discount(discount_values(kind="amount", value="10"), USD, TODAY)
    params = {**form.params(USD, ORDER.customer_id, "t"), "reply": {"view": "V0REPLY"},
              "customer_email": ORDER.customer_email}  # fmt: skip
    target = DiscountFor.again(1, ORDER.id, ORDER.name, params)
    assert target == DiscountFor.of(1, ORDER, "V0REPLY")
    refused = [
        {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique."},
        {"field": [], "message": "Try later."},
    ]
    view = valid(discount_form_again(target, params, refused))
    blocks = view["blocks"]
    code = next(
        i for i, b in enumerate(blocks) if b.get("block_id") == ids.SHOP_DISCOUNT_CODE_BLOCK
    )
    assert "Code must be unique." in json.dumps(blocks[code + 1])
    assert "Try later." in json.dumps(blocks[0])
    assert blocks[code]["element"]["initial_value"] == "SORRY-7KQ2M"
    value = next(b for b in blocks if b.get("block_id") == ids.SHOP_DISCOUNT_VALUE_BLOCK)
    assert value["element"]["initial_value"] == "10"
    assert json.loads(view["private_metadata"])["reply_view"] == "V0REPLY"
