"""The desk's rules: each moment calls what is registered, in order, with its facts; the desk is
a required argument, so a caller can't silently skip the rules."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core import outbox
from bot.core.context import Rules
from bot.core.rules import desk_for
from bot.core.rules.order_context import post_order_context
from bot.core.rules.survey import offer_survey
from bot.core.tickets import open_ticket, set_status
from bot.storage.models import TicketStatus
from tests.core.builders import CHANNEL, SUPPORT, email, policy


def test_a_registered_rule_hears_each_moment_with_its_facts(core):
    heard = []
    opened = (*core.desk.rules.on_ticket_opened, lambda s, d, t, f: heard.append(("opened", f)))
    arrived = (lambda s, d, t, m: heard.append(("message", m.body)),)
    changed = (lambda s, d, t, c: heard.append(("changed", c.field, c.old, c.new)),)
    replied = (lambda s, d, t, m: heard.append(("replied", m.author, m.body)),)
    core.desk = dataclasses.replace(core.desk, rules=Rules(opened, arrived, changed, replied))
    core.receive(email("Where is it?"))
    core.reply(core.ticket(1), "On its way", new_status=TicketStatus.PENDING)

    assert heard == [
        ("message", "Where is it?"),
        ("opened", None),
        ("replied", "U0AGENT1", "On its way"),
        ("changed", "status", TicketStatus.OPEN, TicketStatus.PENDING),
    ]


def test_order_context_and_surveys_are_rules_registered_only_when_set_up(core):
    plain = desk_for(policy(), support_channel=CHANNEL, support_address=SUPPORT)
    shop = desk_for(
        policy(), support_channel=CHANNEL, support_address=SUPPORT, order_context=True,
        surveys=policy().csat,
    )  # fmt: skip
    core.desk = shop
    core.receive(email())
    core.set_status(core.ticket(1), TicketStatus.SOLVED)

    kinds = [kind for kind, _ in core.outbox()]
    assert outbox.SHOPIFY_CONTEXT in kinds and outbox.EMAIL_SURVEY in kinds
    assert post_order_context not in plain.rules.on_ticket_opened
    assert offer_survey not in plain.rules.on_ticket_changed
    assert post_order_context in shop.rules.on_ticket_opened


def test_forgetting_the_desk_is_a_type_error_not_skipped_clocks(core):
    core.receive(email())
    # Without the desk every later argument shifts by one: the last is then missing.
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'status'"):
        set_status(core.session, core.ticket(1), TicketStatus.PENDING, actor="U0AGENT1")
    with pytest.raises(TypeError, match="'desk'"):
        open_ticket(core.session, customer=None, subject="", channel=CHANNEL, source=None)
