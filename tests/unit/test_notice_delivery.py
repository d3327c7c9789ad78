"""Notice rows reach Slack rendered at delivery, including rows enqueued before an upgrade
that hold the old payload shape, so an upgrade loses none of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.core import outbox
from bot.core.notices import Notice
from bot.devtools.fake_slack import FakeSlack
from bot.storage.db import transaction
from tests.e2e.harness import CHANNEL
from tests.unit.outbox_desk import open_ticket, running_desk

LEADS = "C0LEADS"


@pytest.fixture
def desk(tmp_path) -> Iterator[tuple]:
    with running_desk(tmp_path, LEADS, lease=timedelta(seconds=30)) as desk:
        yield desk


def texts(slack: FakeSlack, channel: str) -> list[str]:
    return [message["text"] for message in slack.messages_in(channel)]


def thread_texts(slack: FakeSlack) -> list[str]:
    """The ticket's thread after its root and the customer's first message."""
    roots = slack.messages_in(CHANNEL)[:1]
    return [m["text"] for root in roots for m in slack.thread(CHANNEL, root["ts"])][2:]


def test_old_rows_and_new_notices_are_delivered_alike(desk):
    engine, slack = desk
    ticket_id = open_ticket(engine, "ann")
    slack.add_user("U0ANN", "ann")
    with transaction(engine) as session:
        # As an earlier version stored them: the line already rendered, a DM's kind as `about`.
        for kind, payload in (
            (outbox.THREAD_NOTICE, {"text": ":arrow_up: <@U0BOB> escalated this (old row)"}),
            (outbox.CHANNEL_NOTICE, {"channel": LEADS, "text": ":rotating_light: old row"}),
            (outbox.DIRECT_MESSAGE, {"user": "U0ANN", "about": "assigned", "by": "U0BOB"}),
        ):
            outbox.enqueue(session, kind, ticket_id=ticket_id, payload=payload)
        outbox.notice(session, ticket_id, Notice.ESCALATION_TAKEN, by="U0BOB")
        outbox.channel_notice(
            session, ticket_id, LEADS, Notice.SLA_BREACH, clock="Resolution", target="3d"
        )
    dm = slack.direct_message_channel("U0ANN")
    assert slack.wait_for(
        lambda: len(thread_texts(slack)) == 2 and len(texts(slack, LEADS)) == 2 and texts(slack, dm)
    )

    assert thread_texts(slack) == [
        ":arrow_up: <@U0BOB> escalated this (old row)",
        ":raised_hand: <@U0BOB> took this ticket.",
    ]
    old, new = texts(slack, LEADS)
    assert old.startswith(":rotating_light: old row")
    assert new.startswith(":rotating_light: Ticket #1: resolution target (3d) missed.")
    [assigned] = texts(slack, dm)
    assert assigned.startswith("<@U0BOB> assigned you ticket <https://")
    assert assigned.endswith("|#1 ann's question>.")
