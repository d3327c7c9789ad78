"""Notices render from the facts the core recorded: escaped, and never as a default."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import bot.core
from bot.core.notices import Notice, UnknownNotice
from bot.views.csat_answer import answer_line, answer_notice
from bot.views.notices import channel_notice, thread_notice
from bot.views.notifications import direct_message_text

HOSTILE = "<!channel> & <@U0BOSS> <https://evil.example|click>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt; &lt;https://evil.example|click&gt;"


def test_an_escalation_names_who_and_where_and_escapes_the_agents_reason():
    text = thread_notice(
        {"notice": Notice.ESCALATED, "by": "U0AGENT", "tier": "Tier 2", "reason": HOSTILE}
    )
    assert text == f":arrow_up: <@U0AGENT> escalated this ticket to *Tier 2*: {ESCAPED}"


def test_taking_and_returning_an_escalation():
    taken = thread_notice({"notice": "escalation_taken", "by": "U0LEAD"})
    back = thread_notice({"notice": "de_escalated", "by": "U0LEAD", "tier": "Managers"})
    assert taken == ":raised_hand: <@U0LEAD> took this ticket."
    assert back == ":arrow_down: <@U0LEAD> returned this ticket from *Managers* to support."


def test_an_automatic_reply_escapes_its_sender_and_shortens_its_subject():
    text = thread_notice(
        {"notice": "automatic_reply", "sender": "<!here>@x.example", "subject": HOSTILE * 10}
    )
    assert text.startswith(":zzz: Automatic reply from &lt;!here&gt;@x.example: “&lt;!channel")
    assert "<!" not in text and "…” (the ticket stays as it was)" in text


def test_a_linked_customer_names_the_proof_and_escapes_the_order_the_agent_typed():
    text = thread_notice(
        {"notice": "customer_linked", "by": "U0AGENT", "order": "<!channel>", "proof": "email"}
    )
    assert text == (
        ":link: <@U0AGENT> linked this ticket to the Shopify customer of order "
        "&lt;!channel&gt;: the customer gave the order's email address."
    )


def test_sla_notices_mention_the_assignee_only_when_there_is_one():
    facts = {"clock": "First response", "target": "4h"}
    assert thread_notice({"notice": "sla_warning", "assignee": None, **facts}) == (
        ":hourglass_flowing_sand: First response is due soon: the 4h target is nearly up."
    )
    assert thread_notice({"notice": "sla_breach", "assignee": "U0ANN", **facts}) == (
        ":rotating_light: First response target (4h) missed. <@U0ANN>"
    )
    elsewhere = channel_notice({"channel": "C0ESC", "notice": "sla_breach", **facts}, 7)
    assert elsewhere == ":rotating_light: Ticket #7: first response target (4h) missed."


def test_a_failed_delivery_escapes_the_reason():
    text = thread_notice(
        {"notice": "delivery_failed", "item_id": 42, "kind": "slack.attachments", "reason": HOSTILE}
    )
    assert "the customer's files" in text and "helpdesk outbox retry 42" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_direct_messages_link_the_ticket_and_escape_the_subject_and_reason():
    ticket = {"number": 3, "subject": HOSTILE, "permalink": "https://slack.example/p1"}
    link = f"<https://slack.example/p1|#3 {ESCAPED}>"
    assigned = {"user": "U0ANN", "notice": "assigned", "by": "U0BOB"}
    assert direct_message_text(assigned, **ticket) == f"<@U0BOB> assigned you ticket {link}."
    escalated = {"user": "U0ANN", "notice": "escalated", "by": "U0BOB", "tier": "Tier 2"}
    assert direct_message_text({**escalated, "reason": HOSTILE}, **ticket) == (
        f"<@U0BOB> escalated ticket {link} to *Tier 2*: {ESCAPED}"
    )
    due = {"user": "U0ANN", "notice": "sla_breach", "clock": "Resolution", "target": "3d"}
    assert direct_message_text(due, 3, "Mug", None) == (
        "Resolution (3d) on your ticket #3 Mug was missed."
    )


@pytest.mark.parametrize(
    "render",
    [
        lambda payload: thread_notice(payload),
        lambda payload: channel_notice({"channel": "C0ESC", **payload}, 1),
        lambda payload: direct_message_text({"user": "U0ANN", **payload}, 1, "Mug", None),
    ],
    ids=["thread", "channel", "direct message"],
)
def test_an_unknown_kind_is_an_error_not_a_default(render):
    with pytest.raises(UnknownNotice, match="'refunded'"):
        render({"notice": "refunded", "by": "U0BOB"})


def test_a_kind_meant_for_elsewhere_is_an_error_too():
    with pytest.raises(UnknownNotice):
        direct_message_text(
            {"user": "U0ANN", "notice": "escalation_taken", "by": "U0B"}, 1, "M", None
        )
    with pytest.raises(UnknownNotice):
        channel_notice({"channel": "C0ESC", "notice": "assigned", "by": "U0B"}, 1)


def test_rows_enqueued_before_notices_carried_facts_still_render():
    # Rows in the outbox at an upgrade hold the finished line, or a DM's kind as `about`.
    assert thread_notice({"text": ":arrow_up: already *rendered*"}) == (
        ":arrow_up: already *rendered*"
    )
    assert channel_notice({"channel": "C0ESC", "text": ":rotating_light: old"}, 1) == (
        ":rotating_light: old"
    )
    old_dm = {"user": "U0ANN", "about": "assigned", "by": "U0BOB"}
    assert direct_message_text(old_dm, 3, "Mug", None) == "<@U0BOB> assigned you ticket #3 Mug."


def test_a_survey_answer_quotes_the_comment_escaped_and_the_root_keeps_one_line():
    notice = answer_notice(2, f"first line\n{HOSTILE}")
    assert notice == (
        ":star: The customer rated this ticket ★★☆☆☆ 2/5.\n"
        f":speech_balloon: Their comment:\n>first line\n>{ESCAPED}"
    )
    assert answer_notice(5, None) == ":star: The customer rated this ticket ★★★★★ 5/5."
    assert answer_line(4, f"good\n{HOSTILE}") == f"CSAT ★★★★☆ 4/5 · “good {ESCAPED}”"


def test_the_core_imports_no_views():
    # Views import the notice kinds; the core importing views would close a cycle again.
    core = Path(bot.core.__file__).parent
    imported = {
        (path.name, name)
        for path in core.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        for name in _imported_names(node)
        if name.startswith("bot.views")
    }
    assert imported == set()


def _imported_names(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom):  # `from bot import views` names bot.views too
        return [f"{node.module}.{alias.name}" for alias in node.names] + [node.module or ""]
    return [alias.name for alias in node.names] if isinstance(node, ast.Import) else []


def test_an_automatic_assignment_names_the_rule_escaped():
    link = "<https://x.slack.com/p1|#12 Mug>"
    dm = {"user": "U0ANN", "notice": "assigned", "by": "helpdesk", "rule": HOSTILE}
    assert direct_message_text(dm, 12, "Mug", "https://x.slack.com/p1") == (
        f"Ticket {link} was assigned to you automatically by rule *{ESCAPED}*."
    )
    note = thread_notice({"notice": "assigned", "assignee": "U0ANN", "rule": "Return requests"})
    assert note == ":bust_in_silhouette: Assigned to <@U0ANN> by rule *Return requests*."


def test_a_pool_that_cant_assign_says_why_in_the_thread_and_its_channel():
    facts = {"notice": "pool_unavailable", "pool": "returns", "rule": "Return requests"}
    nobody = thread_notice({**facts, "reason": "nobody_available"})
    assert nobody == (
        ":busts_in_silhouette: Rule *Return requests* could not assign this ticket from pool "
        "*returns*: nobody in it is available (away, or at their limit of open tickets). "
        "It stays unassigned."
    )
    unreadable = thread_notice({**facts, "reason": "missing_scope"})
    assert "its user group can't be read (missing_scope)" in unreadable
    assert "usergroups:read" in unreadable
    told = channel_notice({**facts, "channel": "C0RET", "reason": "nobody_available"}, 7)
    assert told.startswith(":busts_in_silhouette: Pool *returns* can't take tickets: nobody")
    assert "Ticket #7 and any more that come meanwhile stay unassigned" in told


def test_a_snooze_and_its_end_name_the_time_as_slack_shows_it_to_each_reader():
    until = 1773050400  # 2026-03-09 10:00 UTC, a Monday
    when = f"<!date^{until}^{{date_short_pretty}} at {{time}}|Mon 09 Mar 10:00 UTC>"
    assert thread_notice({"notice": "snoozed", "by": "U0ANN", "until": until}) == (
        f":zzz: <@U0ANN> set this ticket pending until {when}."
    )
    assert thread_notice({"notice": "snooze_ended", "until": until}) == (
        f":alarm_clock: Open again: it was pending until {when}."
    )


def test_a_rule_says_what_it_did_and_escapes_its_name_and_the_tags():
    text = thread_notice({
        "notice": "rule_applied", "rule": "Returns <!here>",
        "actions": [["tags", ["returns", "<b>"]], ["priority", "high"], ["status", "closed"]],
    })  # fmt: skip
    assert text == (
        ":gear: tagged *returns*, *&lt;b&gt;*, priority set to *high*, status set to *closed* "
        "by rule *Returns &lt;!here&gt;*"
    )


def test_a_rules_problem_and_a_thread_move_are_told_in_the_thread():
    problem = thread_notice({"notice": "rule_problem", "rule": "R", "problem": HOSTILE})
    assert problem == f":warning: Rule *R* was skipped on this ticket: {ESCAPED}"
    here = thread_notice(
        {"notice": "thread_moved_here", "rule": "R", "channel": "C0OLD", "link": "https://x/1"}
    )
    assert "from <#C0OLD> by rule *R*" in here and "<https://x/1|the earlier thread>" in here
    refused = thread_notice(
        {"notice": "rule_move_refused", "rule": "R", "channel": "C0NO", "error": "not_in_channel"}
    )
    assert "could not move this ticket to <#C0NO> (Slack: not_in_channel" in refused
