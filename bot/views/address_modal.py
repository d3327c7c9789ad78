"""The Change address form: the order's shipping address, prefilled, to correct; what a
submission of it says; and the address as the thread and the outcome show it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace

from bot.integrations.shopify_actions import ActionableOrder, Address
from bot.views import ids
from bot.views.elements import context
from bot.views.shop_forms import (
    form_metadata,
    modal,
    order_header,
    text_input,
    value_of,
    with_problems,
)
from bot.views.text import escape_mrkdwn

# Field → (label, required, longest): Shopify's MailingAddressInput, as a parcel needs it.
FIELDS = {
    "name": ("Name", True, 255),
    "address1": ("Address", True, 255),
    "address2": ("Apartment, suite, etc.", False, 255),
    "city": ("City", True, 255),
    "province_code": ("State or province code", False, 10),
    "zip": ("Postcode", True, 20),
    "country_code": ("Country code", True, 2),
    "phone": ("Phone", False, 40),
}
COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")
# Shopify's names for the fields, as its userErrors' paths give them.
SHOPIFY_NAMES = {
    "name": "name",
    "firstName": "name",
    "lastName": "name",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "provinceCode": "province_code",
    "province": "province_code",
    "zip": "zip",
    "countryCode": "country_code",
    "country": "country_code",
    "phone": "phone",
}
EMPTY = Address(*(None for _ in fields(Address)))


def field_block(name: str) -> str:
    return f"{ids.SHOP_ADDRESS_BLOCK}:{name}"


def address_modal(
    ticket_id: int,
    order: ActionableOrder,
    address: Address | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict:
    """`address`: what the agent typed (redrawn after Shopify refused it), else the order's."""
    shown = address or order.shipping_address or EMPTY
    blocks = [
        order_header(order),
        context(
            "The parcel goes to this address once saved. Only an unfulfilled order's "
            "address can change."
        ),
        *(
            text_input(
                field_block(name),
                ids.SHOP_ADDRESS_INPUT,
                label,
                getattr(shown, name),
                optional=not required,
                max_length=longest,
            )
            for name, (label, required, longest) in FIELDS.items()
        ),
    ]
    old = address_dict(order.shipping_address) if order.shipping_address else None
    return modal(
        ids.SHOP_ADDRESS_MODAL,
        f"Address of {order.name}",
        "Save address",
        form_metadata(ticket_id, order, old=old),
        with_problems(blocks, problems or {}),
    )


def read_address(values: Mapping) -> tuple[Address, dict[str, str]]:
    typed = {name: value_of(values, field_block(name), ids.SHOP_ADDRESS_INPUT) for name in FIELDS}
    problems = {}
    for name, (label, required, longest) in FIELDS.items():
        if required and not typed[name]:
            problems[field_block(name)] = f"{label} is required."
        elif len(typed[name]) > longest:
            problems[field_block(name)] = f"At most {longest} characters."
    if typed["country_code"] and not COUNTRY_CODE.fullmatch(typed["country_code"]):
        problems[field_block("country_code")] = "Two letters, such as US, GB or DE."
    address = replace(EMPTY, **{name: value or None for name, value in typed.items()})
    if address.country_code:
        address = replace(address, country_code=address.country_code.upper())
    return address, problems


def address_problem_block(field: tuple[str, ...]) -> str:
    return field_block(SHOPIFY_NAMES[field[-1]]) if field and field[-1] in SHOPIFY_NAMES else ""


def address_dict(address: Address) -> dict:
    return {name: getattr(address, name) for name in FIELDS}


def address_from(given: Mapping | None) -> Address | None:
    return replace(EMPTY, **{name: given.get(name) for name in FIELDS}) if given else None


def address_params(new: Address, old: Address | None) -> dict:
    """What the action records: the new address, and the old one for the thread to show."""
    return {"address": address_dict(new), "old": address_dict(old) if old else None}


def address_text(address: Address | None) -> str:
    """The address on one line, escaped for mrkdwn: "Jane Doe, 1 Main St, Springfield …"."""
    if address is None:
        return "no address"
    parts = [
        address.name,
        address.address1,
        address.address2,
        address.city,
        address.province_code,
        address.zip,
        address.country_code,
    ]
    return escape_mrkdwn(", ".join(part for part in parts if part)) or "no address"
