"""The daily digest, `/helpdesk stats`, `helpdesk digest` and `helpdesk export`, end to end.

The digest job is called directly with an injected clock, as the scheduler would call it at
09:00 New York time; Slack is the fake, and the chart arrives through files_upload_v2.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.config import Policy
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.daily_digest import enqueue_digest, run_daily_digest
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import (
    CHANNEL,
    MailSink,
    run_helpdesk,
    running_helpdesk,
    serve_environment,
)
from tests.e2e.test_agent_workflow import AGENT, STRANGER, Desk, answer_values


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


DIGEST = "C0DIGEST"
ZONE = ZoneInfo("America/New_York")
POLICY = Policy(timezone=ZONE.key, digest={"channel": DIGEST, "time": "09:00"})


def local_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def assert_valid_blocks(blocks: list[dict]) -> None:
    for block in blocks:
        Block.parse(block).validate_json()


@pytest.fixture
def desk(database_url):
    """One ticket from Jane, answered and solved by the agent today."""
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(DIGEST, "managers")
        sink = stack.enter_context(MailSink())
        helpdesk = stack.enter_context(
            running_helpdesk(database_url, slack, POLICY, outbound_smtp_url=sink.url)
        )
        desk = Desk(helpdesk, slack, sink)
        desk.click(ids.TICKET_REPLY)
        view = desk.opened_view()
        desk.submit(view, answer_values(view, "It ships today.", "solved"))
        desk.wait_for_outbox()
        yield desk


def digest_posts(desk: Desk, count: int) -> list[dict]:
    # Rendering the chart comes first and is slow on a loaded machine; no timing is asserted.
    desk.slack.wait_for(lambda: len(desk.slack.messages_in(DIGEST)) >= count, timeout=60)
    desk.wait_for_outbox()
    return desk.slack.messages_in(DIGEST)


@ON_BOTH_DATABASES
def test_the_morning_digest_is_posted_once_with_its_chart(desk):
    today = datetime.now(ZONE).date()
    engine = desk.helpdesk.engine
    tomorrow = today + timedelta(days=1)
    assert run_daily_digest(engine, DIGEST, POLICY, local_time(tomorrow, 8, 59)) is None
    at_nine = local_time(tomorrow, 9, 0)
    assert run_daily_digest(engine, DIGEST, POLICY, at_nine) == today
    # A second run, a restart at 09:00 or another process: nothing more is enqueued.
    assert run_daily_digest(engine, DIGEST, POLICY, at_nine) is None
    assert not enqueue_digest(engine, today, DIGEST, POLICY.timezone)

    message, upload = digest_posts(desk, 2)
    assert f"Helpdesk digest for {today:%A}" in message["text"]
    assert "1 created, 1 solved, 0 still open" in message["text"]
    assert_valid_blocks(message["blocks"])
    shown = json.dumps(message["blocks"], ensure_ascii=False)
    for expected in ("*Created*\\n1", "*Solved*\\n1", "*First response*", "1 answered",
                     f"<@{AGENT['id']}>: 1 reply, 1 first response (median"):  # fmt: skip
        assert expected in shown
    [chart] = upload["files"]
    assert chart["name"] == f"helpdesk-digest-{today.isoformat()}.png"
    assert desk.slack.file_content(chart["id"]).startswith(b"\x89PNG")
    assert len(desk.slack.calls("files.completeUploadExternal")) == 1


def test_a_quiet_day_reads_well_and_a_late_start_catches_up(desk):
    engine = desk.helpdesk.engine
    quiet = datetime.now(ZONE).date() - timedelta(days=10)  # no tickets then
    on_time, late_start = local_time(quiet, 9), local_time(quiet + timedelta(days=1), 9, 5)

    def catch_up(now: datetime) -> date | None:
        return run_daily_digest(engine, DIGEST, POLICY, now, catching_up=True)

    # Started after 09:00 with no digest the day before: a first installation posts nothing.
    assert catch_up(on_time) is None
    assert run_daily_digest(engine, DIGEST, POLICY, on_time) == quiet - timedelta(days=1)
    assert catch_up(late_start) == quiet  # the day before's went out, so this one is owed
    first, _, second, _ = digest_posts(desk, 4)
    for message in (first, second):
        assert_valid_blocks(message["blocks"])
        assert "A quiet period" in json.dumps(message["blocks"])
        assert "0 created, 0 solved, 0 still open" in message["text"]


def stats(desk: Desk, text: str) -> tuple[str, dict]:
    """`/helpdesk <text>` from the agent, as Slack sends it: the body of its acknowledgement,
    and the answer the app then posted to the command's `response_url`."""
    told_before = len(desk.slack.ephemeral_messages(AGENT["id"]))
    acked = desk.sender.send_command(
        "/helpdesk",
        text,
        user_id=AGENT["id"],
        channel_id=CHANNEL,
        response_url=desk.slack.response_url(AGENT["id"]),
    )
    assert acked.status == 200
    desk.slack.wait_for(lambda: len(desk.slack.ephemeral_messages(AGENT["id"])) > told_before)
    [answer] = desk.slack.ephemeral_messages(AGENT["id"])[told_before:]
    return acked.body, answer


def test_stats_are_acknowledged_at_once_then_answered_privately(desk):
    acked, answer = stats(desk, "stats week")
    assert acked == ""  # no figures in the ack: they are counted after it, never racing its 3 s
    assert answer["blocks"][0]["text"]["text"].startswith("Helpdesk stats: last week")
    assert_valid_blocks(answer["blocks"])
    assert "*Created*\\n1" in json.dumps(answer["blocks"])
    _, today = stats(desk, "stats")
    assert today["blocks"][0]["text"]["text"].startswith("Helpdesk stats: today")
    command = {"user_id": AGENT["id"], "channel_id": CHANNEL}
    assert "stats today" in desk.sender.send_command("/helpdesk", "stats year", **command).body
    stranger = {"user_id": STRANGER["id"], "channel_id": CHANNEL}
    assert "blocks" not in desk.sender.send_command("/helpdesk", "stats", **stranger).body


def helpdesk_command(desk: Desk, database_url: str, tmp_path, *args: str):
    env = serve_environment(database_url, desk.slack, HELPDESK_DIGEST_CHANNEL=DIGEST)
    return run_helpdesk(list(args), env, tmp_path)


@ON_BOTH_DATABASES
def test_export_and_the_digest_command(desk, database_url, tmp_path):
    today = datetime.now(ZoneInfo("UTC")).date().isoformat()  # the commands' policy is UTC
    exported = helpdesk_command(desk, database_url, tmp_path, "export", "--since", today)
    assert exported.returncode == 0, exported.stderr
    [row] = csv.DictReader(io.StringIO(exported.stdout))
    assert (row["number"], row["status"], row["subject"]) == ("1", "solved", "Where is my order?")
    assert int(row["first_response_seconds"]) >= 0 and row["solved_at"].startswith(today)

    target = tmp_path / "tickets.json"
    as_json = helpdesk_command(
        desk, database_url, tmp_path, "export", "--since", today, "--format", "json",
        "--output", str(target),
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    [ticket] = json.loads(target.read_text())
    assert ticket["number"] == 1 and ticket["resolution_seconds"] >= 0

    dry = helpdesk_command(desk, database_url, tmp_path, "digest", "--dry-run", "--date", today)
    assert dry.returncode == 0, dry.stderr
    for expected in ("Helpdesk digest for", "created", "first response", "Per agent"):
        assert expected in dry.stdout
    assert desk.slack.messages_in(DIGEST) == []

    posted = helpdesk_command(desk, database_url, tmp_path, "digest", "--date", today)
    assert posted.returncode == 0, posted.stderr
    assert "posted to C0DIGEST" in posted.stderr
    message, upload = desk.slack.messages_in(DIGEST)
    assert "1 created" in message["text"] and upload["files"]
    again = helpdesk_command(desk, database_url, tmp_path, "digest", "--date", today)
    assert "already sent" in again.stderr and len(desk.slack.messages_in(DIGEST)) == 2

    bad = helpdesk_command(desk, database_url, tmp_path, "export", "--since", "yesterday")
    assert bad.returncode == 2 and "--since='yesterday' is invalid" in bad.stderr
