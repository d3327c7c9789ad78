"""Rules that assign: `then: assign:` a person or a pool, end to end (mail over SMTP, the
rules engine, the pool's pick through the outbox against the fake Slack over HTTP, hand
assignments as signed Slack clicks)."""

from __future__ import annotations

import pytest
import yaml

from bot.config import ConfigError, Policy, load_policy
from tests.e2e.harness import customer_mail, smtp_send
from tests.e2e.test_auto_assignment import ANN, BOB, CAT, POOL_CHANNEL, desk_with


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


def rules_policy(*rules: dict, default_pool: str | None = None) -> Policy:
    assignment = {
        "pools": {"returns": {"agents": [ANN, BOB], "channel": POOL_CHANNEL}},
        **({"default_pool": default_pool} if default_pool else {}),
    }
    return Policy.model_validate({"assignment": assignment, "rules": list(rules)})


RETURNS = {
    "name": "Return requests",
    "when": {"subject_contains": ["return"]},
    "then": {"tags": ["returns"], "assign": "pool:returns"},
}
WHOLESALE = {
    "name": "Wholesale to Cat",
    "on": ["opened", "customer_message"],
    "when": {"from_domain": ["wholesale.example"]},
    "then": {"assign": CAT},
}


def send(desk, subject: str, sender: str, body: str = "Hello") -> None:
    desk.mails += 1
    mail = customer_mail(body, subject=subject, sender=sender)
    assert smtp_send(desk.helpdesk.smtp.port, mail)[0] == 250


def test_a_rule_sends_a_ticket_to_its_pool_and_the_summary_leaves_the_assignment_to_it(
    database_url,
):
    with desk_with(database_url, rules_policy(RETURNS)) as desk:
        desk.mail()  # "Return number 1": the rule's pool takes it, Ann first in turn
        ticket = desk.mail()
        assert (desk.ticket(1).assignee, ticket.assignee) == (ANN, BOB)
        thread = desk.thread(ticket)
        assert ":gear: tagged *returns* by rule *Return requests*" in thread
        assert ":bust_in_silhouette: Assigned to <@U0BOB> by rule *Return requests*." in thread
        assert desk.direct_messages(BOB)[0].endswith(
            "was assigned to you automatically by rule *Return requests*."
        )
        kinds = [kind for kind, _ in desk.events(ticket)]
        assert kinds == ["assignment_requested", "assigned"]


def test_a_rule_assigns_a_person_at_once_and_a_rule_before_the_default_pool_wins(database_url):
    policy = rules_policy(WHOLESALE, default_pool="returns")
    with desk_with(database_url, policy) as desk:
        send(desk, "Restock", "Buyer <buyer@wholesale.example>")
        send(desk, "Hello", "Jane <jane@customer.example>")
        assert desk.mail() is not None  # a third, so that everything has settled
        assert desk.ticket(1).assignee == CAT  # the rule's person, not the pool
        assert desk.ticket(2).assignee == ANN  # no rule: the default pool
        assert [kind for kind, _ in desk.events(desk.ticket(1))] == ["assigned"]


def test_a_later_message_never_takes_a_ticket_from_whoever_an_agent_gave_it_to(database_url):
    with desk_with(database_url, rules_policy(WHOLESALE)) as desk:
        send(desk, "Restock", "Buyer <buyer@wholesale.example>")
        assert desk.mail() is not None
        ticket = desk.ticket(1)
        assert ticket.assignee == CAT
        desk.assign_by_hand(ticket, ANN)
        reply = customer_mail(
            "Any news?", subject="Re: Restock", sender="Buyer <buyer@wholesale.example>",
            in_reply_to=None, references=[],
        )  # fmt: skip
        reply.replace_header("Subject", "Re: Restock [#1]")
        assert smtp_send(desk.helpdesk.smtp.port, reply)[0] == 250
        assert desk.mail() is not None
        assert desk.ticket(1).assignee == ANN
        kinds = [kind for kind, _ in desk.events(ticket)]
        assert kinds[-1] == "assignment_skipped"


@pytest.mark.parametrize(
    ("assign", "complaint"),
    [
        ("pool:nowhere", "rule 'R': then.assign: no pool named 'nowhere' under assignment.pools"),
        ("@alex", "rule 'R': then.assign: '@alex': expected a Slack user ID"),
        (CAT, "rule 'R': then.assign: U0CAT is not one of the policy's agents (U0ANN, U0BOB)"),
    ],
)
def test_a_rule_assigning_to_nobody_known_is_refused_in_one_line(tmp_path, assign, complaint):
    path = tmp_path / "helpdesk.yml"
    rule = {"name": "R", "then": {"assign": assign}}
    path.write_text(yaml.safe_dump({"agents": [ANN, BOB], "rules": [rule]}))
    with pytest.raises(ConfigError) as refused:
        load_policy(path)
    assert complaint in str(refused.value)
    assert "\n" not in str(refused.value)
