"""Escalation through every entry path, driven by signed Slack requests."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.devtools.fake_slack import FakeSlack
from bot.jobs.escalation_reminders import remind_unacknowledged
from bot.storage.models import Escalation, Ticket, TicketEvent, utcnow
from bot.views import ids
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import CHANNEL, eventually, running_helpdesk
from tests.e2e.test_agent_workflow import AGENT, STRANGER, Desk


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both (docs/testing.md)


TIER2, MANAGERS = "C0TIER2", "C0MGRS"
LEAD, MANAGER = "U0LEAD", "U0MANAGER"
POLICY = Policy.model_validate(
    {
        "escalation": {
            "tiers": [
                {"name": "Tier 2", "channel": TIER2, "notify": [LEAD]},
                {"name": "Managers", "channel": MANAGERS, "notify": ["S0MGRGROUP"]},
            ]
        }
    }
)


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_channel(TIER2, "tier-2", members=[LEAD])
        slack.add_channel(MANAGERS, "managers", members=[MANAGER])
        for user in (AGENT["id"], LEAD, MANAGER, STRANGER["id"]):
            slack.add_user(user, user.lower())
        helpdesk = stack.enter_context(running_helpdesk(database_url, slack, POLICY))
        yield Desk(helpdesk, slack, sink=None)


def command(desk: Desk, text: str, user: str = AGENT["id"], trigger: str = "7.7.trigger"):
    return desk.sender.send_command(
        "/escalate", text, user_id=user, channel_id=CHANNEL, trigger_id=trigger
    )


def escalations(desk: Desk) -> list[Escalation]:
    with Session(desk.helpdesk.engine) as session:
        return list(session.exec(select(Escalation).order_by(Escalation.id)))


def posts_in(desk: Desk, channel: str) -> list[dict]:
    return desk.slack.messages_in(channel)


def test_escalate_command_with_number_and_reason_escalates_at_once(desk):
    response = command(desk, "#1 customer wants a refund over the limit")
    assert response.status == 200 and "Escalated #1 to Tier 2" in response.body
    # Slack delivering the same command twice escalates once.
    command(desk, "#1 customer wants a refund over the limit")
    desk.wait_for_outbox()
    [escalation] = escalations(desk)
    assert escalation.tier_name == "Tier 2" and escalation.escalated_by == AGENT["id"]

    [post] = posts_in(desk, TIER2)
    shown = json.dumps(post["blocks"])
    for expected in ("#1", "Where is my order?", "Jane Doe", "refund over the limit",
                     "my parcel never came", f"<@{AGENT['id']}>", "Take it", "De-escalate",
                     "Open thread", "archives/"):  # fmt: skip
        assert expected in shown, expected
    # The tier's people hear about it; the thread and the root say what happened.
    dms = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"].startswith("D")]
    assert len(dms) == 1 and "Tier 2" in dms[0].args["text"]
    assert any("escalated this ticket to *Tier 2*" in t for t in desk.thread_texts())
    root = desk.slack.thread(CHANNEL, desk.root_ts)[0]
    assert "Escalated to *Tier 2*" in json.dumps(root["blocks"])
    with Session(desk.helpdesk.engine) as session:
        kinds = [e.kind for e in session.exec(select(TicketEvent))]
    assert kinds.count("escalated") == 1


def test_a_reason_cannot_ping_or_link(desk):
    """An agent's reason is shown as they typed it, never as Slack markup."""
    command(desk, "#1 see <!channel> and <https://evil.example|the refund form> & more")
    desk.wait_for_outbox()
    [post] = posts_in(desk, TIER2)
    dms = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"].startswith("D")]
    notice = next(t for t in desk.thread_texts() if "escalated this ticket" in t)
    for shown in (json.dumps(post["blocks"]), dms[0].args["text"], notice):
        assert "<!channel>" not in shown and "<https://evil" not in shown, shown
        assert "&lt;!channel&gt;" in shown and "&amp; more" in shown, shown


def test_a_chat_visitor_is_a_website_visitor_never_the_stand_in_address(desk):
    """Someone who chatted without a name or address shows as a website visitor in the tier's
    post, the DM and `/helpdesk find`, never as the address the helpdesk keeps for them."""
    assert ChatVisitor(desk.helpdesk.http_port).start("Where is my parcel?").status == 201
    desk.wait_for_outbox()
    assert command(desk, "#2 the visitor needs a manager").status == 200
    desk.wait_for_outbox()
    found = desk.sender.send_command(
        "/helpdesk", "find parcel", user_id=AGENT["id"], channel_id=CHANNEL
    )
    dms = [c.args["text"] for c in desk.slack.calls("chat.postMessage")
           if c.args["channel"].startswith("D")]  # fmt: skip
    assert dms and all("#2" in text for text in dms)
    for shown in (json.dumps(posts_in(desk, TIER2)), json.dumps(dms), found.body):
        assert "visitors.invalid" not in shown, shown
    assert (
        "Website visitor" in json.dumps(posts_in(desk, TIER2)) and "Website visitor" in found.body
    )


def test_take_it_assigns_and_locks_the_post_and_de_escalate_returns_the_ticket(desk):
    command(desk, "#1 needs a lead")
    desk.wait_for_outbox()
    [post] = posts_in(desk, TIER2)
    escalation_id = str(escalations(desk)[0].id)
    take = {"channel": {"id": TIER2, "name": "tier-2"}}

    def click(action_id: str, user: dict) -> None:
        desk.sender.send_interaction(
            {
                "type": "block_actions",
                "user": user,
                "team": {"id": "T0FAKE"},
                "api_app_id": "A0HELPDESK",
                "trigger_id": "8.8.trigger",
                **take,
                "message": {"ts": post["ts"], "text": post["text"]},
                "container": {"type": "message", "message_ts": post["ts"]},
                "actions": [{"action_id": action_id, "block_id": "b", "value": escalation_id,
                             "type": "button", "action_ts": "1.1"}],
            }
        )  # fmt: skip

    lead = {"id": LEAD, "username": "lead", "name": "lead", "team_id": "T0FAKE"}
    click(ids.ESCALATION_TAKE, lead)
    assert eventually(lambda: desk.ticket().assignee == LEAD)
    desk.wait_for_outbox()
    updated = posts_in(desk, TIER2)[0]
    assert f"Taken by <@{LEAD}>" in json.dumps(updated["blocks"])
    assert "Take it" not in json.dumps(updated["blocks"])

    manager = {"id": MANAGER, "username": "m", "name": "m", "team_id": "T0FAKE"}
    click(ids.ESCALATION_TAKE, manager)  # not in tier 2's channel, not an agent
    click(ids.ESCALATION_TAKE, {**AGENT})  # an agent, but the lead already has it
    desk.slack.wait_for(lambda: len(desk.slack.calls("chat.postEphemeral")) >= 2)
    answers = [c.args["text"] for c in desk.slack.calls("chat.postEphemeral")]
    assert any("Only the support team" in a for a in answers)
    assert any(f"<@{LEAD}> already took it" in a for a in answers)

    click(ids.ESCALATION_RESOLVE, lead)
    assert eventually(lambda: escalations(desk)[0].resolved_by == LEAD)
    desk.wait_for_outbox()
    assert "Back with support" in json.dumps(posts_in(desk, TIER2)[0]["blocks"])
    assert any("returned this ticket from *Tier 2*" in t for t in desk.thread_texts())


def test_second_escalation_moves_up_and_the_top_tier_refuses(desk):
    command(desk, "#1 first", trigger="1.1.a")
    command(desk, "#1 second", trigger="1.1.b")
    response = command(desk, "#1 third", trigger="1.1.c")
    assert "already with Managers, the top tier" in response.body
    desk.wait_for_outbox()
    first, second = escalations(desk)
    assert (first.tier_name, second.tier_name) == ("Tier 2", "Managers")
    assert first.resolved_at is not None and second.resolved_at is None
    [post] = posts_in(desk, MANAGERS)
    assert "<!subteam^S0MGRGROUP>" in json.dumps(post["blocks"])


def test_refusals_are_clear_and_change_nothing(desk):
    assert "There is no ticket #99" in command(desk, "#99 help").body
    assert "Only the support team" in command(desk, "#1 x", user=STRANGER["id"]).body
    with Session(desk.helpdesk.engine) as session:
        ticket = session.get(Ticket, desk.ticket_id)
        ticket.status = "closed"
        session.add(ticket)
        session.commit()
    assert "is closed" in command(desk, "#1 please").body
    assert escalations(desk) == []


def test_command_without_reason_opens_the_modal_and_its_submission_escalates(desk):
    assert command(desk, "#1").status == 200
    view = desk.opened_view()
    assert view["callback_id"] == ids.ESCALATION_MODAL
    ticket_picker = view["blocks"][0]["element"]
    assert ticket_picker["type"] == "external_select"
    assert ticket_picker["initial_option"]["value"] == str(desk.ticket_id)

    # Type-ahead over open tickets, as Slack asks for it.
    suggestion = desk.sender.send_interaction(
        {"type": "block_suggestion", "user": AGENT, "team": {"id": "T0FAKE"},
         "api_app_id": "A0HELPDESK", "action_id": ids.ESCALATION_TICKET,
         "block_id": ids.ESCALATION_TICKET_BLOCK, "value": "where",
         "view": {**view, "id": "V0ESC"}}
    )  # fmt: skip
    assert [o["value"] for o in suggestion.json()["options"]] == [str(desk.ticket_id)]

    values = {
        ids.ESCALATION_TICKET_BLOCK: {
            ids.ESCALATION_TICKET: {"selected_option": {"value": str(desk.ticket_id)}}
        },
        ids.ESCALATION_TIER_BLOCK: {ids.ESCALATION_TIER: {"selected_option": {"value": "1"}}},
        ids.ESCALATION_URGENCY_BLOCK: {
            ids.ESCALATION_URGENCY: {"selected_option": {"value": "urgent"}}
        },
        ids.ESCALATION_REASON_BLOCK: {ids.ESCALATION_REASON: {"value": "x" * 10_000}},
    }
    empty = {**values, ids.ESCALATION_REASON_BLOCK: {ids.ESCALATION_REASON: {"value": " "}}}
    refused = desk.submit(view, empty, view_id="V0ESC")
    assert ids.ESCALATION_REASON_BLOCK in refused.json()["errors"]
    for _ in range(2):  # a double submit escalates once
        assert desk.submit(view, values, view_id="V0ESC").status == 200
    desk.wait_for_outbox()
    [escalation] = escalations(desk)
    assert escalation.tier_name == "Managers" and len(escalation.reason) == 10_000
    assert desk.ticket().priority == "urgent"
    [post] = posts_in(desk, MANAGERS)
    for block in post["blocks"]:
        assert len(json.dumps(block)) < 3500  # the long reason is cut for Slack, kept in full


def test_button_and_message_shortcut_open_the_prefilled_modal(desk):
    desk.click(ids.TICKET_ESCALATE)
    view = desk.opened_view()
    assert view["blocks"][0]["element"]["initial_option"]["value"] == str(desk.ticket_id)
    desk.sender.send_interaction(
        {"type": "message_action", "callback_id": ids.SHORTCUT_ESCALATE, "user": AGENT,
         "team": {"id": "T0FAKE"}, "trigger_id": "9.9.trigger", "channel": {"id": CHANNEL},
         "message": {"ts": "1800000000.000001", "thread_ts": desk.root_ts, "text": "hi"},
         "message_ts": "1800000000.000001", "response_url": "https://hooks.slack.test/x"}
    )  # fmt: skip
    desk.slack.wait_for(lambda: len(desk.slack.calls("views.open")) == 2)
    second = desk.slack.calls("views.open")[-1].args["view"]
    assert second["blocks"][0]["element"]["initial_option"]["value"] == str(desk.ticket_id)


def test_tier_channel_without_the_bot_tells_the_agent_and_loses_nothing(desk):
    desk.slack.add_channel(TIER2, "tier-2", is_member=False, members=[LEAD])
    response = command(desk, "#1 urgent one")
    assert "invite me there with `/invite @Helpdesk`" in response.body
    assert eventually(lambda: len(escalations(desk)) == 1)
    desk.slack.add_channel(TIER2, "tier-2", is_member=True, members=[LEAD])
    with Session(desk.helpdesk.engine) as session:
        from bot.storage.models import OutboxItem

        for item in session.exec(select(OutboxItem)):
            item.next_attempt_at = item.created_at  # skip the backoff, not the retry
            session.add(item)
        session.commit()
    desk.helpdesk.outbox.wake()
    assert eventually(lambda: len(posts_in(desk, TIER2)) == 1, timeout=15)


def test_unacknowledged_escalation_is_reannounced_once(desk):
    command(desk, "#1 anyone?")
    desk.wait_for_outbox()
    later = utcnow() + timedelta(minutes=31)
    assert remind_unacknowledged(desk.helpdesk.engine, timedelta(minutes=30)) == 0
    assert remind_unacknowledged(desk.helpdesk.engine, timedelta(minutes=30), later) == 1
    assert remind_unacknowledged(desk.helpdesk.engine, timedelta(minutes=30), later) == 0
    desk.wait_for_outbox()
    reminders = [p for p in posts_in(desk, TIER2) if "Still waiting" in p["text"]]
    assert len(reminders) == 1 and "#1" in reminders[0]["text"]


def test_managers_list_open_escalations(desk):
    assert "No ticket is escalated" in json.dumps(
        desk.sender.send_command(
            "/helpdesk", "escalated", user_id=AGENT["id"], channel_id=CHANNEL
        ).json()
    )
    command(desk, "#1 stuck")
    listing = desk.sender.send_command(
        "/helpdesk", "escalated", user_id=AGENT["id"], channel_id=CHANNEL
    ).json()
    assert "#1 Where is my order?" in json.dumps(listing)
    assert "Tier 2" in json.dumps(listing) and "nobody has taken it" in json.dumps(listing)
