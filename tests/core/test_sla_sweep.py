"""The SLA sweep: which alerts come due, and the outbox rows and marks each one leaves.

The sweep's timing in a running helpdesk (every second, two processes): tests/e2e/test_sla.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core import outbox
from bot.core.sla_sweep import SweepResult, sweep
from bot.core.tickets import assign
from bot.storage.models import SlaAlert
from tests.core.builders import AGENT, ESCALATION_CHANNEL, ON_BOTH_DATABASES, email

# The test policy's normal targets: first response 1h (warned at 45m), resolution 1d (18h).
WARNED = timedelta(minutes=50)
BREACHED = timedelta(hours=2)
AFTER_DOWNTIME = timedelta(days=2)


def sweep_at(core, after: timedelta) -> SweepResult:
    ticket = core.ticket(1)
    result = sweep(core.session, core.sla, ticket.created_at + after, ESCALATION_CHANNEL)
    core.session.commit()
    return result


def alerts(core) -> list[tuple[int, str]]:
    rows = core.session.exec(select(SlaAlert.clock_id, SlaAlert.kind).order_by(SlaAlert.id))
    return list(rows)


def receive_two_tickets(core) -> None:
    """#1 assigned to the agent, #2 nobody's; both opened at (nearly) the same instant."""
    core.receive(email(subject="First"))
    core.receive(email(subject="Second"))
    assign(core.session, core.ticket(1), AGENT.user_id, actor=AGENT.user_id)
    core.session.commit()
    core.outbox()


@ON_BOTH_DATABASES
def test_a_warning_tells_the_assignee_and_the_thread_and_refreshes_the_root_once(core):
    receive_two_tickets(core)

    assert sweep_at(core, WARNED) == SweepResult(breaches=0, warnings=2)
    assert core.outbox() == [
        (outbox.DIRECT_MESSAGE, 1),
        (outbox.THREAD_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
        (outbox.THREAD_NOTICE, 2),
        (outbox.SLACK_UPDATE_ROOT, 2),
    ]
    [dm] = core.outbox_rows(outbox.DIRECT_MESSAGE)
    assert dm.payload == {
        "user": AGENT.user_id,
        "notice": "sla_warning",
        "clock": "First response",
        "target": "1h",
    }
    notices = [row.payload for row in core.outbox_rows(outbox.THREAD_NOTICE)]
    assert [n["assignee"] for n in notices] == [AGENT.user_id, None]
    clocks = [core.clocks(core.ticket(n))["first_response"] for n in (1, 2)]
    assert [(c.warned, c.breached) for c in clocks] == [(True, False), (True, False)]
    assert alerts(core) == [(clocks[0].id, "warning"), (clocks[1].id, "warning")]

    assert sweep_at(core, WARNED) == SweepResult(0, 0)
    assert core.outbox() == []


@ON_BOTH_DATABASES
def test_a_breach_also_goes_to_the_escalation_channel(core):
    receive_two_tickets(core)
    sweep_at(core, WARNED)
    core.outbox()

    assert sweep_at(core, BREACHED) == SweepResult(breaches=2, warnings=0)
    assert core.outbox() == [
        (outbox.DIRECT_MESSAGE, 1),
        (outbox.THREAD_NOTICE, 1),
        (outbox.CHANNEL_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
        (outbox.THREAD_NOTICE, 2),
        (outbox.CHANNEL_NOTICE, 2),
        (outbox.SLACK_UPDATE_ROOT, 2),
    ]
    channel_notices = [row.payload for row in core.outbox_rows(outbox.CHANNEL_NOTICE)]
    assert channel_notices[0] == {
        "channel": ESCALATION_CHANNEL,
        "notice": "sla_breach",
        "clock": "First response",
        "target": "1h",
    }
    clock = core.clocks(core.ticket(1))["first_response"]
    assert (clock.warned, clock.breached) == (True, True)
    assert [kind for _, kind in alerts(core)] == ["warning", "warning", "breach", "breach"]


def test_after_downtime_each_clock_gets_its_breach_alone_in_due_order(core):
    core.receive(email())
    core.outbox()

    assert sweep_at(core, AFTER_DOWNTIME) == SweepResult(breaches=2, warnings=0)
    # The second breach finds the root's refresh still waiting, so adds none of its own.
    assert core.outbox() == [
        (outbox.THREAD_NOTICE, 1),
        (outbox.CHANNEL_NOTICE, 1),
        (outbox.SLACK_UPDATE_ROOT, 1),
        (outbox.THREAD_NOTICE, 1),
        (outbox.CHANNEL_NOTICE, 1),
    ]
    targets = [row.payload["target"] for row in core.outbox_rows(outbox.THREAD_NOTICE)]
    assert targets == ["1h", "1d"]
    assert [kind for _, kind in alerts(core)] == ["breach", "breach"]


def test_a_root_refresh_already_waiting_is_not_doubled(core):
    core.receive(email())
    core.outbox()
    outbox.refresh_root(core.session, core.ticket(1).id)
    core.session.commit()

    sweep_at(core, WARNED)
    assert core.outbox() == [(outbox.SLACK_UPDATE_ROOT, 1), (outbox.THREAD_NOTICE, 1)]


def test_without_an_escalation_channel_a_breach_stays_in_the_thread(core):
    core.receive(email())
    core.outbox()

    ticket = core.ticket(1)
    sweep(core.session, core.sla, ticket.created_at + BREACHED, None)
    core.session.commit()
    assert core.outbox() == [(outbox.THREAD_NOTICE, 1), (outbox.SLACK_UPDATE_ROOT, 1)]
