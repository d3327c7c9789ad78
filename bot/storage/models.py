"""The tables. Every change to them comes with an Alembic migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class Source(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    SLACK = "slack"


class Delivery(StrEnum):
    """Where an agent's reply to the customer stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up by the worker: `helpdesk outbox retry` can send it again
    DROPPED = "dropped"  # given up by an operator (`helpdesk outbox drop`)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # given up by the worker: `helpdesk outbox retry` can send it again
    DROPPED = "dropped"  # given up by an operator (`helpdesk outbox drop`)


class Counter(SQLModel, table=True):
    """Named sequences, such as the human ticket number, incremented under a row lock."""

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(sa_column=Column(BigInteger, nullable=False))


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    # The only thing kept from Shopify: what it shows is fetched when shown. Set only from
    # the Shopify customer with this address, never from an order the customer quoted.
    shopify_id: str | None = Field(default=None, max_length=64)
    # Shopify's figures for that customer as the thread's Shopify context last found them, so
    # the root's history line is read from storage, never fetched while it is built.
    shop_orders_count: int | None = None
    shop_total_spent: str | None = Field(default=None, max_length=64)  # "129.90 EUR"
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_solved_at", "solved_at"),
        Index("ix_tickets_first_response_at", "first_response_at"),
        Index("ix_tickets_updated_at", "updated_at"),
        # Open tickets per agent, counted whenever a pool assigns one.
        Index("ix_tickets_assignee_status", "assignee", "status"),
        Index("ix_tickets_pending_until", "pending_until"),
        # A customer's tickets by date: the root's history line and the paged History.
        Index("ix_tickets_customer_created", "customer_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    subject: str = Field(sa_column=Column(Text, nullable=False))
    status: TicketStatus = Field(default=TicketStatus.OPEN, sa_type=String(16))
    priority: Priority = Field(default=Priority.NORMAL, sa_type=String(16))
    # A VIP's ticket (the policy's `vip` section, or a rule): its own SLA targets, a badge.
    vip: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    source: Source = Field(default=Source.EMAIL, sa_type=String(16))
    customer_id: int = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    assignee: str | None = Field(default=None, max_length=32)
    # Unguessable part of the ticket's reply address (support+<token>@domain).
    reply_token: str = Field(max_length=64, unique=True)
    # The inbox the customer wrote to, when not the main support address: replies come from it.
    support_address: str | None = Field(default=None, max_length=320)
    # The Shopify customer an agent linked the ticket to once the customer proved it was them
    # (bot.core.customer_links): their orders may then be shown and inserted into replies.
    shopify_customer_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    solved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Measured once, when they happen, so metrics are plain SQL aggregates over columns.
    first_response_seconds: int | None = None
    first_response_business_seconds: int | None = None
    resolution_seconds: int | None = None
    resolution_business_seconds: int | None = None
    # Pending until this instant (a snooze): then it reopens by itself (bot.core.snooze).
    pending_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Merged into that ticket (bot.core.merging): closed, its mail and messages lead there.
    merged_into_id: int | None = Field(default=None, foreign_key="tickets.id")


class ReplyInProgress(SQLModel, table=True):
    """An agent with the Reply modal open on a ticket: one row per open modal, gone when it is
    submitted or closed, and disregarded (then swept) once `bot.core.replying`'s timeout passed,
    since Slack does not always say when a modal goes away."""

    __tablename__ = "replies_in_progress"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    agent: str = Field(max_length=32)
    view_id: str = Field(max_length=64, unique=True)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class TicketTag(SQLModel, table=True):
    __tablename__ = "ticket_tags"
    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    tag: str = Field(primary_key=True, max_length=64, index=True)


class Message(SQLModel, table=True):
    __tablename__ = "messages"
    # A Slack message is one note at most, however often Slack delivers its event.
    __table_args__ = (
        Index("ix_messages_created_at", "created_at"),
        # Finds the few chat replies still waiting to be seen, among all messages.
        Index("ix_messages_delivery", "delivery"),
        UniqueConstraint("ticket_id", "slack_ts", name="uq_messages_ticket_slack_ts"),
        UniqueConstraint("request_key", name="uq_messages_request_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    direction: Direction = Field(sa_type=String(16))
    source: Source = Field(sa_type=String(16))
    author: str = Field(max_length=320)
    author_name: str = Field(default="", max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the new visible text
    full_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Without angle brackets; unique so a redelivered mail is recognised and not doubled.
    email_message_id: str | None = Field(default=None, max_length=998, unique=True)
    # An inbound mail's thread root, the first id of its References (else its In-Reply-To):
    # the conversation it continues, which may be mail the helpdesk never received (a
    # shop's order confirmation). See bot/core/threading.py.
    email_thread_root: str | None = Field(default=None, max_length=998, index=True)
    # Why the sender of a customer's email is not verified (e.g. "dmarc=fail"); None: verified
    # or nothing said otherwise. Such mail never joins a ticket by its number or reply address.
    unverified_sender: str | None = Field(default=None, max_length=200)
    content_hash: str | None = Field(default=None, max_length=64)
    slack_ts: str | None = Field(default=None, max_length=32, index=True)
    # For outbound replies: whether the email went out, and why not.
    delivery: Delivery | None = Field(default=None, sa_type=String(16))
    delivery_error: str | None = Field(default=None, sa_column=Column(Text))
    # The Slack view that submitted this reply, so a resubmission sends nothing twice.
    request_key: str | None = Field(default=None, max_length=200)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChatConversation(SQLModel, table=True):
    """A website visitor's live chat; its messages are the ticket's messages."""

    __tablename__ = "chat_conversations"
    id: int | None = Field(default=None, primary_key=True)
    # What the widget names the conversation by; unguessable, so ids can't be enumerated.
    public_id: str = Field(max_length=32, unique=True)
    # SHA-256 of the visitor's token: the token itself is never stored.
    token_hash: str = Field(max_length=64)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    visitor_name: str = Field(default="", max_length=200)
    visitor_email: str | None = Field(default=None, max_length=320)
    page_url: str = Field(default="", max_length=2000)
    user_agent: str = Field(default="", max_length=500)
    # When the visitor last had the conversation open; decides whether a reply is emailed.
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # "#1001": the order the visitor proved in the widget's "Track my order" (its number and
    # email address matched Shopify) before asking for a person.
    verified_order: str | None = Field(default=None, max_length=32)


class SelfServiceSession(SQLModel, table=True):
    """One opening of the chat widget before any message: what the visitor read, and whether
    they left without writing (a deflection, counted on the day of `deflected_at`)."""

    __tablename__ = "self_service_sessions"
    id: int | None = Field(default=None, primary_key=True)
    # SHA-256 of the session's token, which the widget holds; the token is never stored.
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    article_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    conversation_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deflected_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class OrderLookup(SQLModel, table=True):
    """One "Track my order" answer. A match keeps what the visitor proved, under the hash of a
    token they may spend once to ask for a person with the order attached; a mismatch keeps
    nothing but its time (never what was typed)."""

    __tablename__ = "order_lookups"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    matched: bool
    proof_hash: str | None = Field(default=None, max_length=64, unique=True)
    order_name: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=320)
    shopify_customer_id: str | None = Field(default=None, max_length=64)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """A file that came with a customer's mail, kept under HELPDESK_DATA_DIR."""

    __tablename__ = "attachments"
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="messages.id", index=True)
    filename: str = Field(max_length=255)  # made safe to show and to store
    content_type: str = Field(max_length=255)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    inline: bool = False
    # Relative to the data directory; None when the file was not kept (see `refused`).
    stored_path: str | None = Field(default=None, max_length=500)
    refused: str | None = Field(default=None, max_length=200)  # why it isn't in Slack
    slack_file_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ImapCursor(SQLModel, table=True):
    """How far the IMAP poller has read a mailbox: UIDs are only valid with their UIDVALIDITY."""

    __tablename__ = "imap_cursors"
    mailbox: str = Field(primary_key=True, max_length=500)  # user@host/folder
    uid_validity: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Escalation(SQLModel, table=True):
    """A ticket handed to an escalation tier; open until taken back down (resolved)."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("request_key", name="uq_escalations_request_key"),
        Index("ix_escalations_waiting", "resolved_at", "taken_at", "reannounced_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    tier: int  # index into the policy's tiers
    tier_name: str = Field(max_length=100)
    channel: str = Field(max_length=32)
    urgency: str = Field(default="normal", sa_type=String(16))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    escalated_by: str = Field(max_length=32)
    # The Slack request that asked for it, so a redelivery or double submit escalates once.
    request_key: str | None = Field(default=None, max_length=200)
    post_ts: str | None = Field(default=None, max_length=32)
    taken_by: str | None = Field(default=None, max_length=32)
    taken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reannounced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=32)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaClock(SQLModel, table=True):
    """One SLA target on one ticket, counted in business time.

    Running: `running_since` is set and `due_at`/`warn_at` are wall-clock instants. Paused:
    only `consumed_seconds` counts. Stopped: `stopped_at` and `outcome` are set. The sweep
    looks only at rows whose `due_at`/`warn_at` have passed, through the two indexes.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index("ix_sla_clocks_breach_due", "breached", "due_at"),
        Index("ix_sla_clocks_warning_due", "warned", "warn_at"),
        Index("ix_sla_clocks_ticket_kind", "ticket_id", "kind"),
        Index("ix_sla_clocks_stopped_at", "stopped_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    kind: str = Field(sa_type=String(32))  # first_response, next_response or resolution
    target_seconds: int
    consumed_seconds: int = 0
    started_at: datetime = Field(sa_type=UTCDateTime)
    running_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warned: bool = False
    breached: bool = False
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, sa_type=String(16))  # met or breached


class SlaAlert(SQLModel, table=True):
    """A warning or breach announced; unique, so each is sent once whoever sweeps."""

    __tablename__ = "sla_alerts"
    __table_args__ = (UniqueConstraint("clock_id", "kind", name="uq_sla_alerts_clock_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    clock_id: int = Field(foreign_key="sla_clocks.id")
    kind: str = Field(sa_type=String(16))  # warning or breach
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CsatSurvey(SQLModel, table=True):
    """A satisfaction survey sent when a ticket was solved, and the customer's answer."""

    __tablename__ = "csat_surveys"
    __table_args__ = (Index("ix_csat_surveys_customer_sent", "customer_id", "sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    customer_id: int = Field(foreign_key="customers.id")
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    rating: int | None = None  # 1 to 5
    comment: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # The one thread message showing the answer; later changes update it rather than post.
    slack_ts: str | None = Field(default=None, max_length=32)


class NpsState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for `due_at`
    SENT = "sent"
    CANCELLED = "cancelled"  # the ticket was reopened, or its customer erased, before it was due
    SKIPPED_CSAT = "skipped_csat"  # the ticket got a CSAT survey
    SKIPPED_RECENT = "skipped_recent"  # the customer was asked within `nps.once_per`


class NpsSurvey(SQLModel, table=True):
    """A Net Promoter Score question scheduled when a ticket was solved, and its answer."""

    __tablename__ = "nps_surveys"
    __table_args__ = (
        Index("ix_nps_surveys_state_due", "state", "due_at"),
        Index("ix_nps_surveys_customer_sent", "customer_id", "sent_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    customer_id: int = Field(foreign_key="customers.id")
    state: NpsState = Field(default=NpsState.SCHEDULED, sa_type=String(16))
    due_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    score: int | None = None  # 0 to 10
    comment: str | None = Field(default=None, sa_column=Column(Text))
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Acknowledgement(SQLModel, table=True):
    """The latest automatic acknowledgement claimed for a customer (a sender's address): one
    row each, so that two mails from one sender stored at once can't both claim one."""

    __tablename__ = "acknowledgements"
    customer_id: int = Field(foreign_key="customers.id", primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    acknowledged_at: datetime = Field(sa_type=UTCDateTime)


class DigestRun(SQLModel, table=True):
    """One daily digest sent; unique per day and channel, whoever sends it."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("day", "channel", name="uq_digest_runs_day_channel"),)
    id: int | None = Field(default=None, primary_key=True)
    day: date
    channel: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DailyFigures(SQLModel, table=True):
    """The metrics of one closed local day in one time zone, in a form that adds up over days
    (`bot/core/metrics.py`'s `Tally`), so a month's figures read 30 rows. Kept only for days
    that ended a while ago; a later change to something a day counted deletes its row."""

    __tablename__ = "daily_figures"
    zone: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)  # the day's local midnights, in UTC
    ends_at: datetime = Field(sa_type=UTCDateTime)
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class AiUsageDay(SQLModel, table=True):
    """What the policy's AI server was asked on one local day (the policy's time zone): for
    `/helpdesk stats` and anyone watching the bill (`bot/core/ai_usage.py`)."""

    __tablename__ = "ai_usage_days"
    day: date = Field(primary_key=True)
    requests: int = Field(default=0, sa_type=BigInteger)
    failures: int = Field(default=0, sa_type=BigInteger)
    prompt_tokens: int = Field(default=0, sa_type=BigInteger)
    completion_tokens: int = Field(default=0, sa_type=BigInteger)


class SavedReply(SQLModel, table=True):
    __tablename__ = "saved_replies"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=75, unique=True)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketMove(SQLModel, table=True):
    """Messages moved from one ticket to another by a merge or a split (`bot.core.merging`,
    `bot.core.splitting`): what moved, so that the same day it can be moved back."""

    __tablename__ = "ticket_moves"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))  # merge or split
    from_ticket_id: int = Field(foreign_key="tickets.id", index=True)
    to_ticket_id: int = Field(foreign_key="tickets.id", index=True)
    message_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The merged ticket's tags the kept one did not have: an unmerge takes only these away.
    tags_added: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    from_status: str = Field(sa_type=String(16))  # what an unmerge gives the merged ticket back
    actor: str = Field(max_length=32)
    # The Slack view that asked for it, so a resubmission moves nothing twice.
    request_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: str | None = Field(default=None, max_length=32)


class TicketEvent(SQLModel, table=True):
    """Append-only log of every state change: what, who, when."""

    __tablename__ = "ticket_events"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    kind: str = Field(max_length=64)
    actor: str = Field(max_length=320)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxItem(SQLModel, table=True):
    """An effect on the outside world, written in the same transaction as the change causing it.

    Items of one ticket are delivered strictly in id order; `claimed_until` is a lease so
    that several workers (or processes, on PostgreSQL) never send the same item at once.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_ticket_status", "ticket_id", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id")
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Coalesces effects that need to happen once while waiting (e.g. re-render a root).
    dedupe_key: str | None = Field(default=None, max_length=200)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=String(16))
    attempts: int = 0
    # Of those, the ones whose deliverer raised something unexpected (a bug, or content it
    # can't handle): a row is given up after POISON_ATTEMPTS of these, however many times a
    # passing outage made it wait before.
    raised: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Set while a send may have reached the far side without us hearing back (a crash, a
    # broken connection); the next attempt first looks for it there instead of resending.
    in_doubt: bool = False
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SharedStateEntry(SQLModel, table=True):
    """What `helpdesk serve` processes sharing a PostgreSQL database share besides the tables
    above: channel pauses, rate limits and cached answers (`bot/storage/postgres_state.py`).

    `until` is seconds since the epoch on the database's clock, so the processes' own clocks
    never disagree about it; a row past it is dead and swept away.
    """

    __tablename__ = "shared_state"
    key: str = Field(primary_key=True, sa_type=Text)
    until: float
    value: str | None = Field(default=None, sa_type=Text)


class SlackInboxEntry(SQLModel, table=True):
    """A Slack request acknowledged before any work on it: its raw body (and HTTP headers, or
    none for a Socket Mode payload) kept until `bot/handlers/slack/inbox.py` has replayed it.

    On PostgreSQL in the main database; on SQLite in a database file of its own beside the
    main one, so that no writer holding the main file's lock ever delays an acknowledgement.
    `key` (the event's id, else a digest of the body) makes a retried request one row;
    `lane` (the channel and thread) orders the replays; `owner` and `claimed_until` lease the
    row to one process, which renews the lease while it holds it.
    """

    __tablename__ = "slack_inbox"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)
    lane: str = Field(sa_type=Text)
    body: str = Field(sa_type=Text)
    headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    owner: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class SlackRequestHandled(SQLModel, table=True):
    """A replayed Slack request whose changes are committed: written in the same transaction
    as they are, so a replay after a crash, or Slack's retry, changes nothing twice."""

    __tablename__ = "slack_requests_handled"
    key: str = Field(primary_key=True, max_length=128)
    handled_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AssignmentPoolState(SQLModel, table=True):
    """A pool of agents' turn, shared by every process: locked (`SELECT … FOR UPDATE`) while
    one ticket is assigned from it (`bot/core/assignment.py`), so two processes never pick
    from the same turn nor both fill an agent's last free place.

    `last_agent` is whom the pool gave its last ticket to (round-robin starts after them);
    `told_unavailable` is set once the pool's channel has heard that nobody can take tickets,
    and cleared by the next assignment, so a burst of tickets is announced once.
    """

    __tablename__ = "assignment_pools"
    name: str = Field(primary_key=True, max_length=64)
    last_agent: str | None = Field(default=None, max_length=32)
    told_unavailable: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RuleFiring(SQLModel, table=True):
    """A policy rule that acted on a ticket for one trigger (`opened`, `customer_message`):
    written in the transaction of its actions, and unique, so a retried or replayed delivery
    can never make a rule act twice on the same ticket for the same trigger."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        UniqueConstraint("ticket_id", "rule", "trigger", name="uq_rule_firings_ticket_rule"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id")
    rule: str = Field(max_length=100)
    trigger: str = Field(max_length=32)
    fired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketOrigin(SQLModel, table=True):
    """The Slack message a ticket was made from (the "Make a ticket" shortcut, a :ticket:
    reaction, a Slack Connect channel): at most one ticket per message, whoever asks twice.

    `in_thread`: the requester is that Slack user, not an email address, so the agents'
    answers go to the message's own thread (`slack.thread_reply`), never by email.
    """

    __tablename__ = "ticket_origins"
    __table_args__ = (UniqueConstraint("channel", "ts", name="uq_ticket_origins_channel_ts"),)
    ticket_id: int = Field(foreign_key="tickets.id", primary_key=True)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    # The thread the message is a reply in; None for a top-level message, its own thread.
    thread_ts: str | None = Field(default=None, max_length=32)
    author: str = Field(max_length=32)  # the Slack user who wrote the message
    in_thread: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def thread(self) -> str:
        """The ts of the thread the links and answers go to."""
        return self.thread_ts or self.ts


class KbArticle(SQLModel, table=True):
    """A knowledge-base article as search, Slack and the help centre read it: the index of the
    Markdown file `<kb.path>/<slug>.md`, which is the article itself (bot/core/kb.py keeps the
    two in step). The full-text index over `title`, `tags` and `plain` is the migration's
    (0028): an FTS5 table on SQLite, a generated `tsvector` column on PostgreSQL."""

    __tablename__ = "kb_articles"
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=200)
    tags: str = Field(default="", max_length=1000)  # comma-separated, as searched
    body: str = Field(sa_column=Column(Text, nullable=False))  # the Markdown
    plain: str = Field(sa_column=Column(Text, nullable=False))  # its text, searched and quoted
    # ISO 639-1 code; "" when unknown. Indexed: PostgreSQL's search asks which are in use.
    language: str = Field(default="", max_length=8, index=True)
    public: bool = True
    # The file as last read: a scan re-reads only files whose time or size differ.
    file_mtime_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ShopAction(SQLModel, table=True):
    """An action in the shop taken from a ticket (a refund, a cancellation, a new address, a
    reshipment, a discount code), recorded before anything is sent to Shopify.
    `idempotency_key` is unique: the same form submitted twice, or Slack's retry of it, is
    the same row, and it travels to Shopify (a refund's `@idempotent` key, its note) so an
    answer lost on the way can be found there. `in_flight` holds the order's id (a discount:
    its code) while the action is undecided or being sent, and is cleared when it ends;
    unique, so two agents can't have two actions on one order under way at once
    (`bot/core/shop_actions.py`).
    """

    __tablename__ = "shop_actions"
    __table_args__ = (Index("ix_shop_actions_requester_created", "requested_by", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    kind: str = Field(max_length=16)  # refund | cancel | address | reship | discount
    order_id: str | None = Field(default=None, max_length=64)  # Shopify GID
    order_name: str | None = Field(default=None, max_length=32)  # "#1001"
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Money the action moves, as asked (a refund's suggested total), as Shopify writes decimals
    # ("12.50": exact on both backends); what Shopify actually refunded is in `result`.
    amount: str | None = Field(default=None, max_length=32)
    currency: str | None = Field(default=None, max_length=3)
    requested_by: str = Field(max_length=32)
    state: str = Field(max_length=24, index=True)
    approver: str | None = Field(default=None, max_length=32)  # who approved or declined
    approval_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    idempotency_key: str = Field(max_length=64, unique=True)
    in_flight: str | None = Field(default=None, max_length=128, unique=True)
    # Shopify's ids of what it made (the refund, the draft order, the discount …) and amounts.
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Shopify's userErrors ([{field, message, code}]) or why it was refused or failed.
    errors: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    view_id: str | None = Field(default=None, max_length=64)  # the modal told the outcome
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
