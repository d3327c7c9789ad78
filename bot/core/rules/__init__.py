"""The rules that act on tickets, one module each, and where they are registered on the desk."""

from __future__ import annotations

from bot.config import CsatPolicy, NpsPolicy, Policy
from bot.core import language
from bot.core.assignment import assign_to_default_pool
from bot.core.attachments import FileStore
from bot.core.context import Desk, Rules
from bot.core.escalation import tiers_of
from bot.core.roster import Roster
from bot.core.rules.automation import on_customer_message, on_opened
from bot.core.rules.escalation_ending import end_escalation
from bot.core.rules.nps import schedule_nps
from bot.core.rules.order_context import post_order_context
from bot.core.rules.sla_clocks import (
    move_clocks,
    start_clocks,
    stop_response_clocks,
    wait_for_next_response,
)
from bot.core.rules.survey import offer_survey
from bot.core.rules.triage import suggest_triage
from bot.core.rules.vip import vip_rules
from bot.core.sla import SlaRules


def desk_for(
    policy: Policy,
    *,
    support_channel: str,
    support_address: str | None,
    escalation_channel: str | None = None,
    roster: Roster | None = None,
    surveys: CsatPolicy | None = None,
    nps: NpsPolicy | None = None,
    order_context: bool = False,
    files: FileStore | None = None,
    triage: bool = False,
) -> Desk:
    """The desk with its rules registered. `escalation_channel`: where tiers without a channel
    of their own post; `order_context`: Shopify is connected, so new tickets get the
    customer's orders in the thread, and policy rules may ask it about the customer; `triage`:
    the AI server is configured, so new tickets get a suggested tag and priority."""
    if any(rule.when.language for rule in policy.rules):
        language.warm_up()  # here, not first inside a write transaction
    policy_rules = (*vip_rules(policy.vip), *policy.rules)
    # Last, so that the rules before it may assign the ticket first.
    default_pool = (assign_to_default_pool,) if policy.assignment.default_pool else ()
    return Desk(
        support_channel=support_channel,
        support_address=support_address,
        policy=policy,
        sla=SlaRules.from_policy(policy),
        tiers=tuple(tiers_of(policy, escalation_channel)),
        roster=roster,
        surveys=surveys,
        nps=nps,
        files=files,
        shopify=order_context,
        policy_rules=policy_rules,
        rules=Rules(
            on_ticket_opened=(
                start_clocks,
                *((on_opened,) if policy_rules else ()),
                *((post_order_context,) if order_context else ()),
                *((suggest_triage,) if triage else ()),
                *default_pool,
            ),
            on_message_arrived=(
                wait_for_next_response,
                *((on_customer_message,) if policy_rules else ()),
            ),
            on_ticket_changed=(
                move_clocks,
                end_escalation,
                *((offer_survey,) if surveys is not None else ()),
                *((schedule_nps,) if nps is not None else ()),
            ),
            on_agent_replied=(stop_response_clocks,),
        ),
    )
