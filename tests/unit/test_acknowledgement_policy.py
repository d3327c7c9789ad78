"""The acknowledgement's policy (top level, per inbox, templates checked at start-up) and the
promise of an answer in the customer's words."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, Policy, load_policy
from bot.mail.acknowledgement import compose_acknowledgement, promise
from bot.mail.compose import OutboundReply

NEW_YORK = ZoneInfo("America/New_York")
# Friday 27 November 2026, 17:00 in New York.
FRIDAY = datetime(2026, 11, 27, 17, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("due", "words"),
    [
        (datetime(2026, 11, 27, 17, 45, tzinfo=NEW_YORK), "today 17:45 (EST)"),
        (datetime(2026, 11, 28, 10, 0, tzinfo=NEW_YORK), "tomorrow 10:00 (EST)"),
        (datetime(2026, 11, 30, 12, 0, tzinfo=NEW_YORK), "Monday 12:00 (EST)"),
        (datetime(2026, 12, 3, 9, 30, tzinfo=NEW_YORK), "Thursday 09:30 (EST)"),
        (datetime(2026, 12, 4, 9, 0, tzinfo=NEW_YORK), "Friday 4 December 09:00 (EST)"),
    ],
)
def test_the_promise_names_the_day_as_the_customer_would(due, words):
    assert promise(due, NEW_YORK, FRIDAY) == words


def test_the_promise_is_in_the_teams_zone_whatever_the_clock_says():
    # 23:30 in New York on Friday is already Saturday in UTC; the day is New York's.
    late = datetime(2026, 11, 28, 4, 30, tzinfo=ZoneInfo("UTC"))
    due = datetime(2026, 11, 30, 14, 0, tzinfo=ZoneInfo("UTC"))
    assert promise(due, NEW_YORK, late) == "Monday 09:00 (EST)"
    summer = datetime(2026, 7, 6, 13, 0, tzinfo=ZoneInfo("UTC"))
    assert promise(summer, NEW_YORK, summer - timedelta(hours=1)) == "today 09:00 (EDT)"


def test_acknowledgements_are_off_until_the_section_is_written():
    assert Policy().acknowledgement_for(None) is None
    assert Policy.model_validate({"acknowledgement": True}).acknowledgement_for(None).enabled
    off = Policy.model_validate({"acknowledgement": {"enabled": False, "once_per": "2h"}})
    assert off.acknowledgement_for(None) is None


def test_an_inbox_overrides_the_default_or_turns_it_off():
    policy = Policy.model_validate(
        {
            "acknowledgement": {"template": "Ticket #{{ticket.number}}", "once_per": "1d"},
            "inboxes": [
                {"address": "returns@shop.example", "channel": "C0RETURNS",
                 "acknowledgement": {"once_per": "2h"}},
                {"address": "quiet@shop.example", "channel": "C0QUIET", "acknowledgement": False},
                {"address": "plain@shop.example", "channel": "C0PLAIN"},
            ],
        }
    )  # fmt: skip
    returns = policy.acknowledgement_for("returns@shop.example")
    assert (returns.template, returns.once_per) == ("Ticket #{{ticket.number}}", timedelta(hours=2))
    assert policy.acknowledgement_for("quiet@shop.example") is None
    assert policy.acknowledgement_for("plain@shop.example") == policy.acknowledgement
    # An inbox's own section turns it on even where the default is off.
    alone = Policy.model_validate(
        {"inboxes": [{"address": "r@shop.example", "channel": "C0R", "acknowledgement": {}}]}
    )
    assert alone.acknowledgement_for(None) is None
    assert alone.acknowledgement_for("r@shop.example").once_per == timedelta(days=1)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "inboxes:\n  - address: returns@shop.example\n    channel: C0RETURNS\n"
            "    acknowledgement:\n      template: 'Hi {{customer.nickname}}'\n",
            "policy key inboxes.0.acknowledgement.template (inbox returns@shop.example)="
            "'Hi {{customer.nickname}}' is invalid: {{customer.nickname}} is not a placeholder",
        ),
        (
            "acknowledgement:\n  template: 'Order {{ order.colour }} {{agent.first_name}}'\n",
            "policy key acknowledgement.template='Order {{ order.colour }} {{agent.first_name}}' "
            "is invalid: {{ order.colour }} is not a placeholder",
        ),
        (
            "acknowledgement:\n  once_per: soon\n",
            "policy key acknowledgement.once_per='soon' is invalid: expected a duration",
        ),
    ],
)
def test_a_bad_acknowledgement_is_one_line_naming_the_inbox_and_key(tmp_path, yaml_text, expected):
    path = tmp_path / "helpdesk.yml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as refused:
        load_policy(path)
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: {expected}")


def test_the_acknowledgement_is_an_automatic_reply_threaded_into_the_conversation():
    mail = compose_acknowledgement(
        OutboundReply(
            support_address="support@shop.example",
            support_name="",
            customer_address="jane@customer.example",
            customer_name="Jane Doe",
            subject="Where is my order?",
            body="Hi Jane, your ticket is #7.",
            in_reply_to="abc@customer.example",
            references=["abc@customer.example"],
            message_id="helpdesk.0123456789abcdef01234567@shop.example",
            date=FRIDAY,
        )
    )
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["In-Reply-To"] == "<abc@customer.example>"
    assert mail["References"] == "<abc@customer.example>"
    assert mail["Subject"] == "Re: Where is my order?"
