"""SLA clocks end to end, with a policy counted in seconds and a sweep every second."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.sla import SlaRules
from bot.core.sla_sweep import SweepResult
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.sla_alerts import run_sla_sweep
from bot.storage.models import SlaAlert, SlaClock, Ticket, utcnow
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, free_port, sqlite_unless_on_both
from tests.e2e.harness import (
    CHANNEL,
    MailSink,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
)
from tests.e2e.test_agent_workflow import AGENT, Desk, answer_values
from tests.e2e.test_crash_recovery import start_serve


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


ESCALATION = "C0ESCALATE"
SECONDS_POLICY = {
    "sla": {
        "normal": {"first_response": "3s", "next_response": "3s", "resolution": "1h"},
        "warn_at": 0.5,
        "sweep_every": "1s",
    }
}


def notices(slack: FakeSlack, root_ts: str, marker: str) -> list[str]:
    return [m["text"] for m in slack.thread(CHANNEL, root_ts)[1:] if marker in m["text"]]


@pytest.fixture
def desk(database_url, tmp_path):
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(ESCALATION, "escalations")
        helpdesk = stack.enter_context(
            running_helpdesk(
                database_url,
                slack,
                Policy.model_validate(SECONDS_POLICY),
                helpdesk_escalation_channel=ESCALATION,
            )
        )
        yield Desk(helpdesk, slack, sink=None)


def test_warning_then_breach_each_once_and_the_root_shows_it(desk):
    assert eventually(lambda: notices(desk.slack, desk.root_ts, "missed"), timeout=10)
    time.sleep(2.5)  # two more sweeps: nothing may be announced twice
    assert len(notices(desk.slack, desk.root_ts, "First response is due soon")) == 1
    assert len(notices(desk.slack, desk.root_ts, "First response target (3s) missed")) == 1
    escalation_posts = desk.slack.messages_in(ESCALATION)
    assert len(escalation_posts) == 1 and "#1" in escalation_posts[0]["text"]
    desk.wait_for_outbox()
    root = desk.slack.thread(CHANNEL, desk.root_ts)[0]
    assert "First response: target missed" in json.dumps(root["blocks"])
    assert "Resolution due <!date^" in json.dumps(root["blocks"])
    with Session(desk.helpdesk.engine) as session:
        assert sorted(a.kind for a in session.exec(select(SlaAlert))) == ["breach", "warning"]


def test_pending_pauses_and_a_reply_stops_the_clock(database_url):
    policy = Policy.model_validate(
        {**SECONDS_POLICY, "sla": {**SECONDS_POLICY["sla"], "normal": {"first_response": "10s"}}}
    )
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, policy, outbound_smtp_url=sink.url)
        )
        desk = Desk(helpdesk, slack, sink)
        desk.click(ids.TICKET_STATUS_MENU, value=None, selected_option={"value": "pending"})
        assert eventually(lambda: desk.ticket().status == "pending")
        with Session(helpdesk.engine) as session:
            [clock] = session.exec(select(SlaClock)).all()
        assert clock.running_since is None and not clock.breached  # paused before its target
        # Past the target, had the clock kept running: a paused clock must not breach.
        time.sleep(clock.target_seconds - clock.consumed_seconds + 1)
        assert notices(slack, desk.root_ts, "missed") == []
        desk.click(ids.TICKET_REPLY)
        view = desk.opened_view()
        desk.submit(view, answer_values(view, "On it"))
        desk.wait_for_outbox()
        with Session(helpdesk.engine) as session:
            [clock] = session.exec(select(SlaClock)).all()
        assert clock.outcome == "met" and clock.stopped_at is not None
        # A customer's answer starts no clock the policy does not set (no next_response here).
        mail = customer_mail("thanks", in_reply_to=desk.first_mail["Message-ID"])
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        time.sleep(2)
        assert notices(slack, desk.root_ts, "missed") == []


def test_after_downtime_the_first_sweep_sends_breaches_not_stale_warnings(database_url):
    slow_sweep = {**SECONDS_POLICY, "sla": {**SECONDS_POLICY["sla"], "sweep_every": "1h"}}
    policy = Policy.model_validate(slow_sweep)
    with FakeSlack() as slack, running_helpdesk(database_url, slack, policy) as helpdesk:
        slack.add_channel(CHANNEL, "support")
        assert smtp_send(helpdesk.smtp.port, customer_mail("anyone there?"))[0] == 250
        assert eventually(lambda: len(slack.calls("chat.postMessage")) >= 2)
        # As if the process had been down for five hours past every mark.
        later = utcnow() + timedelta(hours=5)
        rules = SlaRules.from_policy(policy)
        result = run_sla_sweep(helpdesk.engine, rules, None, later)
        assert (result.breaches, result.warnings) == (2, 0)  # first response and resolution
        assert run_sla_sweep(helpdesk.engine, rules, None, later) == SweepResult(0, 0)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_processes_sharing_postgres_announce_each_alert_once(database_url, tmp_path):
    policy_file = tmp_path / "helpdesk.yml"
    policy_file.write_text(json.dumps(SECONDS_POLICY))
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        slack.add_channel(ESCALATION, "escalations")
        smtp_port = free_port()
        extra = {"HELPDESK_CONFIG": str(policy_file), "HELPDESK_ESCALATION_CHANNEL": ESCALATION}
        first = start_serve(database_url, slack, smtp_port, tmp_path, **extra)
        second = start_serve(database_url, slack, free_port(), tmp_path, **extra)
        try:
            for n in range(3):
                mail = customer_mail(f"help {n}", subject=f"Ticket {n}")
                assert smtp_send(smtp_port, mail)[0] == 250
            slack.wait_for(lambda: len(slack.messages_in(ESCALATION)) >= 3, timeout=20)
            time.sleep(3)  # several more sweeps by both processes
        finally:
            for process in (first, second):
                process.send_signal(signal.SIGTERM)
                process.wait(15)
        roots = [m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m["ts"])]
        assert len(roots) == 3
        for root in roots:
            assert len(notices(slack, root["ts"], "is due soon")) == 1
            assert len(notices(slack, root["ts"], "missed")) == 1
        assert len(slack.messages_in(ESCALATION)) == 3


def test_app_home_lists_at_risk_tickets_first_with_their_sla(desk):
    # Both are the agent's. #1 waits on the customer (clocks paused); #2, newer, is running.
    desk.click(ids.TICKET_STATUS_MENU, value=None, selected_option={"value": "pending"})
    desk.click(ids.TICKET_ASSIGN)
    assert eventually(lambda: desk.ticket().status == "pending" and desk.ticket().assignee)
    mail = customer_mail("second problem", subject="Another one", sender="bo@customer.example")
    assert smtp_send(desk.helpdesk.smtp.port, mail)[0] == 250
    desk.wait_for_outbox()
    with Session(desk.helpdesk.engine) as session:
        second = session.exec(select(Ticket).where(Ticket.number == 2)).one()
    desk.click(ids.TICKET_ASSIGN, value=str(second.id))
    assert eventually(lambda: _assignee(desk, 2) == AGENT["id"])
    desk.sender.send_event(
        {"type": "app_home_opened", "user": AGENT["id"], "channel": "D0HOME", "tab": "home"}
    )
    desk.slack.wait_for(lambda: desk.slack.home_view(AGENT["id"]) is not None, timeout=5)
    blocks = desk.slack.home_view(AGENT["id"])["blocks"]
    mine = next(
        i for i, b in enumerate(blocks) if b.get("text", {}).get("text") == "Your open tickets"
    )
    texts = [b["text"]["text"] for b in blocks[mine:] if b["type"] == "section"]
    assert "#2 Another one" in texts[0] and ("SLA" in texts[0])
    assert "#1 Where is my order?" in texts[1]


def _assignee(desk: Desk, number: int) -> str | None:
    with Session(desk.helpdesk.engine) as session:
        return session.exec(select(Ticket.assignee).where(Ticket.number == number)).one()


@ON_BOTH_DATABASES
def test_helpdesk_sla_prints_a_table_of_open_clocks(database_url, tmp_path):
    import subprocess
    import sys

    from tests.e2e.harness import serve_environment

    policy = Policy.model_validate(SECONDS_POLICY)
    with FakeSlack() as slack, running_helpdesk(database_url, slack, policy) as helpdesk:
        slack.add_channel(CHANNEL, "support")
        assert smtp_send(helpdesk.smtp.port, customer_mail("hello"))[0] == 250
        assert eventually(lambda: len(slack.calls("chat.postMessage")) >= 2)
        (tmp_path / "helpdesk.yml").write_text(json.dumps(SECONDS_POLICY))
        result = subprocess.run(
            [sys.executable, "-m", "bot", "sla"],
            cwd=tmp_path,
            env=serve_environment(database_url, slack, COLUMNS="160"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert "SLA clocks of open tickets (2)" in result.stdout
    assert "First response" in result.stdout and "Resolution" in result.stdout
    assert "#1" in result.stdout


def test_an_escalation_summary_carries_the_sla_state(database_url):
    policy = Policy.model_validate(SECONDS_POLICY)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(ESCALATION, "escalations")
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, policy, helpdesk_escalation_channel=ESCALATION)
        )
        desk = Desk(helpdesk, slack, sink=None)
        response = desk.sender.send_command(
            "/escalate", "#1 urgent", user_id=AGENT["id"], channel_id=CHANNEL
        )
        assert "Escalated #1" in response.body
        assert eventually(
            lambda: any(
                "Resolution due" in json.dumps(m.get("blocks"))
                for m in slack.messages_in(ESCALATION)
            )
        )
