"""Outbox rows that go to Slack: ticket roots, thread messages, their updates, and DMs."""

from __future__ import annotations

import http.client
import itertools
import logging
import urllib.error
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.core import outbox as kinds
from bot.core import privacy
from bot.core.escalation import Tier
from bot.core.notices import Notice
from bot.core.thread_moves import channel_at
from bot.delivery.contract import SLACK_API, Deliverer, GiveUp, RetryLater, ServiceDown
from bot.read_models.digest_of_day import detractor_comments, render_digest
from bot.read_models.message_view import message_view
from bot.read_models.ticket_move import move_summary
from bot.read_models.ticket_summary import escalation_summary, ticket_summary
from bot.storage.models import (
    CsatSurvey,
    Escalation,
    Message,
    OutboxItem,
    OutboxStatus,
    Ticket,
    TicketEvent,
    TicketMove,
    utcnow,
)
from bot.views import ids
from bot.views.csat_answer import answer_notice
from bot.views.erased import erased_blocks, erased_text
from bot.views.escalation_surfaces import (
    EscalationSummary,
    escalation_blocks,
    escalation_text,
    reannounce_text,
)
from bot.views.notices import channel_notice, thread_notice
from bot.views.notifications import direct_message_text
from bot.views.nps_comments import detractor_comments_text
from bot.views.text import FALLBACK_TEXT_LIMIT, truncate
from bot.views.thread_message import (
    AgentReply,
    agent_reply_blocks,
    agent_reply_text,
    customer_message_blocks,
    customer_message_text,
)
from bot.views.ticket_moves import move_blocks, move_text
from bot.views.ticket_root import root_blocks, root_text

log = logging.getLogger(__name__)

LOOKUP_PAGES = 10


def slack_deliverers(
    client: WebClient, tiers: list[Tier], order_lookup: bool = False
) -> dict[str, Deliverer]:
    slack = SlackDelivery(client, tiers, order_lookup)
    return {
        kinds.SLACK_POST_ROOT: RootPost(slack),
        kinds.SLACK_POST_MESSAGE: MessagePost(slack),
        kinds.SLACK_UPDATE_ROOT: RootUpdate(slack),
        kinds.SLACK_UPDATE_MESSAGE: MessageUpdate(slack),
        kinds.DIRECT_MESSAGE: DirectMessage(slack),
        kinds.THREAD_NOTICE: ThreadNotice(slack),
        kinds.SLACK_SURVEY_ANSWER: SurveyAnswer(slack),
        kinds.CHANNEL_NOTICE: ChannelNotice(slack),
        kinds.SLACK_POST_ESCALATION: EscalationPost(slack),
        kinds.SLACK_UPDATE_ESCALATION: EscalationUpdate(slack),
        kinds.SLACK_REANNOUNCE_ESCALATION: EscalationReminder(slack),
        kinds.SLACK_DIGEST: DigestPost(slack),
        kinds.SLACK_NPS_COMMENTS: DetractorComments(slack),
        kinds.SLACK_ERASE: ErasedPost(slack),
        kinds.SLACK_TICKET_MOVE: MovePost(slack),
    }


class SlackDelivery:
    def __init__(self, client: WebClient, tiers: list[Tier], order_lookup: bool = False):
        self.client = client
        self.tiers = tiers
        self.order_lookup = order_lookup  # Shopify is connected: roots get an Orders button

    def post(
        self,
        item: OutboxItem,
        ticket: Ticket | None,
        where: tuple[str, str | None],
        text: str,
        blocks: list | None,
    ) -> dict:
        channel, thread_ts = where
        about = {"ticket": ticket.number} if ticket else {}
        response = self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={
                "event_type": ids.OUTBOX_METADATA_EVENT,
                "event_payload": {"outbox_id": item.id, **about},
            },
        )
        return {"ts": response["ts"]}

    def permalink(self, ticket: Ticket) -> str | None:
        if ticket.thread_ts is None:
            return None
        response = self.client.chat_getPermalink(
            channel=ticket.channel, message_ts=ticket.thread_ts
        )
        return response.get("permalink")

    def find_posted(self, item: OutboxItem, where: tuple[str, str | None]) -> dict | None:
        """The ts of this row's message if an earlier attempt did post it, else None."""
        channel, thread_ts = where
        cursor = None
        for _ in range(LOOKUP_PAGES):
            arguments = {
                "channel": channel,
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if thread_ts:
                response = self.client.conversations_replies(ts=thread_ts, **arguments)
            else:
                oldest = item.created_at.timestamp() - 60
                response = self.client.conversations_history(oldest=f"{oldest:.6f}", **arguments)
            for message in response.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == ids.OUTBOX_METADATA_EVENT
                    and payload.get("outbox_id") == item.id
                ):
                    log.info("outbox row %s was already in Slack as %s", item.id, message["ts"])
                    return {"ts": message["ts"]}
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        raise RetryLater("could not finish looking for an earlier attempt", definite=False)

    def post_once(
        self,
        item: OutboxItem,
        ticket: Ticket | None,
        where: tuple[str, str | None],
        in_doubt: bool,
        render: Callable[[], tuple[str, list | None]],
    ) -> dict:
        """Posts to (channel, thread_ts), unless an attempt in doubt turns out to have landed."""
        found = self.find_posted(item, where) if in_doubt else None
        return found or self.post(item, ticket, where, *render())


# How often a row waiting on a root post that was given up looks again (a retry of the root
# from `helpdesk outbox` lets it go within this).
ROOT_GIVEN_UP_RECHECK_SECONDS = 15
# Errors about the content itself: resending the same content can never succeed.
PERMANENT_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text"}


# Slack's answers about a channel that no retry heals until someone changes the channel.
UNUSABLE_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived"}


# Slack not answering at all: the request may still have landed.
UNREACHABLE = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)


def delivery_failure(exc: SlackApiError) -> Exception:
    """What a Slack error means for the outbox: wait, back off, or give up."""
    response = exc.response
    error = response.get("error") if isinstance(response.data, dict) else None
    retry_after = _seconds(response.headers.get("Retry-After", response.headers.get("retry-after")))
    if response.status_code == 429:
        return RetryLater("rate limited by Slack", delay=retry_after or 1, pause_channel=True)
    if response.status_code >= 500:
        # Slack itself is failing, whatever the row: the outbox holds every Slack row a while.
        return ServiceDown(f"Slack HTTP {response.status_code}", delay=retry_after, definite=False)
    if error in PERMANENT_ERRORS:
        return GiveUp(f"Slack refused the message: {error}")
    if error:
        # ok:false answers are definite; channel_not_found and friends heal once fixed.
        return RetryLater(f"Slack error: {error}")
    return RetryLater(f"Slack HTTP {response.status_code}", definite=False)


def _seconds(retry_after: str | None) -> float | None:
    """A `Retry-After` in seconds; None when absent or not a number (an HTTP date)."""
    try:
        return float(retry_after) if retry_after else None
    except ValueError:
        return None


class SlackDeliverer:
    service = SLACK_API
    posts_to_channel = True

    def __init__(self, slack: SlackDelivery):
        self.slack = slack

    def send(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        try:
            return self.deliver(session, item, in_doubt)
        except SlackApiError as exc:
            raise delivery_failure(exc) from None
        except UNREACHABLE as exc:
            raise ServiceDown(f"Slack unreachable: {exc}", definite=False) from None

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        raise NotImplementedError

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        """Most deliveries change nothing locally once done."""


class RootPost(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = session.get(Ticket, item.ticket_id)
        if ticket.thread_ts:
            return {"ts": ticket.thread_ts}
        try:
            return self._post(session, item, ticket, ticket.channel, in_doubt)
        except SlackApiError as exc:
            # A policy rule sent the ticket to a channel the bot can't post in: it goes where
            # it was headed before, and its thread says why.
            moved = rule_moved_from(session, ticket)
            if exc.response.get("error") not in UNUSABLE_CHANNEL or moved is None:
                raise
            channel, rule = moved
            posted = self._post(session, item, ticket, channel, True)
            return {**posted, "channel": channel, "rule": rule, "refused": exc.response["error"]}

    def _post(self, session, item: OutboxItem, ticket: Ticket, channel: str, in_doubt: bool):
        return self.slack.post_once(
            item,
            ticket,
            (channel, None),
            in_doubt,
            lambda: render_root(session, ticket, self.slack.order_lookup),
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        ticket = session.get(Ticket, item.ticket_id)
        ticket.thread_ts = result["ts"]
        if refused := result.get("refused"):
            refused_channel, ticket.channel = ticket.channel, result["channel"]
            kinds.notice(
                session, ticket.id, Notice.RULE_MOVE_REFUSED,
                rule=result["rule"], channel=refused_channel, error=refused,
            )  # fmt: skip


class MessagePost(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        message = session.get(Message, item.message_id)
        return self.slack.post_once(
            item, ticket, thread_of(ticket), in_doubt, lambda: render_message(message)
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        session.get(Message, item.message_id).slack_ts = result["ts"]


class RootUpdate(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        text, blocks = render_root(session, ticket, self.slack.order_lookup)
        self.slack.client.chat_update(
            channel=ticket.channel, ts=ticket.thread_ts, text=text, blocks=blocks
        )
        return {"ts": ticket.thread_ts}


class MessageUpdate(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        message = session.get(Message, item.message_id)
        if message.slack_ts is None:
            raise RetryLater("the message is not in Slack yet", delay=5)
        text, blocks = render_message(message)
        channel = channel_at(session, ticket, message.slack_ts)
        self.slack.client.chat_update(
            channel=channel, ts=message.slack_ts, text=text, blocks=blocks
        )
        return {"ts": message.slack_ts}


class DirectMessage(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        client = self.slack.client
        channel = client.conversations_open(users=item.payload["user"])["channel"]["id"]
        text = direct_message_text(
            item.payload, ticket.number, ticket.subject, self.slack.permalink(ticket)
        )
        response = client.chat_postMessage(channel=channel, text=text)
        return {"ts": response["ts"]}


class ThreadNotice(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        text = truncate(thread_notice(item.payload), FALLBACK_TEXT_LIMIT)
        return self.slack.post_once(item, ticket, thread_of(ticket), in_doubt, lambda: (text, None))


class MovePost(SlackDeliverer):
    """A merge or split told in one of its threads, with links to what moved."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        move = session.get(TicketMove, item.payload["move"])
        summary = move_summary(session, move, ticket.id, item.payload["undone"], self._link)
        return self.slack.post_once(
            item, ticket, thread_of(ticket), in_doubt,
            lambda: (truncate(move_text(summary), FALLBACK_TEXT_LIMIT), move_blocks(summary)),
        )  # fmt: skip

    def _link(self, channel: str, ts: str) -> str | None:
        """A message deleted since, or a channel the bot left, loses its link, not the post."""
        try:
            answer = self.slack.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise
            log.info("no link to %s in %s: %s", ts, channel, exc.response.get("error"))
            return None
        return answer.get("permalink")


class SurveyAnswer(SlackDeliverer):
    """The survey's one message in the thread: posted on the first answer, then updated."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        survey = session.get(CsatSurvey, item.payload["survey"])
        text = truncate(answer_notice(survey.rating, survey.comment), FALLBACK_TEXT_LIMIT)
        if survey.slack_ts is None:
            return self.slack.post_once(
                item, ticket, thread_of(ticket), in_doubt, lambda: (text, None)
            )
        channel = channel_at(session, ticket, survey.slack_ts)
        self.slack.client.chat_update(channel=channel, ts=survey.slack_ts, text=text)
        return {"ts": survey.slack_ts}

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        session.get(CsatSurvey, item.payload["survey"]).slack_ts = result["ts"]


class ChannelNotice(SlackDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket = posted_ticket(session, item)
        permalink = self.slack.permalink(ticket)
        text = channel_notice(item.payload, ticket.number)
        text += f" <{permalink}|Open thread>" if permalink else ""
        return self.slack.post_once(
            item, ticket, (item.payload["channel"], None), in_doubt, lambda: (text, None)
        )


class _EscalationDeliverer(SlackDeliverer):
    def gather(
        self, session: Session, item: OutboxItem
    ) -> tuple[Ticket, Escalation, EscalationSummary]:
        ticket = posted_ticket(session, item)
        escalation = session.get(Escalation, item.payload["escalation"])
        permalink = self.slack.permalink(ticket)
        summary = escalation_summary(session, ticket, escalation, self.slack.tiers, permalink)
        return ticket, escalation, summary


class EscalationPost(_EscalationDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket, escalation, summary = self.gather(session, item)
        if escalation.post_ts:
            return {"ts": escalation.post_ts}
        return self.slack.post_once(
            item,
            ticket,
            (escalation.channel, None),
            in_doubt,
            lambda: (escalation_text(summary), escalation_blocks(summary, utcnow())),
        )

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        session.get(Escalation, item.payload["escalation"]).post_ts = result["ts"]


class EscalationUpdate(_EscalationDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        _, escalation, summary = self.gather(session, item)
        if escalation.post_ts is None:
            raise RetryLater("the escalation is not in Slack yet", delay=5)
        self.slack.client.chat_update(
            channel=escalation.channel,
            ts=escalation.post_ts,
            text=escalation_text(summary),
            blocks=escalation_blocks(summary, utcnow()),
        )
        return {"ts": escalation.post_ts}


class EscalationReminder(_EscalationDeliverer):
    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        ticket, escalation, summary = self.gather(session, item)
        if escalation.resolved_at is not None or escalation.taken_by is not None:
            # Taken, given back, or its ticket solved since the sweep: nobody is waiting.
            return {"skipped": "no longer waiting"}
        return self.slack.post_once(
            item,
            ticket,
            (escalation.channel, None),
            in_doubt,
            lambda: (reannounce_text(summary, utcnow()), None),
        )


class DigestPost(SlackDeliverer):
    """The daily digest, rendered now from the day in the row, and its chart.

    A retry may follow a post that landed and an upload that did not (not in doubt then), so
    every retry first looks for both in the channel: the message by its metadata, the chart
    by its file name. Only an upload whose answer was lost and that Slack shares after that
    look can show twice.
    """

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        channel = item.payload["channel"]
        day = date.fromisoformat(item.payload["day"])
        digest = render_digest(session, day, ZoneInfo(item.payload["timezone"]))
        retry = item.attempts > 1
        posted = self.slack.post_once(
            item, None, (channel, None), retry, lambda: (digest.text, digest.blocks)
        )
        client = self.slack.client
        if not (retry and chart_shared(client, channel, digest.filename, item.created_at)):
            client.files_upload_v2(
                channel=channel,
                content=digest.chart,
                filename=digest.filename,
                title=f"Helpdesk trend to {day.isoformat()}",
            )
        return posted

    def record(self, session: Session, item: OutboxItem, result: dict) -> None:
        """The day's NPS detractors' comments follow, in the digest's thread."""
        day, timezone = date.fromisoformat(item.payload["day"]), item.payload["timezone"]
        if detractor_comments(session, day, ZoneInfo(timezone)):
            kinds.post_nps_comments(session, day, timezone, item.payload["channel"], result["ts"])


class DetractorComments(SlackDeliverer):
    """A digest day's NPS detractors' comments, one message in the digest's thread."""

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        day = date.fromisoformat(item.payload["day"])
        comments = detractor_comments(session, day, ZoneInfo(item.payload["timezone"]))
        text = truncate(detractor_comments_text(day, comments), FALLBACK_TEXT_LIMIT)
        where = (item.payload["channel"], item.payload["thread_ts"])
        return self.slack.post_once(item, None, where, in_doubt, lambda: (text, None))


class ErasedPost(SlackDeliverer):
    """Replaces a post about an erased customer with the placeholder, or deletes their file.

    Both are idempotent, so a retry or a row in doubt simply does it again; a post or file
    already gone (deleted in Slack by someone) is done too.
    """

    GONE = {"message_not_found", "file_not_found", "file_deleted", "channel_not_found"}

    def deliver(self, session: Session, item: OutboxItem, in_doubt: bool) -> dict:
        if row_id := item.payload.get("row"):
            # A post that was pending at erasure: the ticket's rows go in order, so it is done.
            earlier = session.get(OutboxItem, int(row_id))
            for file_id in privacy.uploaded_files(earlier):
                self._erase({"file": file_id})
            where = privacy.posted_at(session, earlier)
            return self._erase(where) if where else {"gone": "never posted"}
        return self._erase(item.payload)

    def _erase(self, where: dict) -> dict:
        try:
            if file_id := where.get("file"):
                return self._delete_file(file_id)
            channel = where.get("channel") or self._dm(where["user"])
            self._replace(channel, where["ts"])
            return {"ts": where["ts"]}
        except SlackApiError as exc:
            if exc.response.get("error") in self.GONE:
                return {"gone": exc.response.get("error")}
            raise

    def _dm(self, user: str) -> str:
        return self.slack.client.conversations_open(users=user)["channel"]["id"]

    def _replace(self, channel: str, ts: str) -> None:
        self.slack.client.chat_update(
            channel=channel, ts=ts, text=erased_text(), blocks=erased_blocks()
        )

    def _replace_share(self, channel: str, ts: str) -> None:
        try:
            self._replace(channel, ts)
        except SlackApiError as exc:
            if exc.response.get("error") not in {"cant_update_message", *self.GONE}:
                raise
            # Deleting the file still takes it out of the message; only the comment stays.
            log.warning("could not replace the comment of an erased file at %s", ts)

    def _delete_file(self, file_id: str) -> dict:
        """The upload's comment names the sender: its messages are replaced, then the file goes."""
        shares = self.slack.client.files_info(file=file_id)["file"].get("shares") or {}
        for by_channel in shares.values():
            for channel, posts in by_channel.items():
                for post in posts:
                    self._replace_share(channel, post["ts"])
        self.slack.client.files_delete(file=file_id)
        return {"deleted": file_id}


def render_root(session: Session, ticket: Ticket, order_lookup: bool = False) -> tuple[str, list]:
    summary = ticket_summary(session, ticket, order_lookup)
    return root_text(summary), root_blocks(summary)


def render_message(message: Message) -> tuple[str, list]:
    view = message_view(message)
    if isinstance(view, AgentReply):
        return agent_reply_text(view), agent_reply_blocks(view)
    return customer_message_text(view), customer_message_blocks(view)


def rule_moved_from(session: Session, ticket: Ticket) -> tuple[str, str] | None:
    """The channel a policy rule took the ticket away from before its root was posted, and
    the rule's name."""
    moved = session.exec(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "channel_changed")
        .order_by(TicketEvent.id.desc())
    ).first()
    by_rule = moved is not None and moved.actor.startswith("rule:")
    if not by_rule or moved.data.get("new") != ticket.channel:
        return None
    return moved.data["old"], moved.actor.removeprefix("rule:")


def thread_of(ticket: Ticket) -> tuple[str, str | None]:
    return ticket.channel, ticket.thread_ts


def posted_ticket(session: Session, item: OutboxItem) -> Ticket:
    ticket = session.get(Ticket, item.ticket_id)
    if ticket.thread_ts is None:
        root = _given_up_root(session, ticket)
        if root is not None:
            # Waits, saying why and what to do, where `helpdesk outbox` lists it as stuck.
            raise RetryLater(
                f"waiting for the ticket's thread: its first post (outbox row {root.id}) "
                f"{root.status}: {root.last_error or 'no reason recorded'}; once that is "
                f"fixed, `helpdesk outbox retry {root.id}`",
                delay=ROOT_GIVEN_UP_RECHECK_SECONDS,
            )
        raise RetryLater("the ticket's root message is not in Slack yet", delay=5)
    return ticket


def _given_up_root(session: Session, ticket: Ticket) -> OutboxItem | None:
    """The ticket's root post, if it failed for good or was dropped and none is on its way."""
    latest = session.exec(
        select(OutboxItem)
        .where(OutboxItem.ticket_id == ticket.id, OutboxItem.kind == kinds.SLACK_POST_ROOT)
        .order_by(OutboxItem.id.desc())
    ).first()
    given_up = latest is not None and latest.status in (OutboxStatus.FAILED, OutboxStatus.DROPPED)
    return latest if given_up else None


def chart_shared(client: WebClient, channel: str, filename: str, since: datetime) -> bool:
    """Whether an earlier attempt's chart is already in the channel."""
    pages = client.conversations_history(
        channel=channel, oldest=f"{since.timestamp() - 60:.6f}", limit=200
    )
    for page in itertools.islice(pages, LOOKUP_PAGES):  # SlackResponse follows the cursor
        for message in page.get("messages", []):
            if any(file.get("name") == filename for file in message.get("files", ())):
                return True
    return False
