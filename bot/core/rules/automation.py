"""The policy's rules (`rules:`), run when a ticket opens and when a customer's message arrives.

In policy order, inside the caller's transaction. A rule whose conditions hold acts once per
ticket and trigger (`rule_firings`, unique, so a replayed delivery can't act twice), logs each
action with its name (`rule_action` events) and says so in the thread. A rule with `stop`
ends the evaluation whenever its conditions hold, even if it acted earlier.

Shopify facts are never fetched in a transaction: the evaluation pauses at the first rule that
needs them, and an outbox row (`bot/deliverers/rule_facts.py`) fetches the customer's facts
and resumes it from that rule in a short transaction of its own, so policy order and `stop`
hold as if the rules had run in one go. Without Shopify those conditions are simply false.
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlmodel import Session, select

from bot.core import outbox
from bot.core.context import Desk
from bot.core.customer_links import owner_of
from bot.core.notices import Notice
from bot.core.rules.actions import ACTIONS, ANNOUNCED_APART, Acting
from bot.core.rules.conditions import CustomerFacts, Seen, holds
from bot.core.tickets import record_event
from bot.rule_policy import CUSTOMER_MESSAGE, OPENED, Rule
from bot.storage.models import Direction, Message, RuleFiring, Source, Ticket
from bot.storage.queries import last_customer_message

log = logging.getLogger(__name__)


def on_opened(session: Session, desk: Desk, ticket: Ticket, _facts: None) -> None:
    _run(session, desk, ticket, OPENED, last_customer_message(session, ticket.id), opening=True)


def on_customer_message(session: Session, desk: Desk, ticket: Ticket, message: Message) -> None:
    if not _opening_message(session, ticket, message):  # that one is the `opened` trigger's
        _run(session, desk, ticket, CUSTOMER_MESSAGE, message, opening=False)


def resume_with_shopify(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    trigger: str,
    *,
    from_rule: str,
    message: Message | None,
    facts: CustomerFacts | None,
) -> None:
    """Runs the rules from `from_rule` on, with the customer's Shopify facts (None: unknown)."""
    rules = _rules_for(desk, trigger)
    start = next((i for i, rule in enumerate(rules) if rule.name == from_rule), None)
    if start is None:  # the policy changed meanwhile; its rules run on the next trigger
        log.info("ticket #%s: rule %r is gone; not resumed", ticket.number, from_rule)
        return
    seen = _seen(session, desk, ticket, message, facts)
    _evaluate(session, desk, ticket, trigger, rules[start:], seen, message, asked=True)


def _run(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    trigger: str,
    message: Message | None,
    *,
    opening: bool,
) -> None:
    rules = _rules_for(desk, trigger)
    if rules:
        seen = _seen(session, desk, ticket, message, None)
        _evaluate(session, desk, ticket, trigger, rules, seen, message, opening=opening)


def _evaluate(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    trigger: str,
    rules: list[Rule],
    seen: Seen,
    message: Message | None,
    *,
    opening: bool = False,
    asked: bool = False,
) -> None:
    """`asked`: Shopify was asked about the customer (`seen.shopify` is its answer)."""
    for rule in rules:
        if rule.needs_shopify and desk.shopify and not asked:
            outbox.run_rules_with_shopify(
                session,
                ticket.id,
                trigger,
                from_rule=rule.name,
                message_id=message.id if message else None,
            )
            return
        if not holds(rule.when, seen):
            _tell_problems(session, ticket, rule, seen)
            continue
        if _first_firing(session, ticket, rule, trigger):
            _act(session, desk, ticket, rule, trigger, opening)
        if rule.then.stop:
            return


def _first_firing(session: Session, ticket: Ticket, rule: Rule, trigger: str) -> bool:
    """Records the firing; False when this rule already acted on this ticket for `trigger`."""
    done = session.exec(
        select(RuleFiring.id).where(
            RuleFiring.ticket_id == ticket.id,
            RuleFiring.rule == rule.name,
            RuleFiring.trigger == trigger,
        )
    ).first()
    if done is not None:
        return False
    # Unique: a concurrent firing makes this transaction fail and its caller retry it.
    session.add(RuleFiring(ticket_id=ticket.id, rule=rule.name, trigger=trigger))
    session.flush()
    return True


def _act(
    session: Session, desk: Desk, ticket: Ticket, rule: Rule, trigger: str, opening: bool
) -> None:
    acting = Acting(rule.name, opening)
    wanted = rule.then.named()
    done: list[list] = []
    for key, action in ACTIONS.items():
        if key not in wanted:
            continue
        if action(session, desk, ticket, acting, wanted[key]):
            record_event(
                session, ticket, "rule_action", acting.actor,
                rule=rule.name, trigger=trigger, action=key, value=wanted[key],
            )  # fmt: skip
            done.append([key, wanted[key]])
    if told := [action for action in done if action[0] not in ANNOUNCED_APART]:
        outbox.notice(session, ticket.id, Notice.RULE_APPLIED, rule=rule.name, actions=told)


def _tell_problems(session: Session, ticket: Ticket, rule: Rule, seen: Seen) -> None:
    for problem in seen.problems:
        log.warning("ticket #%s, rule %r: %s", ticket.number, rule.name, problem)
        outbox.notice(session, ticket.id, Notice.RULE_PROBLEM, rule=rule.name, problem=problem)
    seen.problems.clear()


def _rules_for(desk: Desk, trigger: str) -> list[Rule]:
    return [rule for rule in desk.policy_rules if trigger in rule.on]


def _seen(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    message: Message | None,
    facts: CustomerFacts | None,
) -> Seen:
    return Seen(
        source=ticket.source,
        # The address the mail was sent to; a chat came through none.
        inbox=ticket.support_address or desk.support_address
        if ticket.source == Source.EMAIL
        else None,
        subject=ticket.subject,
        body=message.body if message else "",
        # Only an address the mail proved: an unverified sender or a chat visitor can type
        # anyone's, and `from` decides priorities, channels and VIPs.
        sender=owner_of(session, ticket).email or "",
        at=message.created_at if message else ticket.created_at,
        is_open=desk.sla.calendar.is_open,
        is_vip=lambda: ticket.vip,  # read when asked: a rule before may have just made it so
        shopify=facts,
    )


def _opening_message(session: Session, ticket: Ticket, message: Message) -> bool:
    first = session.exec(
        select(func.min(Message.id)).where(
            Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND
        )
    ).one()
    return first == message.id
