"""Effects on the outside world, recorded as outbox rows inside the caller's transaction.

The core never talks to Slack or SMTP; it says what must happen, and `bot.delivery.worker`
delivers it, in order per ticket, exactly once. Each change here marks the session
(`outbox_written`), so the worker is woken once the caller's transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from bot.core.notices import Notice
from bot.storage.db import outbox_written
from bot.storage.models import OutboxItem, OutboxStatus, utcnow

SLACK_POST_ROOT = "slack.post_root"
SLACK_POST_MESSAGE = "slack.post_message"
SLACK_UPDATE_ROOT = "slack.update_root"
SLACK_UPDATE_MESSAGE = "slack.update_message"
DIRECT_MESSAGE = "slack.direct_message"
EMAIL_SEND = "email.send"
EMAIL_SURVEY = "email.survey"
EMAIL_NPS = "email.nps"
EMAIL_ACKNOWLEDGEMENT = "email.acknowledgement"
SLACK_POST_ESCALATION = "slack.post_escalation"
SLACK_UPDATE_ESCALATION = "slack.update_escalation"
SLACK_REANNOUNCE_ESCALATION = "slack.reannounce_escalation"
THREAD_NOTICE = "slack.thread_notice"
SLACK_SURVEY_ANSWER = "slack.survey_answer"
CHANNEL_NOTICE = "slack.channel_notice"
SLACK_DIGEST = "slack.digest"
SLACK_NPS_COMMENTS = "slack.nps_comments"
CHAT_PUSH = "chat.push"
SLACK_ATTACHMENTS = "slack.attachments"
SHOPIFY_CONTEXT = "slack.shopify_context"
SLACK_ERASE = "slack.erase"
ASSIGN_FROM_POOL = "assignment.pool"
SLACK_MOVE_THREAD = "slack.move_thread"
SHOPIFY_RULE_FACTS = "shopify.rule_facts"
SLACK_ORIGIN_NOTE = "slack.origin_note"
SLACK_ORIGIN_REPLY = "slack.origin_reply"
SLACK_THREAD_REPLY = "slack.thread_reply"
SLACK_TICKET_MOVE = "slack.ticket_move"
AI_TRIAGE = "ai.triage"
SLACK_AI_SUGGESTION = "slack.ai_suggestion"
SHOP_ACTION = "shopify.action"
SHOP_APPROVAL_REQUEST = "slack.shop_approval_request"
SHOP_APPROVAL_DECISION = "slack.shop_approval_decision"
SHOP_ACTION_OUTCOME = "slack.shop_action_outcome"


# In a session's `info` while `batch` is open: the rows enqueued meanwhile, not yet written.
_BATCH = "helpdesk_outbox_batch"


def enqueue(
    session: Session,
    kind: str,
    *,
    ticket_id: int | None,
    message_id: int | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    row = {
        "kind": kind,
        "ticket_id": ticket_id,
        "message_id": message_id,
        "payload": payload or {},
        "dedupe_key": dedupe_key,
    }
    batched = session.info.get(_BATCH)
    if batched is not None:
        batched.append(row)
    else:
        _write(session, [row])


@contextmanager
def batch(session: Session) -> Iterator[None]:
    """Rows enqueued inside are written when it ends, in the order enqueued, with one look
    for waiting duplicates and one INSERT: for work recording many rows at once (the SLA
    sweep), where a query and a round trip per row would cost more than the work itself.
    Nothing enqueued inside is written if it raises."""
    rows: list[dict[str, Any]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        del session.info[_BATCH]
    _write(session, rows)


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    """A row with a dedupe key is left out while one with its key waits, in the table or
    earlier in `rows`."""
    keys = {row["dedupe_key"] for row in rows} - {None}
    waiting = set()
    if keys:
        waiting = set(
            session.exec(
                select(OutboxItem.dedupe_key).where(
                    OutboxItem.dedupe_key.in_(keys),
                    OutboxItem.status == OutboxStatus.PENDING,
                    # One already being sent may have rendered the state before this change.
                    OutboxItem.claimed_until.is_(None),
                )
            )
        )
    fresh = []
    for row in rows:
        if row["dedupe_key"] in waiting:
            continue
        if row["dedupe_key"] is not None:
            waiting.add(row["dedupe_key"])
        fresh.append(row)
    if fresh:
        # NULLs written out, so that every row has the same columns and one statement takes
        # them all (left out, rows with and without a dedupe key would go in separate runs).
        session.execute(insert(OutboxItem), fresh, execution_options={"render_nulls": True})
        outbox_written(session)


def requeue(session: Session, item: OutboxItem) -> None:
    """Sends a row given up on (or waiting on a backoff) again now, with fresh tries."""
    outbox_written(session)
    item.status = OutboxStatus.PENDING
    item.attempts = 0
    item.raised = 0
    item.next_attempt_at = utcnow()
    item.claimed_until = None


def requeue_failed(session: Session, kind: str, message_id: int) -> bool:
    """Requeues the latest row of `kind` for the message that the worker gave up on; False
    when there is none (its failure was an answer, such as a refusing mail server)."""
    failed = session.exec(
        select(OutboxItem)
        .where(
            OutboxItem.kind == kind,
            OutboxItem.message_id == message_id,
            OutboxItem.status == OutboxStatus.FAILED,
        )
        .order_by(OutboxItem.id.desc())
    ).first()
    if failed is None:
        return False
    requeue(session, failed)
    return True


def post_root(session: Session, ticket_id: int) -> None:
    enqueue(session, SLACK_POST_ROOT, ticket_id=ticket_id)


def post_message(session: Session, ticket_id: int, message_id: int) -> None:
    enqueue(session, SLACK_POST_MESSAGE, ticket_id=ticket_id, message_id=message_id)


def refresh_root(session: Session, ticket_id: int) -> None:
    """Re-render the root; one pending refresh per ticket is enough, it renders current state."""
    enqueue(session, SLACK_UPDATE_ROOT, ticket_id=ticket_id, dedupe_key=f"root:{ticket_id}")


def refresh_message(session: Session, ticket_id: int, message_id: int) -> None:
    """Re-render a message already in the thread, e.g. once a failed reply went out."""
    enqueue(
        session,
        SLACK_UPDATE_MESSAGE,
        ticket_id=ticket_id,
        message_id=message_id,
        dedupe_key=f"message:{message_id}",
    )


def push_chat(session: Session, ticket_id: int) -> None:
    """Tells the visitor's open widgets that the conversation has news.

    Outside the ticket's ordering (no `ticket_id` on the row): the widget reads the messages
    themselves from the database, so this only needs to be quick, not ordered.
    """
    enqueue(
        session,
        CHAT_PUSH,
        ticket_id=None,
        payload={"ticket": ticket_id},
        dedupe_key=f"chat:{ticket_id}",
    )


def post_order_context(session: Session, ticket_id: int) -> None:
    """The customer's Shopify profile and orders, posted in the thread for the agents."""
    enqueue(session, SHOPIFY_CONTEXT, ticket_id=ticket_id)


def suggest_triage(session: Session, ticket_id: int) -> None:
    """The AI server is asked for a tag and priority to suggest. Not the ticket's row: its
    posts never wait behind the server (bot/deliverers/ai_triage.py)."""
    enqueue(session, AI_TRIAGE, ticket_id=None, payload={"ticket": ticket_id})


def post_suggestion(session: Session, ticket_id: int, tag: str | None, priority: str | None):
    """The suggestion in the ticket's thread, as buttons an agent may click."""
    enqueue(
        session,
        SLACK_AI_SUGGESTION,
        ticket_id=ticket_id,
        payload={"tag": tag, "priority": priority},
    )


def assign_from_pool(session: Session, ticket_id: int, pool: str, rule: str) -> None:
    """Picks the ticket's assignee from the pool once its members and presence are read
    (bot.core.assignment; the deliverer asks Slack, outside any transaction)."""
    enqueue(session, ASSIGN_FROM_POOL, ticket_id=ticket_id, payload={"pool": pool, "rule": rule})


def move_thread(session: Session, ticket_id: int, channel: str, *, rule: str) -> None:
    """The ticket's thread moves to `channel`: a new root there, a link left in the old one."""
    enqueue(
        session, SLACK_MOVE_THREAD, ticket_id=ticket_id, payload={"channel": channel, "rule": rule}
    )


def run_rules_with_shopify(
    session: Session, ticket_id: int, trigger: str, *, from_rule: str, message_id: int | None
) -> None:
    """The policy's rules for `trigger`, from `from_rule` on, once the customer's Shopify facts
    are fetched (outside any transaction) by bot/deliverers/rule_facts.py."""
    enqueue(
        session,
        SHOPIFY_RULE_FACTS,
        ticket_id=ticket_id,
        message_id=message_id,
        payload={"trigger": trigger, "from_rule": from_rule},
    )


def link_origin(session: Session, ticket_id: int, *, shared: bool) -> None:
    """A ticket made from a Slack message: its thread links to the message, and the message
    gets a threaded reply naming the ticket (`shared`: in a Slack Connect channel, where the
    customer reads it, so without the link to the team's thread)."""
    enqueue(session, SLACK_ORIGIN_NOTE, ticket_id=ticket_id)
    enqueue(session, SLACK_ORIGIN_REPLY, ticket_id=ticket_id, payload={"shared": shared})


def reply_in_slack(session: Session, ticket_id: int, message_id: int) -> None:
    """An agent's answer posted in the Slack thread the ticket came from, instead of email."""
    enqueue(session, SLACK_THREAD_REPLY, ticket_id=ticket_id, message_id=message_id)


def send_email(session: Session, ticket_id: int, message_id: int) -> None:
    enqueue(session, EMAIL_SEND, ticket_id=ticket_id, message_id=message_id)


def send_survey(session: Session, ticket_id: int, survey_id: int) -> None:
    enqueue(session, EMAIL_SURVEY, ticket_id=ticket_id, payload={"survey": survey_id})


def send_nps(session: Session, ticket_id: int, survey_id: int) -> None:
    enqueue(session, EMAIL_NPS, ticket_id=ticket_id, payload={"survey": survey_id})


def send_acknowledgement(session: Session, ticket_id: int, message_id: int, mail_id: str) -> None:
    """The automatic acknowledgement of the ticket's first message; `mail_id` is its own
    Message-ID, chosen now so that a retry sends the same mail."""
    enqueue(
        session,
        EMAIL_ACKNOWLEDGEMENT,
        ticket_id=ticket_id,
        message_id=message_id,
        payload={"mail_id": mail_id},
    )


def direct_message(session: Session, ticket_id: int, user: str, kind: Notice, /, **facts) -> None:
    """A DM to `user` about the ticket: a notice, rendered when sent (see views.notifications)."""
    enqueue(
        session,
        DIRECT_MESSAGE,
        ticket_id=ticket_id,
        payload={"user": user, "notice": kind.value, **facts},
    )


def notice(session: Session, ticket_id: int, kind: Notice, /, **facts) -> None:
    """A line from the helpdesk in the ticket's thread, e.g. who escalated and why.

    Only its kind and JSON-safe facts are stored; views.notices renders it when it is sent.
    `kind` is positional-only, as a fact may be called so too (a failed row's kind).
    """
    enqueue(session, THREAD_NOTICE, ticket_id=ticket_id, payload={"notice": kind.value, **facts})


def show_survey_answer(session: Session, ticket_id: int, survey_id: int) -> None:
    """Post the survey's answer in the thread, or update the message that shows it.

    It is rendered when sent, so one pending row shows however many changes came meanwhile.
    """
    enqueue(
        session,
        SLACK_SURVEY_ANSWER,
        ticket_id=ticket_id,
        payload={"survey": survey_id},
        dedupe_key=f"survey:{survey_id}",
    )


def move_notice(session: Session, ticket_id: int, move_id: int, *, undone: bool) -> None:
    """A merge or split (bot.core.ticket_moves), or its undoing, told in one ticket's thread:
    rendered from the move's record when sent, with links to the messages that moved."""
    enqueue(
        session,
        SLACK_TICKET_MOVE,
        ticket_id=ticket_id,
        payload={"move": move_id, "undone": undone},
    )


def execute_shop_action(session: Session, ticket_id: int, action_id: int) -> None:
    """Sends a recorded shop action (bot.core.shop_actions) to Shopify, exactly once."""
    enqueue(session, SHOP_ACTION, ticket_id=ticket_id, payload={"action": action_id})


def ask_approval(session: Session, ticket_id: int, action_id: int, approver: str) -> None:
    """An approver gets a request over someone's limits, with Approve / Decline, by DM."""
    enqueue(
        session,
        SHOP_APPROVAL_REQUEST,
        ticket_id=ticket_id,
        payload={"action": action_id, "approver": approver},
    )


def show_approval_decision(session: Session, ticket_id: int, action_id: int) -> None:
    """The approvers' messages about a request show how it was decided, without buttons."""
    enqueue(
        session,
        SHOP_APPROVAL_DECISION,
        ticket_id=ticket_id,
        payload={"action": action_id},
        dedupe_key=f"shop-approval:{action_id}",
    )


def tell_shop_action(session: Session, ticket_id: int, action_id: int) -> None:
    """A shop action's outcome (done, failed, declined, expired), rendered from its row when
    sent: in the ticket's thread, and in the modal that asked for it when still open."""
    enqueue(session, SHOP_ACTION_OUTCOME, ticket_id=ticket_id, payload={"action": action_id})


def channel_notice(
    session: Session, ticket_id: int, channel: str, kind: Notice, /, **facts
) -> None:
    """A notice about the ticket in another channel, e.g. an SLA breach."""
    enqueue(
        session,
        CHANNEL_NOTICE,
        ticket_id=ticket_id,
        payload={"channel": channel, "notice": kind.value, **facts},
    )


def post_escalation(session: Session, ticket_id: int, escalation_id: int) -> None:
    enqueue(
        session, SLACK_POST_ESCALATION, ticket_id=ticket_id, payload={"escalation": escalation_id}
    )


def refresh_escalation(session: Session, ticket_id: int, escalation_id: int) -> None:
    enqueue(
        session,
        SLACK_UPDATE_ESCALATION,
        ticket_id=ticket_id,
        payload={"escalation": escalation_id},
        dedupe_key=f"escalation:{escalation_id}",
    )


def reannounce_escalation(session: Session, ticket_id: int, escalation_id: int) -> None:
    enqueue(
        session,
        SLACK_REANNOUNCE_ESCALATION,
        ticket_id=ticket_id,
        payload={"escalation": escalation_id},
    )


def post_digest(session: Session, day: date, channel: str, timezone: str) -> None:
    """The digest of a local day; its figures are computed when it is sent."""
    enqueue(
        session,
        SLACK_DIGEST,
        ticket_id=None,
        payload={"day": day.isoformat(), "channel": channel, "timezone": timezone},
    )


def post_nps_comments(
    session: Session, day: date, timezone: str, channel: str, thread_ts: str
) -> None:
    """The detractors' comments of a digest's day, in the digest's thread."""
    enqueue(
        session,
        SLACK_NPS_COMMENTS,
        ticket_id=None,
        payload={
            "day": day.isoformat(),
            "timezone": timezone,
            "channel": channel,
            "thread_ts": thread_ts,
        },
    )


def erase_post(session: Session, ticket_id: int, **where: str) -> None:
    """Replaces one of the helpdesk's Slack posts with the erased placeholder.

    `where` is `channel` and `ts`, or `user` and `ts` for a direct message, or `file` for an
    uploaded file, which is deleted along with its share messages' text, or `row`: the id of
    an earlier row of the ticket, whose own post (and files) are replaced once it is done.
    """
    enqueue(
        session,
        SLACK_ERASE,
        ticket_id=ticket_id,
        payload=dict(where),
        dedupe_key="erase:" + ":".join(f"{k}={v}" for k, v in sorted(where.items())),
    )
