"""The policy's rules at start-up: a good section loads; each mistake is one line naming the
rule and the key. Patterns are matched within a time limit, whatever the text (hypothesis)."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.config import ConfigError, load_policy
from bot.core.rules.actions import ACTIONS, ANNOUNCED_APART
from bot.core.rules.conditions import Seen, holds
from bot.core.rules.vip import vip_rules
from bot.rule_policy import Actions, Conditions
from bot.views.notices import ACTIONS_DONE

GOOD = """
tags: [returns, refund, noise]
rules:
  - name: Return requests
    on: [opened, customer_message]
    when:
      source: email
      inbox: returns@shop.example
      subject_contains: [return, refund]
      subject_matches: "(?i)order\\\\s+#?\\\\d+"
      from: [someone@x.com, "@wholesale.example"]
      language: [de, fr]
      business_hours: false
      shopify: {orders_count_gte: 5, total_spent_gte: 500, tags_any: [wholesale]}
    then: {tags: [returns], priority: high, channel: C0RETURNS, stop: true}
  - name: Noise
    when: {subject_contains: unsubscribe}
    then: {status: closed}
"""


def load(tmp_path, text: str):
    path = tmp_path / "helpdesk.yml"
    path.write_text(text)
    return load_policy(path)


def refusal(tmp_path, text: str) -> str:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, text)
    line = str(refused.value)
    assert "\n" not in line
    return line


def test_a_good_rules_section_loads_with_on_read_as_written(tmp_path):
    first, noise = load(tmp_path, GOOD).rules
    assert first.on == ["opened", "customer_message"]  # YAML 1.1 reads `on:` as true
    assert first.when.inbox == ["returns@shop.example"]
    assert first.when.from_ == ["someone@x.com", "@wholesale.example"]
    assert first.then.named() == {"tags": ["returns"], "priority": "high", "channel": "C0RETURNS"}
    assert noise.on == ["opened"]


def one_rule(when: str = "{}", then: str = "{tags: [returns]}", extra: str = "") -> str:
    rule = f"  - name: Returns\n    when: {when}\n    then: {then}\n"
    return f"tags: [returns]\nrules:\n{rule}{extra}"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (one_rule(then="{tags: [nope]}"), "rule 'Returns': then.tags names 'nope', which is not"),
        (one_rule(then="{priority: asap}"), "rule 'Returns' key then.priority='asap' is invalid"),
        (one_rule(then="{channel: '#returns'}"), "rule 'Returns' key then.channel='#returns'"),
        (one_rule(then="{status: gone}"), "rule 'Returns' key then.status='gone' is invalid"),
        (one_rule(then="{colour: red}"), "rule 'Returns' key then.colour is not a key"),
        (one_rule(when="{subject_has: x}"), "rule 'Returns' key when.subject_has is not a key"),
        (one_rule(when="{body_matches: '(abc'}"), "key when.body_matches='(abc' is invalid: not a"),
        (one_rule(when="{body_matches: '(a+)+$'}"), "can take exponential time"),
        (one_rule(when="{subject_matches: '(x+x+)+y'}"), "can take exponential time"),
        (one_rule(when="{language: german}"), "key when.language.0='german' is invalid"),
        (one_rule(when="{from: nobody}"), "key when.from.0='nobody' is invalid"),
        (one_rule(when="{source: fax}"), "key when.source.0='fax' is invalid"),
        (one_rule(then="{}"), "rule 'Returns': then has no action"),
        (one_rule(extra="  - name: Returns\n    then: {stop: true}\n"), "name is used by an"),
    ],
)
def test_each_mistake_is_one_line_naming_the_rule_and_the_key(tmp_path, policy, expected):
    assert expected in refusal(tmp_path, policy)


def test_a_vip_section_must_name_someone_and_compiles_to_one_rule_per_criterion(tmp_path):
    assert "policy key vip is invalid: names no VIP" in refusal(tmp_path, "vip: {priority: high}\n")
    assert "key vip.total_spent_gte='lots' is invalid" in refusal(
        tmp_path, "vip: {total_spent_gte: lots}\n"
    )
    vip = load(tmp_path, "vip: {total_spent_gte: 500, from: '@big.example', priority: high}\n").vip
    compiled = vip_rules(vip)
    assert [rule.name for rule in compiled] == ["vip.from", "vip.total_spent_gte"]
    assert compiled[1].needs_shopify and compiled[1].then.named() == {
        "vip": True,
        "priority": "high",
    }


def test_a_rule_without_a_name_is_named_by_its_place(tmp_path):
    assert "rule #1 key name is missing" in refusal(tmp_path, "rules:\n  - then: {stop: true}\n")


def test_tags_are_free_when_the_policy_lists_none(tmp_path):
    policy = load(tmp_path, "rules:\n  - name: Any\n    then: {tags: [anything]}\n")
    assert policy.rules[0].then.tags == ["anything"]


def seen(subject: str, body: str) -> Seen:
    return Seen(
        source="email", inbox=None, subject=subject, body=body, sender="a@b.example",
        at=datetime.now(UTC), is_open=lambda _: True, is_vip=lambda: False,
    )  # fmt: skip


EVERY_TEXT_CONDITION = Conditions.model_validate({
    "subject_contains": ["refund"], "body_contains": ["return"],
    "subject_matches": r"order\s+#?\d+", "body_matches": r"(\w+\s?)*@\w+",
    "language": ["de"], "from": ["@b.example"],
})  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000), st.text(max_size=300))
def test_matching_arbitrary_text_never_raises(body, subject):
    assert holds(EVERY_TEXT_CONDITION, seen(subject, body)) in (True, False)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=10, max_value=200_000), st.sampled_from(["a", "ab", "1", " "]))
def test_a_catastrophic_pattern_is_cut_off_within_its_time_limit(length, unit):
    # Compiled without the start-up check: the runtime limit alone must bound it.
    catastrophic = regex.compile("(a|aa|ab|1| )+$", regex.IGNORECASE)
    started = time.monotonic()
    with contextlib.suppress(patterns.PatternTimeout):
        patterns.matches(catastrophic, unit * length + "!")
    # Bounded: the limit, plus slack for a loaded machine; never the minutes it would take.
    assert time.monotonic() - started < patterns.TIME_LIMIT_SECONDS + 5


def test_the_example_in_the_docs_loads(tmp_path):
    docs = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    example = docs.split("```yaml\nrules:\n", 1)[1].split("```", 1)[0]
    assert load(tmp_path, "rules:\n" + example).rules


def test_every_action_a_rule_can_name_has_its_entry_in_the_dispatch_table():
    named = set(Actions.model_fields) - {"stop"}
    assert named == set(ACTIONS), (
        "an action in the policy model must act (bot/core/rules/actions.py)"
    )
    assert set(ACTIONS) - ANNOUNCED_APART <= set(ACTIONS_DONE), (
        "and say what it did in the thread (bot/views/notices.py)"
    )
