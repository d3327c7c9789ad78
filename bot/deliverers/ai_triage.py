"""A new ticket's suggested tag and priority: the AI server asked outside any transaction
(`ai.triage`, a row of no ticket, so the ticket's posts never wait behind the server), then
the suggestion posted in the thread as buttons (`slack.ai_suggestion`, in the ticket's order,
after its root). A failure of the server is logged and counted, and the ticket goes on
without a suggestion: it is never retried, and never holds anything up."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlmodel import Session

from bot.core import assistance
from bot.core import outbox as kinds
from bot.core.assistant import read_triage, triage_request
from bot.core.context import Desk
from bot.core.tickets import normalize_tag
from bot.deliverers.slack_posts import SlackDeliverer, SlackDelivery, posted_ticket, thread_of
from bot.delivery.contract import Deliverer
from bot.integrations.ai import AiClient, AiProblem
from bot.read_models.assistant_input import ticket_data
from bot.storage.models import OutboxItem, Ticket, utcnow
from bot.views.ai_suggestion import suggestion_blocks, suggestion_text

log = logging.getLogger(__name__)

AI_SERVER = "AI server"


def triage_deliverers(ai: AiClient, desk: Desk, client: WebClient) -> dict[str, Deliverer]:
    return {
        kinds.AI_TRIAGE: Triage(ai, desk),
        kinds.SLACK_AI_SUGGESTION: SuggestionPost(SlackDelivery(client, list(desk.tiers))),
    }


class Triage:
    service = AI_SERVER
    posts_to_channel = False

    def __init__(self, ai: AiClient, desk: Desk):
        self.ai, self.desk = ai, desk

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        """Asks again when in doubt: the server's answer changes nothing but the counts."""
        ticket = session.get(Ticket, item.payload["ticket"])
        if ticket is None:
            return {}
        tags = tuple(self.desk.policy.tags)
        request = triage_request(ticket_data(session, ticket, articles=False, tags=tags))
        try:
            answer = self.ai.complete(request)
        except AiProblem as problem:
            log.info("ticket #%s: no suggested tag or priority: %s", ticket.number, problem)
            return {"failed": str(problem)}
        triage = read_triage(answer.text, tags)
        if triage is None:
            log.info("ticket #%s: the AI server's suggestion named nothing known", ticket.number)
        return {
            "tag": normalize_tag(triage.tag) if triage and triage.tag else None,
            "priority": triage.priority.value if triage and triage.priority else None,
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
        }

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        if "failed" not in result and "tag" not in result:
            return  # the ticket is gone
        day = utcnow().astimezone(ZoneInfo(self.desk.policy.timezone)).date()
        assistance.count(
            session,
            day,
            prompt_tokens=result.get("prompt_tokens", 0),
            completion_tokens=result.get("completion_tokens", 0),
            failed="failed" in result,
        )
        if result.get("tag") or result.get("priority"):
            kinds.post_suggestion(
                session, item.payload["ticket"], result.get("tag"), result.get("priority")
            )


class SuggestionPost(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        tag, priority = item.payload["tag"], item.payload["priority"]
        return self.slack.post_once(
            item, ticket, thread_of(ticket), in_doubt,
            lambda: (suggestion_text(tag, priority), suggestion_blocks(ticket.id, tag, priority)),
        )  # fmt: skip
