"""Automatic assignment in the core: to a person at once, to a pool through an outbox row and
then a pick with what the roster said; a person's assignment is never overridden."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import outbox
from bot.core.assignment import Reachable, assign_by_rule, assign_from_pool
from bot.core.tickets import assign
from bot.storage.models import AssignmentPoolState, TicketEvent, TicketStatus
from tests.core.builders import AGENT, ON_BOTH_DATABASES, email, policy

POOLS = {"returns": {"agents": ["U0AAA", "U0BBB", "U0CCC"], "max_open": 1, "channel": "C0RETURNS"}}
EVERYONE = Reachable(("U0AAA", "U0BBB", "U0CCC"), frozenset({"U0AAA", "U0BBB", "U0CCC"}))


def assignment_events(core, ticket) -> list[tuple[str, str, dict]]:
    rows = core.session.exec(
        select(TicketEvent.kind, TicketEvent.actor, TicketEvent.data)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.like("assign%"))
        .order_by(TicketEvent.id)
    )
    return [tuple(row) for row in rows]


def new_ticket(core):
    return core.ticket(core.receive(email()).ticket_number)


def pick(core, ticket, found=EVERYONE, rule="Return requests"):
    agent = assign_from_pool(core.session, core.desk, ticket.id, "returns", rule, found)
    core.session.commit()
    return agent


def test_a_rule_assigns_a_person_at_once_and_says_which_rule(core):
    ticket = new_ticket(core)
    core.outbox()
    assign_by_rule(core.session, core.desk, ticket, "U0AAA", rule="Return *requests*")
    core.session.commit()
    assert ticket.assignee == "U0AAA"
    assert assignment_events(core, ticket) == [
        ("assigned", "helpdesk", {"old": None, "new": "U0AAA", "rule": "Return *requests*"})
    ]
    [note] = core.outbox_rows(outbox.THREAD_NOTICE)
    assert note.payload == {"notice": "assigned", "assignee": "U0AAA", "rule": "Return *requests*"}
    [dm] = core.outbox_rows(outbox.DIRECT_MESSAGE)
    assert dm.payload == {
        "user": "U0AAA", "notice": "assigned", "by": "helpdesk", "rule": "Return *requests*"
    }  # fmt: skip


def test_a_pool_target_records_the_intent_for_the_outbox(core):
    core.use(policy(assignment={"pools": POOLS}))
    ticket = new_ticket(core)
    core.outbox()
    assign_by_rule(core.session, core.desk, ticket, "pool:returns", rule="Return requests")
    core.session.commit()
    assert ticket.assignee is None
    assert core.outbox() == [(outbox.ASSIGN_FROM_POOL, ticket.number)]
    [row] = core.outbox_rows(outbox.ASSIGN_FROM_POOL)
    assert row.payload == {"pool": "returns", "rule": "Return requests"}
    assert assignment_events(core, ticket) == [
        ("assignment_requested", "helpdesk", {"rule": "Return requests", "pool": "returns"})
    ]


def test_a_hand_assignment_is_never_overridden_by_a_rule(core):
    core.use(policy(assignment={"pools": POOLS}))
    ticket = new_ticket(core)
    assign(core.session, ticket, "U0ZED", actor=AGENT.user_id)
    assign_by_rule(core.session, core.desk, ticket, "U0AAA", rule="Return requests")
    core.session.commit()
    assert ticket.assignee == "U0ZED"
    assert assignment_events(core, ticket)[-1] == (
        "assignment_skipped",
        "helpdesk",
        {"rule": "Return requests", "target": "U0AAA", "reason": "assigned by hand"},
    )
    # Unassigning by hand is a person's choice too.
    assign(core.session, ticket, None, actor=AGENT.user_id)
    assign_by_rule(core.session, core.desk, ticket, "pool:returns", rule="Return requests")
    core.session.commit()
    assert ticket.assignee is None
    assert core.outbox_rows(outbox.ASSIGN_FROM_POOL) == []


def test_a_hand_assignment_made_while_slack_was_asked_wins_over_the_pick(core):
    core.use(policy(assignment={"pools": POOLS}))
    ticket = new_ticket(core)
    assign_by_rule(core.session, core.desk, ticket, "pool:returns", rule="Return requests")
    assign(core.session, ticket, "U0ZED", actor=AGENT.user_id)
    core.session.commit()
    assert pick(core, ticket) is None
    assert ticket.assignee == "U0ZED"
    assert assignment_events(core, ticket)[-1][0] == "assignment_skipped"


def test_a_rule_may_reassign_what_a_rule_assigned(core):
    ticket = new_ticket(core)
    assign_by_rule(core.session, core.desk, ticket, "U0AAA", rule="First")
    assign_by_rule(core.session, core.desk, ticket, "U0BBB", rule="Second")
    core.session.commit()
    assert ticket.assignee == "U0BBB"


@ON_BOTH_DATABASES
def test_the_pool_goes_round_skipping_the_away_and_those_at_their_limit(core):
    core.use(policy(assignment={"pools": POOLS}))
    bbb_away = Reachable(EVERYONE.members, frozenset({"U0AAA", "U0CCC"}))
    first, second, third = (new_ticket(core) for _ in range(3))
    assert pick(core, first, bbb_away) == "U0AAA"
    assert pick(core, second, bbb_away) == "U0CCC"  # U0BBB is away
    # U0AAA and U0CCC are at their limit of one open ticket; U0BBB is away.
    assert pick(core, third, bbb_away) is None
    core.set_status(first, TicketStatus.SOLVED)
    assert pick(core, third, bbb_away) == "U0AAA"
    state = core.session.get(AssignmentPoolState, "returns")
    assert (state.last_agent, state.told_unavailable) == ("U0AAA", False)


def test_least_open_picks_the_freest_agent_ties_in_turn(core):
    pools = {"returns": {**POOLS["returns"], "strategy": "least_open", "max_open": None}}
    core.use(policy(assignment={"pools": pools}))
    busy = [new_ticket(core) for _ in range(3)]
    assign(core.session, busy[0], "U0AAA", actor=AGENT.user_id)
    assign(core.session, busy[1], "U0AAA", actor=AGENT.user_id)
    assign(core.session, busy[2], "U0BBB", actor=AGENT.user_id)
    core.session.commit()
    assert [pick(core, new_ticket(core)) for _ in range(4)] == [
        "U0CCC",  # none open
        "U0BBB",  # one each for U0BBB and U0CCC: U0BBB's turn comes first after U0CCC
        "U0CCC",
        "U0AAA",  # two each now: after U0CCC comes U0AAA
    ]


def test_nobody_available_tells_the_pools_channel_once_per_spell(core):
    core.use(policy(assignment={"pools": POOLS}))
    nobody = Reachable(EVERYONE.members, frozenset())
    burst = [new_ticket(core) for _ in range(3)]
    core.outbox()
    for ticket in burst:
        assert pick(core, ticket, nobody) is None
    told = core.outbox_rows(outbox.CHANNEL_NOTICE)
    assert [row.payload for row in told] == [
        {
            "channel": "C0RETURNS",
            "notice": "pool_unavailable",
            "pool": "returns",
            "rule": "Return requests",
            "reason": "nobody_available",
        }
    ]
    notes = [row.payload["reason"] for row in core.outbox_rows(outbox.THREAD_NOTICE)]
    assert notes == ["nobody_available"] * 3
    assert all(t.assignee is None for t in burst)
    # An assignment ends the spell: the next time nobody is available is told again.
    assert pick(core, new_ticket(core)) == "U0AAA"
    pick(core, new_ticket(core), nobody)
    assert len(core.outbox_rows(outbox.CHANNEL_NOTICE)) == 2


def test_a_pool_whose_members_cant_be_read_leaves_the_ticket_with_a_note(core):
    core.use(policy(assignment={"pools": POOLS}))
    ticket = new_ticket(core)
    assert pick(core, ticket, Reachable(problem="missing_scope")) is None
    assert ticket.assignee is None
    [note] = core.outbox_rows(outbox.THREAD_NOTICE)
    assert note.payload["reason"] == "missing_scope"
    assert assignment_events(core, ticket)[-1] == (
        "assignment_failed",
        "helpdesk",
        {"rule": "Return requests", "pool": "returns", "reason": "missing_scope"},
    )


def test_the_default_pool_takes_new_tickets_no_rule_assigned(core):
    core.use(policy(assignment={"pools": POOLS, "default_pool": "returns"}))
    ticket = new_ticket(core)
    [row] = core.outbox_rows(outbox.ASSIGN_FROM_POOL)
    assert (row.ticket_id, row.payload) == (ticket.id, {"pool": "returns", "rule": "default pool"})


def test_the_turn_is_kept_in_the_database(core, engine):
    core.use(policy(assignment={"pools": POOLS}))
    assert pick(core, new_ticket(core)) == "U0AAA"
    with Session(engine) as elsewhere:  # another process's view of it
        assert elsewhere.get(AssignmentPoolState, "returns").last_agent == "U0AAA"
    assert pick(core, new_ticket(core)) == "U0BBB"


def test_a_ticket_solved_before_its_pick_is_left_alone(core):
    core.use(policy(assignment={"pools": POOLS}))
    ticket = new_ticket(core)
    core.set_status(ticket, TicketStatus.SOLVED)
    assert pick(core, ticket) is None
    assert ticket.assignee is None
    assert assignment_events(core, ticket)[-1][2]["reason"] == "ticket solved"
