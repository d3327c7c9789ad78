"""Nothing blocks a ticket forever: a row whose delivery raises by its content is given up,
visibly, and the ticket's later messages go on; `helpdesk outbox` lists, retries and drops
rows. Driven through SMTP, signed Slack requests and the `helpdesk` command."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import ExitStack

import pytest
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.deliverers.customer_email import ReplyEmail
from bot.deliverers.smtp_sender import SmtpSender
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import (
    Delivery,
    Message,
    OutboxItem,
    OutboxStatus,
    TicketEvent,
)
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SUPPORT,
    MailSink,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    serve_environment,
    smtp_send,
)

# Five tries, the waits between them doubling from this (1 s by default) ...
FIRST_RETRY_SECONDS = 0.25
# ... so given up within 4 s, and the rest is room for a loaded machine.
GIVEN_UP_WITHIN = 20


class ReplyWithAComposeBug(ReplyEmail):
    """The real reply deliverer, with a bug that some content sets off: it stands in for any
    such bug (a header that can't be composed, say) until `fixed` is set."""

    fixed = False
    # Set both to hold a try in progress: `trying` is set once the try has begun, and the
    # try goes on once `go_on` is set.
    trying: threading.Event | None = None
    go_on: threading.Event | None = None

    def send(self, session, item, in_doubt):
        if self.trying and self.go_on:
            self.trying.set()
            self.go_on.wait(30)
        message = session.get(Message, item.message_id)
        if "§" in message.body and not self.fixed:
            raise ValueError("Header values may not contain linefeed or carriage return")
        return super().send(session, item, in_doubt)


class Desk:
    def __init__(self, stack: ExitStack, database_url: str):
        self.slack = slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        self.sink = stack.enter_context(MailSink())
        self.replies = ReplyWithAComposeBug(SmtpSender(self.sink.url), SUPPORT, None)
        self.database_url = database_url
        self.helpdesk = stack.enter_context(
            running_helpdesk(
                database_url,
                slack,
                outbound_smtp_url=self.sink.url,
                extra_deliverers={kinds.EMAIL_SEND: self.replies},
                helpdesk_outbox_retry_seconds=FIRST_RETRY_SECONDS,
            )
        )
        self.agent = SlackAgent(self.helpdesk.http_port, slack)
        self.first_mail = customer_mail("Hi, my parcel never came.")
        assert smtp_send(self.helpdesk.smtp.port, self.first_mail)[0] == 250
        slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 2, timeout=10)
        self.ticket_id, self.root_ts = 1, slack.calls("chat.postMessage")[0].response["ts"]

    def thread(self) -> list[dict]:
        return self.slack.thread(CHANNEL, self.root_ts)[1:]

    def mailed(self, text: str) -> bool:
        return any(text in mail.get_body().get_content() for mail in self.sink.parsed())

    def rows(self, kind: str) -> list[OutboxItem]:
        with Session(self.helpdesk.engine) as session:
            return list(session.exec(select(OutboxItem).where(OutboxItem.kind == kind)).all())

    def row(self, row_id: int) -> OutboxItem:
        with Session(self.helpdesk.engine) as session:
            return session.get(OutboxItem, row_id)

    def cli(self, *args: str, stdin: str | None = None, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            self._command(*args),
            env=self._environment(**env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start_cli(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            self._command(*args),
            env=self._environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot", "outbox", *args]

    def _environment(self, **env) -> dict[str, str]:
        return serve_environment(self.database_url, self.slack, COLUMNS="200", **env)


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        yield Desk(stack, database_url)


def test_a_reply_that_breaks_its_delivery_fails_visibly_and_later_messages_go_on(desk):
    desk.agent.reply(desk.ticket_id, desk.root_ts, "Refund per § 12 of our terms")
    desk.agent.reply(desk.ticket_id, desk.root_ts, "And a voucher for the wait")
    follow_up = customer_mail("Thanks!", in_reply_to=desk.first_mail["Message-ID"])
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250

    # The later reply reaches the customer, and everything reaches the thread.
    assert eventually(lambda: desk.mailed("voucher"), timeout=GIVEN_UP_WITHIN)
    desk.slack.wait_for(lambda: any("Thanks!" in m["text"] for m in desk.thread()), timeout=10)
    failed = next(m for m in desk.thread() if "§ 12" in m["text"])
    assert failed["text"].startswith("Not delivered")
    assert "Header values may not contain linefeed" in json.dumps(failed["blocks"])
    [retry] = [e for b in failed["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert retry["action_id"] == ids.REPLY_RETRY
    assert not desk.mailed("§ 12")
    [row] = [r for r in desk.rows(kinds.EMAIL_SEND) if r.status == OutboxStatus.FAILED]
    assert row.attempts == 5 and "ValueError" in row.last_error
    with Session(desk.helpdesk.engine) as session:
        events = {e.kind for e in session.exec(select(TicketEvent)).all()}
    assert {"delivery_failed", "reply_failed"} <= events

    # `helpdesk outbox` lists it; once the bug is fixed, Retry sends the same row again.
    listed = desk.cli()
    assert listed.returncode == 0, listed.stderr
    assert f"{row.id}" in listed.stdout and "email.send" in listed.stdout
    assert "failed" in listed.stdout and "ValueError" in listed.stdout
    desk.replies.fixed = True
    clicked = desk.agent.click(desk.ticket_id, desk.root_ts, ids.REPLY_RETRY, value=retry["value"])
    assert clicked.status == 200
    assert eventually(lambda: desk.mailed("§ 12"), timeout=15)
    assert [r.status for r in desk.rows(kinds.EMAIL_SEND)].count(OutboxStatus.FAILED) == 0
    assert len(desk.rows(kinds.EMAIL_SEND)) == 2  # the failed row was sent, not a third one
    empty = desk.cli("list")
    assert empty.returncode == 0 and "no stuck or failed deliveries" in empty.stderr


def test_helpdesk_outbox_retries_a_failed_row_and_drops_a_stuck_one(desk):
    desk.agent.reply(desk.ticket_id, desk.root_ts, "Refund per § 12 of our terms")
    assert eventually(
        lambda: any(r.status == OutboxStatus.FAILED for r in desk.rows(kinds.EMAIL_SEND)),
        timeout=GIVEN_UP_WITHIN,
    )
    [failed] = desk.rows(kinds.EMAIL_SEND)
    desk.replies.fixed = True
    retried = desk.cli("retry", str(failed.id))
    assert retried.returncode == 0, retried.stderr
    assert eventually(lambda: desk.mailed("§ 12"), timeout=15)

    def delivery() -> Delivery:  # recorded a moment after the mail server took it
        with Session(desk.helpdesk.engine) as session:
            return session.get(Message, failed.message_id).delivery

    assert eventually(lambda: delivery() == Delivery.SENT)

    # A post Slack keeps refusing (the channel is gone) waits, retried; dropping it lets the
    # ticket's later messages go on.
    desk.slack.fail_next("chat.postMessage", status=200, error="channel_not_found", count=1000)
    desk.agent.reply(desk.ticket_id, desk.root_ts, "Stuck in Slack")
    assert eventually(lambda: desk.mailed("Stuck in Slack"), timeout=15)
    assert eventually(lambda: any(r.last_error for r in desk.rows(kinds.SLACK_POST_MESSAGE)))
    [stuck] = [r for r in desk.rows(kinds.SLACK_POST_MESSAGE) if r.status == "pending"]
    listed = desk.cli()
    assert listed.returncode == 0 and "channel_not_found" in listed.stdout
    follow_up = customer_mail("Any news?", in_reply_to=desk.first_mail["Message-ID"])
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250

    refused = desk.cli("drop", str(stuck.id), stdin="n\n")
    assert refused.returncode != 0 and desk.row(stuck.id).status == OutboxStatus.PENDING
    dropped = desk.cli("drop", str(stuck.id), "--yes")
    assert dropped.returncode == 0, dropped.stderr
    desk.slack.clear_faults()  # the channel is back
    desk.slack.wait_for(lambda: any("Any news?" in m["text"] for m in desk.thread()), timeout=15)
    assert not any("Stuck in Slack" in m["text"] for m in desk.thread())
    assert desk.row(stuck.id).status == OutboxStatus.DROPPED


def test_dropping_a_row_while_a_try_holds_it_waits_for_that_try_to_end(desk):
    """A row that is retried is often in a try: the operator's command waits that try out
    instead of refusing (CI once hit the moment between two tries of a stuck row)."""
    desk.replies.trying, desk.replies.go_on = threading.Event(), threading.Event()
    desk.agent.reply(desk.ticket_id, desk.root_ts, "Refund per § 12 of our terms")
    assert desk.replies.trying.wait(15)
    [row] = desk.rows(kinds.EMAIL_SEND)
    dropping = desk.start_cli("drop", str(row.id), "--yes")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            dropping.wait(3)  # the try holds the row: the command waits for it
        assert desk.row(row.id).status == OutboxStatus.PENDING
        desk.replies.go_on.set()
        _, stderr = dropping.communicate(timeout=60)
    finally:
        dropping.kill()
    assert dropping.returncode == 0, stderr
    assert "dropped" in stderr
    assert desk.row(row.id).status == OutboxStatus.DROPPED
    with Session(desk.helpdesk.engine) as session:
        assert session.get(Message, row.message_id).delivery == Delivery.FAILED


def test_a_customer_message_slack_refuses_fails_visibly_in_its_thread(desk):
    """Slack refuses a follow-up's post for good: the row fails, and a note in the thread
    names it and the command that sends it again."""
    desk.slack.fail_next("chat.postMessage", status=200, error="msg_too_long")
    follow_up = customer_mail("A follow-up", in_reply_to=desk.first_mail["Message-ID"])
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250

    def failed() -> list[OutboxItem]:
        return [r for r in desk.rows(kinds.SLACK_POST_MESSAGE) if r.status == OutboxStatus.FAILED]

    assert eventually(failed, timeout=15)
    [row] = failed()
    assert desk.slack.wait_for(
        lambda: any(f"helpdesk outbox retry {row.id}" in m["text"] for m in desk.thread()),
        timeout=15,
    )


def test_messages_behind_a_root_post_given_up_say_why_and_go_once_it_is_retried(desk):
    """Slack refuses a new ticket's first post for good: its later messages can't have a
    thread, so they wait, saying which row to fix; retrying that row lets them all through."""
    desk.slack.fail_next("chat.postMessage", status=200, error="invalid_blocks")
    first = customer_mail("Second problem", subject="Broken zip", sender="Bo <bo@cust.example>")
    assert smtp_send(desk.helpdesk.smtp.port, first)[0] == 250
    assert eventually(
        lambda: any(r.status == OutboxStatus.FAILED for r in desk.rows(kinds.SLACK_POST_ROOT))
    )
    [root] = [r for r in desk.rows(kinds.SLACK_POST_ROOT) if r.status == OutboxStatus.FAILED]
    follow_up = customer_mail("Still broken", sender="Bo <bo@cust.example>",
                              in_reply_to=first["Message-ID"])  # fmt: skip
    assert smtp_send(desk.helpdesk.smtp.port, follow_up)[0] == 250

    def waiting() -> list[OutboxItem]:
        return [r for r in desk.rows(kinds.SLACK_POST_MESSAGE)
                if r.ticket_id == root.ticket_id and r.last_error]  # fmt: skip

    assert eventually(lambda: waiting(), timeout=15)
    assert f"helpdesk outbox retry {root.id}" in waiting()[0].last_error
    assert "invalid_blocks" in waiting()[0].last_error

    assert desk.cli("retry", str(root.id)).returncode == 0
    assert desk.slack.wait_for(
        lambda: any("Broken zip" in m["text"] for m in desk.slack.messages_in(CHANNEL)),
        timeout=15,
    )
    bo_root = next(m for m in desk.slack.messages_in(CHANNEL) if "Broken zip" in m["text"])
    assert desk.slack.wait_for(
        lambda: any("Still broken" in m["text"] for m in desk.slack.thread(CHANNEL, bo_root["ts"])),
        timeout=30,
    )


def test_helpdesk_outbox_answers_bad_requests_in_one_line(desk):
    for args in (("retry", "999999"), ("drop", "999999", "--yes")):
        result = desk.cli(*args)
        assert result.returncode != 0
        assert "there is no outbox row 999999" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    [sent] = [r for r in desk.rows(kinds.SLACK_POST_ROOT)]
    done = desk.cli("retry", str(sent.id))
    assert done.returncode != 0 and "was delivered" in done.stderr
    unreachable = desk.cli(DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert unreachable.returncode != 0 and "Traceback" not in unreachable.stderr
    assert "the database can't be reached" in unreachable.stderr
