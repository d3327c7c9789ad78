"""The outbox row that assigns a ticket from a pool of agents: who is in the pool and who is
away are asked of Slack here, through the desk's roster, outside any transaction; the pick
itself is `bot.core.assignment.assign_from_pool`, in the worker's short success transaction."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core import outbox as kinds
from bot.core.assignment import Reachable, assign_from_pool
from bot.core.context import Desk
from bot.core.roster import MembersUnknown
from bot.deliverers.slack_posts import UNREACHABLE, delivery_failure
from bot.delivery.contract import SLACK_API, Deliverer, ServiceDown
from bot.storage.models import OutboxItem


def assignment_deliverers(desk: Desk) -> dict[str, Deliverer]:
    return {kinds.ASSIGN_FROM_POOL: PoolAssignment(desk)}


class PoolAssignment:
    service = SLACK_API
    posts_to_channel = False

    def __init__(self, desk: Desk):
        self.desk = desk

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        """Reads only: calling Slack twice (a retry) changes nothing."""
        pool = self.desk.policy.assignment.pools.get(item.payload["pool"])
        if pool is None:
            return {}  # the pick says why in the thread
        try:
            members = self.desk.roster.pool_members(pool)
            available = self.desk.roster.available(members) if pool.skip_away else members
        except MembersUnknown as unreadable:
            return {"problem": str(unreadable)}
        except SlackApiError as exc:
            raise delivery_failure(exc) from None
        except UNREACHABLE as exc:
            raise ServiceDown(f"Slack unreachable: {exc}", definite=False) from None
        return {"members": list(members), "available": sorted(available)}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        found = Reachable(
            tuple(result.get("members", ())),
            frozenset(result.get("available", ())),
            result.get("problem"),
        )
        agent = assign_from_pool(
            session, self.desk, item.ticket_id, item.payload["pool"], item.payload["rule"], found
        )
        result["assigned"] = agent
