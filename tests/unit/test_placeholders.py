"""Placeholders in saved replies: filled in when used, refused when unknown, never raw braces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.placeholders import first_name, render
from bot.core.saved_replies import KNOWN_PLACEHOLDERS, unknown_placeholders

TEMPLATE = (
    "Hi {{customer.first_name}}, about ticket #{{ticket.number}} for {{customer.name}}. "
    "Best, {{agent.first_name}}"
)


def test_every_placeholder_is_filled_from_its_value():
    values = {
        "customer.first_name": "Jane",
        "customer.name": "Jane Doe",
        "ticket.number": "42",
        "agent.first_name": "Alex",
    }
    assert render(TEMPLATE, values) == ("Hi Jane, about ticket #42 for Jane Doe. Best, Alex")


def test_missing_values_read_as_fallbacks():
    assert render(TEMPLATE, {"customer.first_name": None, "customer.name": ""}) == (
        "Hi there, about ticket # for there. Best, the team"
    )


def test_spaces_inside_the_braces_are_allowed():
    assert render("Hi {{ customer.first_name }}!", {"customer.first_name": "Jane"}) == "Hi Jane!"


@given(
    st.lists(st.sampled_from(KNOWN_PLACEHOLDERS), max_size=6),
    st.dictionaries(
        st.sampled_from([p.strip("{}") for p in KNOWN_PLACEHOLDERS]),
        st.one_of(st.none(), st.text(alphabet="abc XYZ", max_size=10)),
    ),
)
def test_a_saved_reply_that_passed_the_check_renders_without_braces(used, values):
    template = " and ".join(used)
    assert unknown_placeholders(template) == []
    assert "{{" not in render(template, values)


@pytest.mark.parametrize(
    ("body", "unknown"),
    [
        ("Your total is {{order.total}}.", ["{{order.total}}"]),
        ("{{Customer.First_Name}} and {{ customer.name }}", ["{{Customer.First_Name}}"]),
        ("{{}} {{ oops }} {{oops}} {{ oops }}", ["{{}}", "{{ oops }}", "{{oops}}"]),
        ("Hi {{customer.first_name}}, order {x} {not a placeholder}", []),
    ],
)
def test_unknown_placeholders_are_named_as_written_once_each(body, unknown):
    assert unknown_placeholders(body) == unknown


@pytest.mark.parametrize(
    ("full_name", "first"), [("Jane Doe", "Jane"), ("  Jane  ", "Jane"), ("", ""), ("   ", "")]
)
def test_first_name(full_name, first):
    assert first_name(full_name) == first
