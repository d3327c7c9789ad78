"""Everything a person can send the app, sent by someone outside the support team.

The table is read from the running Bolt app's own listeners, so a listener added later joins
it without anyone remembering to: each click, shortcut, modal submission, menu load and
slash command goes to the real `/slack/events`, signed, as a non-agent, pointed at a real
ticket. Nothing may change in the database, no view may open or change, no answer may carry
the ticket's or its customer's data, and the person is refused privately where Slack has a
place for it.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from hypothesis import find, settings
from hypothesis import strategies as st
from slack_bolt import App
from sqlalchemy import select
from sqlmodel import SQLModel

from bot.core import saved_replies
from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import SlackHttpResponse, new_trigger_id
from bot.handlers.slack.commands import AGENT_SUBCOMMANDS
from bot.handlers.slack.gate import NOT_AN_AGENT
from bot.storage.db import transaction
from bot.storage.models import OutboxItem, OutboxStatus, SlackInboxEntry
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    smtp_send,
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


STRANGER = {"id": "U0STRANGER", "username": "sam", "name": "sam", "team_id": "T0FAKE"}
CUSTOMER = ("jane@customer.example", "Jane", "Where is my order", "parcel never came")
SAVED_REPLY = ("Shipping", "Hi {{customer.first_name}}, about #{{ticket.number}}.")
# What menus send back, where "1" (the id of every first row) wouldn't reach the change.
SELECTED = {
    ids.TICKET_PRIORITY: "urgent",
    ids.TICKET_STATUS_MENU: "solved",
    f"{ids.SAVED_REPLY_EDIT}-0": "delete:1",
}
# Commands' words that do something; anything else gets text naming ticket #1.
COMMAND_TEXTS = {"/helpdesk": [f"{word} #1" for word in AGENT_SUBCOMMANDS]}


@dataclass(frozen=True)
class Entry:
    kind: str  # the Bolt matcher: action, shortcut, view_submission, view_closed, options, command
    name: str  # the action ID, callback ID or command it answers
    matches: Callable[[dict], bool]  # the listener's own matcher, to prove each payload reaches it


def registered(app: App) -> Iterator[Entry]:
    """Every listener of the app, read from Bolt's matchers (one per listener here)."""
    for listener in app._listeners:
        [matcher] = listener.matchers
        kind = matcher.func.__qualname__.partition(".")[0]
        if kind == "event":
            continue  # messages and App Home opening are not requests to act
        [constraint] = inspect.getclosurevars(matcher.func).nonlocals.values()
        if isinstance(constraint, re.Pattern):
            # The simplest ID the pattern accepts, e.g. saved_reply_edit-0.
            ids_it_takes = st.from_regex(constraint, fullmatch=True)
            constraint = find(ids_it_takes, lambda _: True, settings=settings(database=None))
        yield Entry(kind, constraint, matcher.func)


def base(user: dict, kind: str) -> dict:
    return {
        "type": kind,
        "user": user,
        "team": {"id": "T0FAKE", "domain": "fake"},
        "api_app_id": "A0HELPDESK",
        "trigger_id": new_trigger_id(),
    }


def modal(callback_id: str) -> dict:
    """A modal about ticket #1, as the agent's modals are; a non-agent could only forge one."""
    metadata = {"ticket_id": 1, "version": 0, "channel": CHANNEL, "list_view_id": "V0LIST"}
    state = {
        getattr(ids, block): {getattr(ids, block.removesuffix("_BLOCK")): FILLED}
        for block in dir(ids)
        if block.endswith("_BLOCK") and hasattr(ids, block.removesuffix("_BLOCK"))
    }
    return {
        "id": "V0FORGED",
        "hash": "1.forged",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "state": {"values": state},
    }


FILLED = {
    "type": "plain_text_input",
    "value": "1",
    "selected_option": {"value": "1"},
    "selected_options": [{"value": "stolen"}],
    "files": [],
    "selected_date_time": int(time.time()) + 86400,  # a time "Pending until…" would take
}


def payloads(entry: Entry, user: dict, root_ts: str) -> list[dict]:
    """The requests Slack would send for this listener, each naming ticket #1 (and row 1 of
    whatever the listener reads: escalation, message, saved reply)."""
    where = {"channel": {"id": CHANNEL, "name": "support"},
             "message": {"ts": root_ts, "text": "#1"}}  # fmt: skip
    if entry.kind == "command":
        texts = COMMAND_TEXTS.get(entry.name, ["#1 the customer wants a refund", ""])
        return [{"command": entry.name, "text": text} for text in texts]
    if entry.kind == "action":
        action = {"type": "static_select", "action_id": entry.name, "action_ts": "1.2",
                  "block_id": f"{ids.ROOT_ACTIONS_BLOCK}:1", "value": "1",
                  "selected_option": {"value": SELECTED.get(entry.name, "1")},
                  "selected_user": user["id"]}  # fmt: skip
        # Slack sends a click on the root with its channel and message, one in a modal with the
        # view; this carries both, so each listener finds what it reads, whichever it expects.
        container = {"type": "message", "message_ts": root_ts}
        return [{**base(user, "block_actions"), **where, "container": container,
                 "view": modal(ids.REPLY_MODAL), "actions": [action]}]  # fmt: skip
    if entry.kind == "shortcut":
        return [
            {**base(user, "message_action"), **where, "callback_id": entry.name},
            {**base(user, "shortcut"), "callback_id": entry.name},
        ]
    if entry.kind == "view_submission":
        return [{**base(user, "view_submission"), "view": modal(entry.name)}]
    if entry.kind == "view_closed":
        return [{**base(user, "view_closed"), "view": modal(entry.name), "is_cleared": False}]
    if entry.kind == "options":
        return [{**base(user, "block_suggestion"), "action_id": entry.name, "block_id": "b",
                 "value": "1", "view": modal(ids.REPLY_MODAL)}]  # fmt: skip
    raise AssertionError(f"no payload for a {entry.kind} listener ({entry.name}): add one here")


def send(agent: SlackAgent, payload: dict, user: dict) -> SlackHttpResponse:
    if "command" in payload:
        return agent.sender.send_command(
            payload["command"], payload["text"], user_id=user["id"], channel_id=CHANNEL
        )
    return agent.sender.send_interaction(payload)


def database(engine) -> dict[str, list]:
    """Every row of every table: tickets, events, messages, outbox, everything but the Slack
    inbox, where each request waits until it is worked (on PostgreSQL, in this database)."""
    rows = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == SlackInboxEntry.__tablename__:
                continue
            ordered = select(table).order_by(*table.primary_key)
            rows[table.name] = [tuple(row) for row in connection.execute(ordered)]
    return rows


def outbox_drained(engine) -> bool:
    with engine.connect() as connection:
        pending = select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.PENDING)
        return connection.execute(pending).first() is None


def views_touched(slack: FakeSlack) -> list[str]:
    return [r.method for r in slack.requests if r.method.startswith("views.")]


def answered(slack: FakeSlack, told_before: int, views_before: int) -> bool:
    """Listeners run after the acknowledgement: waits for a refusal or a view to show."""
    try:
        return slack.wait_for(
            lambda: (
                len(slack.ephemeral_messages(STRANGER["id"])) > told_before
                or len(views_touched(slack)) > views_before
            ),
            timeout=5,
        )
    except AssertionError:
        return False


def refusal_problems(entry: Entry, payload: dict, answer: SlackHttpResponse, told: list) -> str:
    """What is wrong with how the non-agent was answered; "" when refused as it should be."""
    kind = payload.get("type") or "command"
    if answer.status != 200:
        return f"status {answer.status}"
    if kind == "command":
        return "" if answer.body == NOT_AN_AGENT else f"answered {answer.body!r}"
    if kind == "block_suggestion":
        return "" if json.loads(answer.body) == {"options": []} else f"offered {answer.body}"
    if kind == "view_closed":
        return "" if answer.body == "" and not told else f"answered {answer.body!r}, told {told}"
    if kind == "view_submission":
        errors = json.loads(answer.body or "{}").get("errors") or {}
        return "" if list(errors.values()) == [NOT_AN_AGENT] else f"answered {answer.body!r}"
    return "" if [m.get("text") for m in told] == [NOT_AN_AGENT] else f"told {told}"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        fake.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        fake.add_user(STRANGER["id"], "sam", real_name="Sam Stranger")
        yield fake


def test_every_listener_refuses_non_agents_and_shows_nothing(database_url, slack):
    with running_helpdesk(database_url, slack) as helpdesk:
        agent = SlackAgent(helpdesk.http_port, slack)
        mail = customer_mail("Hi, my parcel never came.\n\nJane")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        assert agent.sender.send_command(
            "/escalate", "#1 the customer wants a refund", user_id=AGENT["id"], channel_id=CHANNEL
        ).body.startswith("Escalated #1")
        with transaction(helpdesk.engine) as session:
            saved_replies.create(session, *SAVED_REPLY, actor=AGENT["id"])
        slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 3, timeout=10)
        root_ts = slack.messages_in(CHANNEL)[0]["ts"]
        assert eventually(lambda: outbox_drained(helpdesk.engine), timeout=15)

        table = list(registered(helpdesk.bolt))
        kinds = {entry.kind for entry in table}
        assert kinds == {
            "action", "shortcut", "view_submission", "view_closed", "options", "command"
        }  # fmt: skip
        before, views_before = database(helpdesk.engine), views_touched(slack)
        problems = []
        for entry in table:
            for payload in payloads(entry, STRANGER, root_ts):
                assert entry.matches(payload), f"{entry} would not receive {payload}"
                told_before = len(slack.ephemeral_messages(STRANGER["id"]))
                answer = send(agent, payload, STRANGER)
                clicked = payload.get("type") in ("block_actions", "message_action", "shortcut")
                if clicked and not answered(slack, told_before, len(views_before)):
                    problems.append(f"{entry.kind} {entry.name}: no answer within 5 s")
                told = slack.ephemeral_messages(STRANGER["id"])[told_before:]
                label = f"{entry.kind} {entry.name} ({payload.get('type') or payload['text']!r})"
                if problem := refusal_problems(entry, payload, answer, told):
                    problems.append(f"{label}: {problem}")
                if leaked := [v for v in CUSTOMER if v in answer.body + json.dumps(told)]:
                    problems.append(f"{label}: showed {leaked}")
                if views_touched(slack) != views_before:
                    problems.append(f"{label}: {views_touched(slack)[len(views_before) :]}")
                    views_before = views_touched(slack)
                if (now := database(helpdesk.engine)) != before:
                    changed = [name for name in now if now[name] != before[name]]
                    problems.append(f"{label}: changed {changed}")
                    before = now
    assert not problems, "\n".join(problems)
