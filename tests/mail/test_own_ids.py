"""The helpdesk's own Message-IDs: made so that mail coming back with one is recognised."""

from __future__ import annotations

import pytest

from bot.mail.ids import is_own_message_id, message_id, new_message_id


def test_an_id_we_made_is_ours_and_unique():
    made = {new_message_id("support@shop.example") for _ in range(100)}
    assert len(made) == 100
    for made_id in made:
        assert made_id.endswith("@shop.example")
        assert is_own_message_id(made_id)
        assert is_own_message_id(message_id(f"<{made_id}>"))  # as it comes back in a header


@pytest.mark.parametrize(
    "other",
    [
        None,
        "",
        "CAF=abc123@mail.gmail.com",
        "176.1.2.3@shop.example",  # the stdlib's make_msgid style
        "helpdesk.123@shop.example",  # too short to be ours
        "xhelpdesk.0123456789abcdef01234567@shop.example",
    ],
)
def test_other_ids_are_not(other):
    assert not is_own_message_id(other)
