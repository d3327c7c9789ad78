"""The policy's assignment pools: each mistake refused at start-up in one line naming the
pool and the key; the targets a rule's `assign:` may name."""

from __future__ import annotations

import pytest

from bot.config import AssignmentPolicy, ConfigError, load_policy


def load(tmp_path, text: str):
    path = tmp_path / "helpdesk.yml"
    path.write_text(text)
    return load_policy(path)


def test_a_pool_of_agents_and_one_of_a_user_group(tmp_path):
    policy = load(
        tmp_path,
        "assignment:\n"
        "  pools:\n"
        "    returns: {agents: [U0AAA, U0BBB], strategy: least_open, max_open: 10,"
        " channel: C0RETURNS}\n"
        "    vip: {usergroup: S0VIP, skip_away: false}\n"
        "  default_pool: returns\n",
    )
    returns, vip = policy.assignment.pools["returns"], policy.assignment.pools["vip"]
    assert (returns.agents, returns.strategy, returns.max_open) == (
        ["U0AAA", "U0BBB"], "least_open", 10,
    )  # fmt: skip
    assert (returns.skip_away, returns.channel) == (True, "C0RETURNS")
    assert (vip.usergroup, vip.strategy, vip.max_open, vip.skip_away) == (
        "S0VIP", "round_robin", None, False,
    )  # fmt: skip
    assert policy.assignment.default_pool == "returns"


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        ("{agents: []}", "assignment.pools.returns is invalid: agents is empty"),
        ("{}", "assignment.pools.returns is invalid: no members: give agents"),
        (
            "{agents: [U0AAA], usergroup: S0RET}",
            "returns is invalid: give agents or usergroup, not",
        ),
        (
            "{agents: [alex]}",
            "assignment.pools.returns.agents.0='alex' is invalid: expected a Slack",
        ),
        ("{usergroup: returns-team}", "assignment.pools.returns.usergroup='returns-team' is inv"),
        ("{agents: [U0AAA], strategy: random}", "assignment.pools.returns.strategy='random' is"),
        ("{agents: [U0AAA], max_open: 0}", "assignment.pools.returns.max_open='0' is invalid"),
        ("{agents: [U0AAA], channel: '#returns'}", "assignment.pools.returns.channel='#returns'"),
        ("{agents: [U0AAA, U0AAA]}", "assignment.pools.returns is invalid: agents names someone"),
        (
            "{agents: [U0AAA], cap: 3}",
            "assignment.pools.returns.cap is not a key the helpdesk knows",
        ),
    ],
)
def test_a_bad_pool_is_one_line_naming_the_pool_and_key(tmp_path, pool, expected):
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, f"assignment:\n  pools:\n    returns: {pool}\n")
    assert expected in str(refused.value)
    assert "\n" not in str(refused.value)


def test_two_pools_of_one_name_are_refused_not_merged(tmp_path):
    with pytest.raises(ConfigError, match=r"key 'returns' given twice at line 4$"):
        load(
            tmp_path,
            "assignment:\n  pools:\n    returns: {agents: [U0AAA]}\n"
            "    returns: {agents: [U0BBB]}\n",
        )


def test_a_default_pool_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="default_pool: no pool named 'refunds'"):
        load(
            tmp_path,
            "assignment: {pools: {returns: {agents: [U0AAA]}}, default_pool: refunds}\n",
        )


def test_what_a_rule_may_assign_to():
    assignment = AssignmentPolicy.model_validate({"pools": {"returns": {"agents": ["U0AAA"]}}})
    assert assignment.target_problem("U0AAA") is None
    assert assignment.target_problem("pool:returns") is None
    assert "no pool named 'vip' under assignment.pools (pools: returns)" in (
        assignment.target_problem("pool:vip")
    )
    assert "expected a Slack user ID such as U0123ABCD, or pool:<name>" in (
        assignment.target_problem("@alex")
    )
