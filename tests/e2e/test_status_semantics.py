"""What agents hit when they end or park a ticket, driven by signed Slack requests: Close counts
as solved (digest, survey) unless "Close without resolving" is picked, an escalated ticket
solved or closed stops waiting to be taken, and "Pending until…" wakes the ticket at its time,
or at once when the customer writes.

The core's rules behind them: tests/core/test_closing_and_snoozing.py.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.daily_digest import run_daily_digest
from bot.jobs.escalation_reminders import remind_unacknowledged
from bot.storage.models import OutboxItem, SlaClock, Ticket, utcnow
from bot.views import ids
from tests.e2e.harness import (
    CHANNEL,
    MailSink,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
)
from tests.e2e.test_agent_workflow import AGENT, Desk
from tests.e2e.test_digest import DIGEST, ZONE, local_time, stats

TIER2 = "C0TIER2"
POLICY = Policy.model_validate(
    {
        "timezone": ZONE.key,
        "digest": {"channel": DIGEST, "time": "09:00"},
        "escalation": {"tiers": [{"name": "Tier 2", "channel": TIER2}]},
        "sla": {"normal": {"first_response": "4h", "resolution": "3d"}},
    }
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(TIER2, "tier-2")
        slack.add_channel(DIGEST, "managers")
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent", tz="Europe/Paris")
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(
                database_url, slack, POLICY, outbound_smtp_url=sink.url,
                helpdesk_secret_key="status-test-secret-key-0123456789",
            )
        )  # fmt: skip
        yield Desk(helpdesk, slack, sink)


def root_of(desk: Desk) -> str:
    return json.dumps(desk.slack.thread(CHANNEL, desk.root_ts)[0]["blocks"])


def survey_mails(desk: Desk) -> list:
    return [mail for mail in desk.sink.parsed() if "How did we do?" in mail["Subject"]]


def ticket_number(desk: Desk, number: int) -> Ticket | None:
    with Session(desk.helpdesk.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).first()


def test_close_counts_as_solved_with_a_survey_and_close_without_resolving_counts_nowhere(desk):
    """In the digest and `/helpdesk stats`."""
    assert "Close without resolving (spam, no reply needed)" in root_of(desk)
    desk.click(ids.TICKET_CLOSE)
    assert eventually(lambda: desk.ticket().status == "closed")
    assert desk.ticket().solved_at is not None
    assert eventually(lambda: len(survey_mails(desk)) == 1, timeout=10)

    # Another sender's mail, closed as spam: not solved, no survey.
    spam = customer_mail("WIN A PRIZE", sender="spam@junk.example", subject="Prize")
    assert smtp_send(desk.helpdesk.smtp.port, spam)[0] == 250
    assert eventually(lambda: ticket_number(desk, 2) and ticket_number(desk, 2).thread_ts)
    spam_ticket = ticket_number(desk, 2)
    menu = {"value": None, "selected_option": {"value": "close_unresolved"}}
    desk.agent.click(spam_ticket.id, spam_ticket.thread_ts, ids.TICKET_STATUS_MENU, **menu)
    assert eventually(lambda: ticket_number(desk, 2).status == "closed")
    desk.wait_for_outbox()
    assert ticket_number(desk, 2).solved_at is None
    assert len(survey_mails(desk)) == 1 and len(desk.sink.messages) == 1

    today = datetime.now(ZONE).date()
    tomorrow = today + timedelta(days=1)
    assert run_daily_digest(desk.helpdesk.engine, DIGEST, POLICY, local_time(tomorrow, 9)) == today
    desk.slack.wait_for(lambda: desk.slack.messages_in(DIGEST), timeout=15)
    assert "2 created, 1 solved, 0 still open" in desk.slack.messages_in(DIGEST)[0]["text"]
    _, answer = stats(desk, "stats")
    assert "*Solved*\\n1" in json.dumps(answer["blocks"])


def escalate(desk: Desk) -> None:
    desk.sender.send_command(
        "/escalate", "#1 needs a lead", user_id=AGENT["id"], channel_id=CHANNEL,
        trigger_id="7.7.trigger",
    )  # fmt: skip
    desk.wait_for_outbox()
    assert "waiting to be taken" in root_of(desk)


@pytest.mark.parametrize(
    "end",
    [
        lambda desk: desk.click(ids.TICKET_CLOSE),
        lambda desk: desk.click(
            ids.TICKET_STATUS_MENU, value=None, selected_option={"value": "solved"}
        ),
    ],
    ids=["closed", "solved"],
)
def test_an_escalated_ticket_solved_or_closed_stops_waiting_and_gets_no_reminder(desk, end):
    escalate(desk)
    [post] = desk.slack.messages_in(TIER2)
    assert "Waiting for someone to take it" in json.dumps(post["blocks"])

    end(desk)
    assert eventually(lambda: desk.ticket().status in ("closed", "solved"))
    desk.wait_for_outbox()
    assert "waiting to be taken" not in root_of(desk) and "Escalated" not in root_of(desk)
    [post] = desk.slack.messages_in(TIER2)
    shown = json.dumps(post["blocks"])
    assert "Waiting for someone" not in shown and "Take it" not in shown
    assert f"Ticket {desk.ticket().status}, nothing left to take" in shown

    later = utcnow() + timedelta(hours=2)
    assert remind_unacknowledged(desk.helpdesk.engine, timedelta(minutes=30), later) == 0
    desk.wait_for_outbox()
    assert not [p for p in desk.slack.messages_in(TIER2) if "Still waiting" in p["text"]]


def wake_snoozed(desk: Desk, now: datetime) -> int:
    """The wake-up job as the scheduler runs it, at `now`."""
    job = desk.helpdesk.scheduler.get_job("snooze_wakeups")
    return job.func(*job.args, now=now)


def snooze_view(desk: Desk) -> dict:
    opened = len(desk.slack.calls("views.open"))
    assert desk.click(ids.TICKET_SNOOZE).status == 200
    view = desk.agent.opened_view(after=opened)
    assert view["callback_id"] == ids.SNOOZE_MODAL
    return view


def pick(desk: Desk, view: dict, when: datetime):
    picked = {"type": "datetimepicker", "selected_date_time": int(when.timestamp())}
    return desk.submit(view, {ids.SNOOZE_UNTIL_BLOCK: {ids.SNOOZE_UNTIL: picked}})


def running_clocks(desk: Desk) -> list[SlaClock]:
    with Session(desk.helpdesk.engine) as session:
        rows = session.exec(select(SlaClock).where(SlaClock.ticket_id == desk.ticket_id))
        return [clock for clock in rows if clock.running_since is not None]


def test_bad_snooze_times_are_refused_in_the_modal_and_change_nothing(desk):
    view = snooze_view(desk)
    # Proposed: tomorrow 09:00 in the agent's own time zone, as Slack gives it.
    [picker] = [b["element"] for b in view["blocks"] if b.get("block_id") == ids.SNOOZE_UNTIL_BLOCK]
    proposed = datetime.fromtimestamp(picker["initial_date_time"], ZoneInfo("Europe/Paris"))
    assert (proposed.hour, proposed.minute) == (9, 0)

    for when, refusal in (
        (utcnow() - timedelta(hours=1), "Pick a time in the future."),
        (utcnow() + timedelta(days=400), "Pick a time within 365 days."),
    ):
        answer = pick(desk, view, when)
        assert answer.json() == {
            "response_action": "errors",
            "errors": {ids.SNOOZE_UNTIL_BLOCK: refusal},
        }
    missing = desk.submit(view, {ids.SNOOZE_UNTIL_BLOCK: {ids.SNOOZE_UNTIL: {}}})
    assert "Pick a date and a time." in missing.body
    assert desk.ticket().status == "open" and desk.ticket().pending_until is None


def test_a_snoozed_ticket_wakes_at_its_time_with_a_note_and_its_clocks_running(desk):
    until = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    answer = pick(desk, snooze_view(desk), until)
    assert answer.status == 200 and answer.body in ("", "{}"), answer.body
    assert (desk.ticket().status, desk.ticket().pending_until) == ("pending", until)
    desk.wait_for_outbox()
    assert "Pending until <!date^" in root_of(desk)
    assert any("set this ticket pending until" in t for t in desk.thread_texts())
    assert running_clocks(desk) == []  # paused while it waits

    assert wake_snoozed(desk, until - timedelta(minutes=1)) == 0
    assert wake_snoozed(desk, until + timedelta(seconds=30)) == 1
    assert wake_snoozed(desk, until + timedelta(seconds=60)) == 0
    assert (desk.ticket().status, desk.ticket().pending_until) == ("open", None)
    desk.wait_for_outbox()
    assert any("Open again: it was pending until" in t for t in desk.thread_texts())
    assert "Pending until <!date" not in root_of(desk) and "Open" in root_of(desk)
    assert {clock.kind for clock in running_clocks(desk)} == {"first_response", "resolution"}


def test_the_customer_writing_before_the_time_wakes_the_ticket_at_once(desk):
    pick(desk, snooze_view(desk), utcnow() + timedelta(days=2))
    assert desk.ticket().status == "pending"
    first = desk.first_mail["Message-ID"]
    follow_up = customer_mail("Any news?", in_reply_to=first, references=[first])
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250
    assert eventually(lambda: desk.ticket().status == "open")
    assert desk.ticket().pending_until is None
    assert wake_snoozed(desk, utcnow() + timedelta(days=3)) == 0
    desk.wait_for_outbox()
    assert "Pending until <!date" not in root_of(desk)


def test_a_reminder_queued_before_the_ticket_was_closed_is_not_posted(desk):
    escalate(desk)
    tier = desk.slack.channels[TIER2]
    tier.members.remove(desk.slack.bot_user_id)  # the reminder can't go out yet
    later = utcnow() + timedelta(minutes=31)
    assert remind_unacknowledged(desk.helpdesk.engine, timedelta(minutes=30), later) == 1
    desk.click(ids.TICKET_CLOSE)
    assert eventually(lambda: desk.ticket().status == "closed")

    tier.members.append(desk.slack.bot_user_id)
    with Session(desk.helpdesk.engine) as session:
        for item in session.exec(select(OutboxItem)):
            item.next_attempt_at = item.created_at  # skip the backoff, not the retry
            session.add(item)
        session.commit()
    desk.helpdesk.outbox.wake()
    desk.wait_for_outbox()
    assert not [p for p in desk.slack.messages_in(TIER2) if "Still waiting" in p["text"]]
    assert "nothing left to take" in json.dumps(desk.slack.messages_in(TIER2)[0]["blocks"])
