"""Tickets assigned automatically from pools of agents, through the real interfaces: mail over
SMTP opens tickets, the policy's `default_pool` sends each to its pool (the way a rule's
`assign: pool:<name>` does), the outbox's assignment row reads the pool's user group and who is
away from the fake Slack over HTTP, and agents' hand assignments are signed Slack clicks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from bot.app import Helpdesk
from bot.config import Policy
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import OutboxItem, OutboxStatus, Ticket, TicketEvent
from bot.views import ids
from tests.e2e.harness import (
    AGENT,
    CHANNEL,
    SlackAgent,
    customer_mail,
    eventually,
    running_helpdesk,
    slack_sender,
    smtp_send,
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


ANN, BOB, CAT = "U0ANN", "U0BOB", "U0CAT"
POOL_CHANNEL = "C0RETURNS"
GROUP = "S0RETURNS"


def pool_policy(**pool) -> Policy:
    pool = {"agents": [ANN, BOB, CAT], "channel": POOL_CHANNEL, **pool}
    return Policy.model_validate(
        {
            "agents": [AGENT["id"]],
            "assignment": {"pools": {"returns": pool}, "default_pool": "returns"},
        }
    )


def workspace(slack: FakeSlack) -> FakeSlack:
    slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
    slack.add_channel(POOL_CHANNEL, "returns")
    slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
    for user, name in ((ANN, "ann"), (BOB, "bob"), (CAT, "cat")):
        slack.add_user(user, name)
    return slack


@dataclass
class Desk:
    helpdesk: Helpdesk
    slack: FakeSlack
    mails: int = 0

    def mail(self, wait: bool = True) -> Ticket | None:
        """A new customer's mail over SMTP; with `wait`, its ticket once its pool has picked."""
        self.mails += 1
        sender = f"Customer {self.mails} <c{self.mails}@customer.example>"
        mail = customer_mail(f"Return number {self.mails}", subject="Return", sender=sender)
        assert smtp_send(self.helpdesk.smtp.port, mail)[0] == 250
        if not wait:
            return None
        assert eventually(lambda: settled(self.helpdesk, self.mails), timeout=15)
        return self.ticket(self.mails)

    def ticket(self, number: int) -> Ticket:
        with Session(self.helpdesk.engine) as session:
            return session.exec(select(Ticket).where(Ticket.number == number)).one()

    def assign_by_hand(self, ticket: Ticket, user: str) -> None:
        agent = SlackAgent(0, self.slack, sender=slack_sender(self.helpdesk, self.slack))
        agent.click(ticket.id, ticket.thread_ts, ids.TICKET_ASSIGN_PICK, value=None,
                    selected_user=user)  # fmt: skip
        assert eventually(lambda: self.ticket(ticket.number).assignee == user)

    def thread(self, ticket: Ticket) -> list[str]:
        root_ts = self.ticket(ticket.number).thread_ts
        return [m["text"] for m in self.slack.thread(CHANNEL, root_ts)[1:]]

    def told(self) -> list[str]:
        return [m["text"] for m in self.slack.messages_in(POOL_CHANNEL)]

    def direct_messages(self, user: str) -> list[str]:
        return [m["text"] for m in self.slack.messages_in(self.slack.direct_message_channel(user))]

    def events(self, ticket: Ticket) -> list[tuple[str, dict]]:
        with Session(self.helpdesk.engine) as session:
            rows = session.exec(
                select(TicketEvent.kind, TicketEvent.data)
                .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.like("assign%"))
                .order_by(TicketEvent.id)
            )
            return [tuple(row) for row in rows]


def settled(helpdesk: Helpdesk, tickets: int) -> bool:
    """`tickets` tickets exist, each root posted, and nothing waits in the outbox: the pools
    have picked, and what they said is in Slack."""
    with Session(helpdesk.engine) as session:
        posted = session.exec(select(Ticket.id).where(Ticket.thread_ts.is_not(None))).all()
        waiting = session.exec(
            select(OutboxItem.id).where(OutboxItem.status == OutboxStatus.PENDING)
        ).all()
    return len(posted) == tickets and not waiting


@contextmanager
def desk_with(database_url: str, policy: Policy, setup=lambda slack: None) -> Iterator[Desk]:
    with ExitStack() as stack:
        slack = workspace(stack.enter_context(FakeSlack()))
        setup(slack)
        yield Desk(stack.enter_context(running_helpdesk(database_url, slack, policy)), slack)


def test_round_robin_skips_the_agent_away_and_the_one_at_the_cap(database_url):
    with desk_with(
        database_url, pool_policy(max_open=2), lambda s: s.set_presence(BOB, "away")
    ) as desk:
        first = desk.mail()
        assert (first.assignee, desk.mail().assignee) == (ANN, CAT)  # Bob is away
        desk.assign_by_hand(first, CAT)  # Cat now holds two open tickets: her limit
        assert [desk.mail().assignee for _ in range(2)] == [ANN, ANN]
        burst = [desk.mail() for _ in range(2)]  # Ann is at her limit too
        assert [ticket.assignee for ticket in burst] == [None, None]

        second = desk.ticket(2)
        dm = desk.direct_messages(CAT)[0]  # the second: Alex gave her ticket 1
        assert dm.startswith("Ticket <") and dm.endswith(
            "|#2 Return> was assigned to you automatically by rule *default pool*."
        )
        assert ":bust_in_silhouette: Assigned to <@U0CAT> by rule *default pool*." in (
            desk.thread(second)
        )
        assert desk.events(second) == [
            ("assignment_requested", {"rule": "default pool", "pool": "returns"}),
            ("assigned", {"old": None, "new": CAT, "rule": "default pool"}),
        ]
        # Each unassigned ticket says why in its thread; the pool's channel hears it once.
        for ticket in burst:
            assert any("could not assign this ticket from pool *returns*" in text
                       for text in desk.thread(ticket))  # fmt: skip
        [told] = desk.told()
        assert told.startswith(":busts_in_silhouette: Pool *returns* can't take tickets")
        assert f"#{burst[0].number}" in told


def test_least_open_gives_the_next_ticket_to_the_freest_agent(database_url):
    with desk_with(database_url, pool_policy(strategy="least_open")) as desk:
        assert [desk.mail().assignee for _ in range(3)] == [ANN, BOB, CAT]
        desk.assign_by_hand(desk.ticket(2), ANN)  # Ann 2, Bob 0, Cat 1
        # Round-robin would go on with Ann; the fewest open tickets go first, ties in turn.
        assert [desk.mail().assignee for _ in range(3)] == [BOB, CAT, BOB]


def test_a_pool_of_a_user_groups_members(database_url):
    def group(slack: FakeSlack) -> None:
        slack.add_usergroup(GROUP, [CAT, ANN])

    with desk_with(database_url, pool_policy(agents=None, usergroup=GROUP), group) as desk:
        # The group's members in a stable order, whatever order Slack lists them in.
        assert [desk.mail().assignee for _ in range(3)] == [ANN, CAT, ANN]
        # Read once, not once per ticket.
        assert len(desk.slack.calls("usergroups.users.list")) == 1


@pytest.mark.parametrize("problem", ["missing_scope", "no_such_subteam"])
def test_a_user_group_the_bot_cant_read_leaves_the_ticket_unassigned_with_a_note(
    database_url, problem
):
    def unreadable(slack: FakeSlack) -> None:
        if problem == "missing_scope":
            slack.add_usergroup(GROUP, [ANN])
            slack.revoke_scope("usergroups:read")

    with desk_with(database_url, pool_policy(agents=None, usergroup=GROUP), unreadable) as desk:
        ticket = desk.mail()
        assert ticket.assignee is None
        [note] = [text for text in desk.thread(ticket) if "could not assign" in text]
        assert f"its user group can't be read ({problem})" in note
        assert desk.events(ticket)[-1] == (
            "assignment_failed",
            {"rule": "default pool", "pool": "returns", "reason": problem},
        )


def test_nobody_available_tells_the_pools_channel_once_in_a_burst(database_url):
    def everyone_away(slack: FakeSlack) -> None:
        for user in (ANN, BOB, CAT):
            slack.set_presence(user, "away")

    with desk_with(database_url, pool_policy(), everyone_away) as desk:
        for _ in range(6):
            desk.mail(wait=False)
        assert eventually(lambda: settled(desk.helpdesk, 6), timeout=20)
        assert [desk.ticket(n).assignee for n in range(1, 7)] == [None] * 6
        assert len(desk.told()) == 1
        notes = [
            text
            for n in range(1, 7)
            for text in desk.thread(desk.ticket(n))
            if "nobody in it is available" in text
        ]
        assert len(notes) == 6


def test_a_hand_assignment_made_before_the_pool_picks_stands(database_url):
    def slow_group(slack: FakeSlack) -> None:
        slack.add_usergroup(GROUP, [ANN, BOB])
        slack.hold_responses("usergroups.users.list")

    with desk_with(database_url, pool_policy(agents=None, usergroup=GROUP), slow_group) as desk:
        desk.mail(wait=False)
        desk.slack.wait_for(lambda: desk.slack.calls("usergroups.users.list"), timeout=15)
        ticket = desk.ticket(1)
        desk.assign_by_hand(ticket, AGENT["id"])
        desk.slack.release_responses()
        assert eventually(lambda: settled(desk.helpdesk, 1), timeout=15)
        assert desk.ticket(1).assignee == AGENT["id"]
        assert desk.events(ticket)[-1] == (
            "assignment_skipped",
            {"rule": "default pool", "pool": "returns", "reason": "assigned by hand"},
        )
        assert desk.direct_messages(ANN) == [] and desk.direct_messages(BOB) == []


def test_the_pools_turn_survives_a_restart(database_url):
    policy = pool_policy()
    with desk_with(database_url, policy) as desk:
        assert [desk.mail().assignee for _ in range(2)] == [ANN, BOB]
    with desk_with(database_url, policy) as restarted:
        restarted.mails = 2
        assert restarted.mail().assignee == CAT


def test_the_root_shows_the_assignee_the_pool_picked(database_url):
    with desk_with(database_url, pool_policy()) as desk:
        ticket = desk.mail()
        assert eventually(
            lambda: f"<@{ANN}>" in json.dumps(desk.slack.thread(CHANNEL, ticket.thread_ts)[0])
        )
