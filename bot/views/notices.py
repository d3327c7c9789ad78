"""The helpdesk's lines about a ticket, rendered from the facts the core recorded (Slack mrkdwn).

One renderer per notice kind and destination (the ticket's thread, another channel); a kind
with no renderer there raises `UnknownNotice`, so a new kind can't go out as some default.
Facts that came from customers or agents (reasons, subjects, addresses, order names) are
escaped here; user ids and the policy's tier names are the helpdesk's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.core.notices import Notice, UnknownNotice
from bot.views.delivery_failure import failed_delivery_text
from bot.views.text import escape_mrkdwn, slack_time, truncate

Renderer = Callable[..., str]


def read(payload: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A notice row's kind and facts; rows enqueued before notices carried facts are read too:
    a line of text ({"text": ...}), or a direct message naming its kind `about`."""
    facts = dict(payload)
    if "notice" in facts:
        return facts.pop("notice"), facts
    if "about" in facts:
        return facts.pop("about"), facts
    return Notice.TEXT, facts


def render(renderers: Mapping[str, Renderer], kind: str, facts: Mapping[str, Any]) -> str:
    renderer = renderers.get(kind)
    if renderer is None:
        raise UnknownNotice(f"no renderer for the notice kind {kind!r} here")
    return renderer(**facts)


def assigned_by_rule(assignee: str, rule: str) -> str:
    return f":bust_in_silhouette: Assigned to <@{assignee}> by rule *{escape_mrkdwn(rule)}*."


# Why a pool couldn't assign a ticket (`bot.core.assignment`), in words.
POOL_PROBLEMS = {
    "nobody_available": "nobody in it is available (away, or at their limit of open tickets)",
    "unknown_pool": "there is no such pool in the policy",
}


def pool_problem(reason: str) -> str:
    return POOL_PROBLEMS.get(reason) or (
        f"its user group can't be read ({escape_mrkdwn(reason)}); check the app's "
        "usergroups:read scope and the group's ID"
    )


def pool_unavailable(pool: str, rule: str, reason: str) -> str:
    return (
        f":busts_in_silhouette: Rule *{escape_mrkdwn(rule)}* could not assign this ticket from "
        f"pool *{escape_mrkdwn(pool)}*: {pool_problem(reason)}. It stays unassigned."
    )


def pool_unavailable_elsewhere(number: int, pool: str, rule: str, reason: str) -> str:
    return (
        f":busts_in_silhouette: Pool *{escape_mrkdwn(pool)}* can't take tickets: "
        f"{pool_problem(reason)}. Ticket #{number} and any more that come meanwhile stay "
        "unassigned; this is said once, until the pool assigns a ticket again."
    )


def escalated(by: str, tier: str, reason: str) -> str:
    return f":arrow_up: <@{by}> escalated this ticket to *{tier}*: {escape_mrkdwn(reason)}"


def escalation_taken(by: str) -> str:
    return f":raised_hand: <@{by}> took this ticket."


def de_escalated(by: str, tier: str) -> str:
    return f":arrow_down: <@{by}> returned this ticket from *{tier}* to support."


def customer_linked(by: str, order: str, proof: str) -> str:
    said = "email address" if proof == "email" else proof
    return (
        f":link: <@{by}> linked this ticket to the Shopify customer of order "
        f"{escape_mrkdwn(order)}: the customer gave the order's {said}."
    )


def order_verified(order: str) -> str:
    return (
        f":package: The visitor looked up order {escape_mrkdwn(order)} in the chat widget and "
        "asked for a person: the order's number and email address they gave match Shopify."
    )


def automatic_reply(sender: str, subject: str) -> str:
    return (
        f":zzz: Automatic reply from {escape_mrkdwn(sender)}: "
        f"“{escape_mrkdwn(truncate(subject, 150))}” (the ticket stays as it was)"
    )


def acknowledged(reply_by: str | None, order: str | None) -> str:
    promised = f", promising an answer by {reply_by}" if reply_by else ""
    told = f" and the status of order {escape_mrkdwn(order)}" if order else ""
    return f":envelope_with_arrow: Automatic acknowledgement sent{promised}{told}."


def acknowledgement_failed(reason: str) -> str:
    return (
        ":warning: The automatic acknowledgement could not be sent: "
        f"{escape_mrkdwn(truncate(reason, 300))}"
    )


def sla_warning(clock: str, target: str, assignee: str | None) -> str:
    text = f":hourglass_flowing_sand: {clock} is due soon: the {target} target is nearly up."
    return text + (f" <@{assignee}>" if assignee else "")


def sla_breach(clock: str, target: str, assignee: str | None) -> str:
    text = f":rotating_light: {clock} target ({target}) missed."
    return text + (f" <@{assignee}>" if assignee else "")


def sla_breach_elsewhere(number: int, clock: str, target: str) -> str:
    return f":rotating_light: Ticket #{number}: {clock.lower()} target ({target}) missed."


def snoozed(by: str, until: int) -> str:
    return f":zzz: <@{by}> set this ticket pending until {slack_time(_instant(until))}."


def snooze_ended(until: int) -> str:
    return f":alarm_clock: Open again: it was pending until {slack_time(_instant(until))}."


def _instant(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


ACTIONS_DONE = {
    "vip": lambda _: "marked *VIP*",
    "tags": lambda tags: "tagged " + ", ".join(f"*{escape_mrkdwn(tag)}*" for tag in tags),
    "priority": lambda priority: f"priority set to *{priority}*",
    "channel": lambda channel: f"moved to <#{channel}>",
    "status": lambda status: f"status set to *{status}*",
}


def rule_applied(rule: str, actions: list[list[Any]]) -> str:
    """E.g. "tagged *returns*, priority set to *high* by rule *Return requests*"."""
    done = ", ".join(ACTIONS_DONE[key](value) for key, value in actions)
    return f":gear: {done} by rule *{escape_mrkdwn(rule)}*"


def rule_problem(rule: str, problem: str) -> str:
    return (
        f":warning: Rule *{escape_mrkdwn(rule)}* was skipped on this ticket: "
        f"{escape_mrkdwn(problem)}"
    )


def thread_moved_here(rule: str, channel: str, link: str | None) -> str:
    earlier = f"<{link}|the earlier thread>" if link else "the earlier thread"
    return (
        f":twisted_rightwards_arrows: Moved here from <#{channel}> by rule "
        f"*{escape_mrkdwn(rule)}*: the conversation so far is in {earlier}."
    )


def thread_moved_away(rule: str, channel: str, link: str) -> str:
    """In the old thread, once its ticket moved (posted by the move itself, not a notice row)."""
    return (
        f":twisted_rightwards_arrows: This ticket moved to <#{channel}> by rule "
        f"*{escape_mrkdwn(rule)}*; carry on in <{link}|its new thread>."
    )


def moved_root(number: int, channel: str, link: str) -> str:
    """What a moved ticket's old root becomes."""
    return f"Ticket #{number} moved to <#{channel}>: <{link}|open its thread>"


def move_refused(rule: str, channel: str, error: str) -> str:
    return (
        f":warning: Rule *{escape_mrkdwn(rule)}* could not move this ticket to <#{channel}> "
        f"(Slack: {escape_mrkdwn(error)}; is the bot in that channel?). It stays here."
    )


def _listed(names: list[str]) -> str:
    return ", ".join(escape_mrkdwn(truncate(name, 100)) for name in names) or "none"


def drafted(by: str, articles: list[str], orders: list[str]) -> str:
    return (
        f":memo: <@{by}> had a reply drafted by the AI assistant (not sent; the agent edits "
        f"and sends it). Articles used: {_listed(articles)}. Orders used: {_listed(orders)}."
    )


def summary(by: str, text: str) -> str:
    """The model's words are shown as they are, escaped: never a mention, link or markup."""
    quoted = "\n".join(f"> {line}" for line in escape_mrkdwn(truncate(text, 2500)).splitlines())
    return f":robot_face: Summary by the AI assistant, asked for by <@{by}>:\n{quoted}"


def stored_text(text: str) -> str:
    """A line rendered before notices carried facts."""
    return text


def stored_text_elsewhere(number: int, text: str) -> str:
    return text


THREAD: dict[str, Renderer] = {
    Notice.ASSIGNED: assigned_by_rule,
    Notice.POOL_UNAVAILABLE: pool_unavailable,
    Notice.ESCALATED: escalated,
    Notice.ESCALATION_TAKEN: escalation_taken,
    Notice.DE_ESCALATED: de_escalated,
    Notice.CUSTOMER_LINKED: customer_linked,
    Notice.ORDER_VERIFIED: order_verified,
    Notice.AUTOMATIC_REPLY: automatic_reply,
    Notice.ACKNOWLEDGED: acknowledged,
    Notice.ACKNOWLEDGEMENT_FAILED: acknowledgement_failed,
    Notice.SLA_WARNING: sla_warning,
    Notice.SLA_BREACH: sla_breach,
    Notice.DELIVERY_FAILED: failed_delivery_text,
    Notice.SNOOZED: snoozed,
    Notice.SNOOZE_ENDED: snooze_ended,
    Notice.RULE_APPLIED: rule_applied,
    Notice.RULE_PROBLEM: rule_problem,
    Notice.THREAD_MOVED_HERE: thread_moved_here,
    Notice.RULE_MOVE_REFUSED: move_refused,
    Notice.DRAFTED: drafted,
    Notice.SUMMARY: summary,
    Notice.TEXT: stored_text,
}

# In a channel other than the ticket's: the deliverer adds the ticket's number and its link.
CHANNEL: dict[str, Renderer] = {
    Notice.POOL_UNAVAILABLE: pool_unavailable_elsewhere,
    Notice.SLA_BREACH: sla_breach_elsewhere,
    Notice.TEXT: stored_text_elsewhere,
}


def thread_notice(payload: Mapping[str, Any]) -> str:
    kind, facts = read(payload)
    return render(THREAD, kind, facts)


def channel_notice(payload: Mapping[str, Any], number: int) -> str:
    kind, facts = read(payload)
    facts.pop("channel")
    return render(CHANNEL, kind, {**facts, "number": number})
