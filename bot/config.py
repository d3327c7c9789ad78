"""Settings (environment and `.env`) and Policy (YAML), both validated at start-up.

A bad value must stop the program with one line naming the setting, the value and what
is expected; `ConfigError` carries that line and the CLI prints it without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.redaction import redact_setting
from bot.rule_policy import Rule, address_or_domain, one_or_many, rule_problems


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix it."""


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("expected a duration such as 45s, 30m, 4h or 3d")
    amount, unit = match.groups()
    if int(amount) == 0:
        raise ValueError("a duration must be more than zero")
    return timedelta(**{_UNITS[unit]: int(amount)})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def duration_text(seconds: int) -> str:
    """Seconds as the policy writes them: 4h, 90m, 45s."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _host_port(value: str) -> str:
    if value == "":
        return value
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected host:port such as 127.0.0.1:2525, or empty to disable")
    return value


def _email_address(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", value):
        raise ValueError("expected a plain address such as support@example.com")
    return value.lower()


def _channel_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"[CGD][A-Z0-9]{2,}", value):
        raise ValueError("expected a Slack channel ID such as C0123ABCD (not a #name)")
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]

SECRET_KEY_MIN_LENGTH = 16


class Settings(BaseSettings):
    """Secrets and endpoints, from the environment (and `.env`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    helpdesk_support_channel: ChannelId | None = None
    helpdesk_escalation_channel: ChannelId | None = None
    helpdesk_digest_channel: ChannelId | None = None
    helpdesk_config: Path | None = None

    database_url: str = "sqlite:///./helpdesk.db"
    # Where several processes share channel pauses, rate limits and cached answers; unset, they
    # share them through PostgreSQL (or keep them in memory, on SQLite).
    redis_url: str | None = None
    helpdesk_http_host: str = "127.0.0.1"
    helpdesk_http_port: int = Field(default=3000, ge=0, le=65535)
    helpdesk_public_url: str = "http://localhost:3000"

    helpdesk_support_address: Annotated[str | None, AfterValidator(_email_address)] = None
    helpdesk_smtp_listen: Annotated[str, AfterValidator(_host_port)] = "127.0.0.1:2525"
    helpdesk_max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    outbound_smtp_url: str | None = None
    # How long a crashed sender's claim on an outbox row blocks a retry; above any send's time.
    helpdesk_outbox_lease_seconds: int = Field(default=60, ge=5)
    # The outbox's first wait before it tries a failing service again, or a row whose delivery
    # raised; each further failure doubles it.
    helpdesk_outbox_retry_seconds: float = Field(default=1.0, gt=0)
    # The longest a failing service is left alone: how long a backlog can sit idle after the
    # service is back.
    helpdesk_outbox_max_pause_seconds: float = Field(default=15.0, gt=0)

    # `json`: one JSON object per log line, for log collectors; `text` for people.
    helpdesk_log_format: Literal["text", "json"] = "text"

    # Signs the links in customer surveys; without it no survey is sent.
    helpdesk_secret_key: str | None = None

    imap_url: str | None = None
    imap_poll_seconds: int = Field(default=30, gt=0)
    # Where files that come with customer mail are kept.
    helpdesk_data_dir: Path = Path("./data")

    shopify_shop: str | None = None
    shopify_access_token: str | None = None
    shopify_api_version: str = Field(default="2026-10", pattern=r"^(\d{4}-\d{2}|unstable)$")
    shopify_api_url: str | None = None

    # The key of the policy's `ai.base_url` server; drafted replies are off without it.
    ai_api_key: str | None = None

    @field_validator("shopify_shop")
    @classmethod
    def _shop_handle(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        handle = value.strip().lower().removeprefix("https://").split("/")[0]
        handle = handle.removesuffix(".myshopify.com")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", handle):
            raise ValueError("expected the shop's handle, e.g. myshop for myshop.myshopify.com")
        return handle

    @field_validator("shopify_api_url")
    @classmethod
    def _shopify_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not re.fullmatch(r"https?://[^\s/]+/\S*", value.strip() + "/"):
            raise ValueError("expected a URL such as http://127.0.0.1:8081/admin/api/2026-10")
        return value.strip().rstrip("/")

    @property
    def shopify_enabled(self) -> bool:
        return bool(self.shopify_shop or self.shopify_api_url)

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("expected a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("expected an app-level token starting with xapp-")
        return value

    @field_validator("helpdesk_secret_key")
    @classmethod
    def _secret_key_length(cls, value: str | None) -> str | None:
        if value is not None and len(value) < SECRET_KEY_MIN_LENGTH:
            raise ValueError(
                f"expected at least {SECRET_KEY_MIN_LENGTH} random characters, e.g. from "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("expected sqlite:///path.db or postgresql://user@host/db")
        if value.startswith(("postgres:", "postgresql:")):
            # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
            value = "postgresql+psycopg:" + value.split(":", 1)[1]
        # SQLAlchemy is imported here, not at the top: a command that stops at `--help` or at
        # another setting never loads it (see bot.cli.main).
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:  # here rather than at the first connection, so a typo is one line at start-up
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "not a database URL: expected sqlite:///path.db or postgresql://user@host/db "
                "(a port is a number; special characters in a password are %-encoded)"
            ) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:6379/0, rediss://… or unix:///path.sock")
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def smtp_listen(self) -> tuple[str, int] | None:
        if not self.helpdesk_smtp_listen:
            return None
        host, _, port = self.helpdesk_smtp_listen.rpartition(":")
        return host, int(port)

    @property
    def escalation_channel(self) -> str | None:
        return self.helpdesk_escalation_channel or self.helpdesk_support_channel

    @property
    def digest_channel(self) -> str | None:
        return self.helpdesk_digest_channel or self.helpdesk_support_channel


class _PolicyModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaTarget(_PolicyModel):
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None


class SlaPolicy(_PolicyModel):
    urgent: SlaTarget | None = None
    high: SlaTarget | None = None
    normal: SlaTarget | None = None
    low: SlaTarget | None = None
    warn_at: float = Field(default=0.75, gt=0, lt=1)
    sweep_every: Duration = timedelta(seconds=60)


class EscalationTier(_PolicyModel):
    name: str
    channel: ChannelId
    notify: list[str] = []


class EscalationPolicy(_PolicyModel):
    tiers: list[EscalationTier] = []
    # An escalation nobody has taken by then is announced once more in its tier's channel.
    unacknowledged_after: Duration = timedelta(minutes=30)


class DigestPolicy(_PolicyModel):
    channel: ChannelId | None = None
    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class CsatPolicy(_PolicyModel):
    enabled: bool = True
    # How long a survey's rating links work, counted from when the ticket was solved.
    token_ttl: Duration = timedelta(days=14)
    # A customer is surveyed at most once in this period, however many tickets they have.
    once_per: Duration = timedelta(days=30)


class NpsPolicy(_PolicyModel):
    """Net Promoter Score surveys, sent a while after a ticket is solved (docs/policy.md)."""

    enabled: bool = False
    # How long after the ticket is solved the question goes out; reopening cancels it.
    after: Duration = timedelta(days=3)
    # A customer is asked at most once in this period, however many tickets they have.
    once_per: Duration = timedelta(days=90)
    # How long a survey's links work, counted from when it was sent.
    token_ttl: Duration = timedelta(days=14)
    # The name in "How likely are you to recommend <shop_name> to a friend?".
    shop_name: str | None = Field(default=None, min_length=1, max_length=80)


def _origin(value: str) -> str:
    value = value.strip().rstrip("/")
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", value):
        raise ValueError("expected an origin such as https://shop.example.com (no path)")
    return value.lower()


def _http_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#@]+(/[^\s?#]*)?", value):
        raise ValueError("expected a URL such as http://127.0.0.1:8000/v1")
    return value


def _colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError("expected a colour such as #1f6feb")
    return value


class ChatPolicy(_PolicyModel):
    title: str = Field(default="Chat with us", max_length=60)
    color: Annotated[str, AfterValidator(_colour)] = "#1f6feb"
    greeting: str = Field(default="Hi! How can we help?", max_length=300)
    # The storefronts allowed to embed the widget; the helpdesk's own /chat/ page always is.
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = []
    channel: ChannelId | None = None
    tags: list[str] = []
    # A reply the visitor hasn't seen is emailed once they have been away this long.
    away_after: Duration = timedelta(minutes=5)
    resume_for: Duration = timedelta(days=30)
    max_message_chars: int = Field(default=5000, ge=1, le=50_000)
    visitor_messages_per_minute: int = Field(default=30, ge=1)
    ip_requests_per_minute: int = Field(default=300, ge=1)
    ip_conversations_per_hour: int = Field(default=30, ge=1)
    # Self-service before writing (docs/chat.md, "Self-service"), per IP address unless said.
    ip_suggestions_per_minute: int = Field(default=60, ge=1)
    ip_self_service_sessions_per_hour: int = Field(default=60, ge=1)
    ip_order_lookups_per_hour: int = Field(default=10, ge=1)
    # Per order number, whoever asks: how often an order's email address can be guessed at.
    order_lookups_per_order_per_hour: int = Field(default=5, ge=1)


class KbPolicy(_PolicyModel):
    """The knowledge base: Markdown articles in a folder (docs/policy.md, "Knowledge base")."""

    # Relative to the working directory, as HELPDESK_DATA_DIR is.
    path: Path
    # The help centre's heading and page titles: the shop's name. Its colour is chat.color.
    name: str = Field(default="Help centre", min_length=1, max_length=80)
    # How often, at most, the folder is looked at for changed files (on a request that reads it).
    rescan_every: Duration = timedelta(seconds=2)


class AiPolicy(_PolicyModel):
    """An OpenAI-compatible chat-completions server that drafts replies for agents to edit
    (docs/policy.md, "Drafted replies"); its key is AI_API_KEY."""

    base_url: Annotated[str, AfterValidator(_http_url)]
    model: str = Field(min_length=1, max_length=200)
    # The agent is looking at "Drafting…": past this, a note says the server took too long.
    timeout: Duration = timedelta(seconds=20)
    # Ask for the answer as server-sent events (for servers that only stream, or keep a slow
    # connection alive); the result is the same text.
    stream: bool = False
    max_tokens: int = Field(default=700, ge=50, le=4000)


def _user_id(value: str) -> str:
    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", value):
        raise ValueError("expected a Slack user ID such as U0123ABCD (not a @name)")
    return value


UserId = Annotated[str, AfterValidator(_user_id)]
SHOP_ACTIONS = ("refund", "cancel", "address", "reship", "discount")
ShopActionName = Literal["refund", "cancel", "address", "reship", "discount"]


class ActionLimits(_PolicyModel):
    """What an agent (or a user group's members) may do in the shop without an approver.
    Unset money limits are no limit; `actions` unset allows every action.
    """

    refund_max: Decimal | None = Field(default=None, ge=0)  # per refund
    refund_daily_max: Decimal | None = Field(default=None, ge=0)  # per agent and local day
    actions: list[ShopActionName] | None = None


def _limits_owner(value: str) -> str:
    if value == "default":
        return value
    if re.fullmatch(r"[UWS][A-Z0-9]{2,}", value):
        return value
    raise ValueError("expected a Slack user ID (U0123ABCD), a user group ID (S0123ABCD) or default")


class ShopifyPolicy(_PolicyModel):
    # A busy thread asks once, not on every click; orders change slowly enough for this.
    cache_for: Duration = timedelta(minutes=5)
    recent_orders: int = Field(default=5, ge=1, le=20)
    timeout: Duration = timedelta(seconds=10)
    # Who may approve an action over someone's limits (bot/core/shop_actions.py).
    approvers: list[UserId] = []
    # Per agent id, user group id, or `default` for everyone else; see docs/policy.md.
    limits: dict[Annotated[str, AfterValidator(_limits_owner)], ActionLimits] = {}
    # An approval request not decided by then can no longer be approved.
    approval_expires_after: Duration = timedelta(hours=24)

    @model_validator(mode="after")
    def _someone_approves(self) -> ShopifyPolicy:
        if self.limits and not self.approvers:
            raise ValueError(
                "shopify.limits is set but shopify.approvers is empty: an action over a limit "
                "could never be approved; name at least one approver's user ID"
            )
        return self


class VipPolicy(_PolicyModel):
    """Who is a VIP (any of the criteria), and what that gives their tickets."""

    total_spent_gte: Decimal | None = Field(default=None, ge=0)
    orders_count_gte: int | None = Field(default=None, ge=0)
    tags_any: Annotated[list[str], BeforeValidator(one_or_many)] = []
    from_: Annotated[
        list[Annotated[str, AfterValidator(address_or_domain)]], BeforeValidator(one_or_many)
    ] = Field(default=[], alias="from")
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    sla: SlaTarget | None = None  # VIP tickets' own targets; a clock left out keeps its priority's

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _some_criterion(self) -> VipPolicy:
        if not (
            self.total_spent_gte is not None
            or self.orders_count_gte is not None
            or self.tags_any
            or self.from_
        ):
            raise ValueError(
                "names no VIP: give total_spent_gte, orders_count_gte, tags_any or from"
            )
        return self


class MailPolicy(_PolicyModel):
    # Attachments over this are listed in the thread, not uploaded (Slack's own limit is 1 GB).
    max_attachment_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    # Files of one message uploaded to Slack; the rest are listed (name and size) in one
    # note, so a mail with a thousand files costs the thread two messages, not a hundred.
    max_uploads_per_message: int = Field(default=10, gt=0)
    # Where the IMAP poller moves a message once it is stored; unset: it is only marked seen.
    imap_move_to: str | None = None
    # A sender who opened this many tickets within an hour adds further mail to the newest
    # of them instead of opening more: a mail loop or a misfiring system can't flood Slack.
    loop_limit_per_hour: int = Field(default=20, ge=1)
    # The authserv-id the receiving mail server writes in Authentication-Results (e.g.
    # mx.google.com); unset: only the topmost such header is trusted (bot/mail/authentication.py).
    authserv_id: str | None = Field(default=None, min_length=1, max_length=255)


# What an acknowledgement's template may say; bot/core/acknowledgements.py fills each one.
# Here, not in the core, so that a template naming anything else stops the start-up.
ACKNOWLEDGEMENT_PLACEHOLDERS = (
    "customer.first_name",
    "customer.name",
    "ticket.number",
    "ticket.subject",
    "ticket.reply_by",
    "order.name",
    "order.status",
    "order.tracking_url",
    "order.summary",
    "help_centre.summary",  # a line with the help centre's address; empty without `kb`
)
DEFAULT_ACKNOWLEDGEMENT = """Hi {{customer.first_name}},

Thanks for writing to us. Your request is ticket #{{ticket.number}}, and we'll reply by \
{{ticket.reply_by}}.

{{order.summary}}

{{help_centre.summary}}

This is an automatic message. To add anything, reply to this email.
"""
# Anything in double braces, well-formed or not: what isn't a placeholder would reach the
# customer as raw braces.
_BRACED = re.compile(r"\{\{([^{}]*)\}\}")


def unknown_placeholders(text: str, known: Iterable[str]) -> list[str]:
    """Each `{{…}}` in `text` that is not one of the `known` names, as written, once, in order."""
    known = set(known)
    found = (m.group(0) for m in _BRACED.finditer(text) if m.group(1).strip() not in known)
    return list(dict.fromkeys(found))


def _template(value: str) -> str:
    if unknown := unknown_placeholders(value, ACKNOWLEDGEMENT_PLACEHOLDERS):
        known = ", ".join(f"{{{{{name}}}}}" for name in ACKNOWLEDGEMENT_PLACEHOLDERS)
        raise ValueError(f"{unknown[0]} is not a placeholder; use {known}")
    if not value.strip():
        raise ValueError("the template is empty")
    return value


Template = Annotated[str, AfterValidator(_template)]


class AcknowledgementPolicy(_PolicyModel):
    """The automatic reply a new email ticket gets (RFC 3834). Off unless the section is
    written: writing it turns it on, unless it says `enabled: false`."""

    enabled: bool = True
    template: Template = DEFAULT_ACKNOWLEDGEMENT
    # At most one acknowledgement per sender in this period, whichever inbox they wrote to.
    once_per: Duration = timedelta(days=1)


class InboxAcknowledgement(_PolicyModel):
    """An inbox's own acknowledgement: what it says overrides the top-level section; written
    at all, it is on unless it says `enabled: false`."""

    enabled: bool = True
    template: Template | None = None
    once_per: Duration | None = None


def _switch(value: Any) -> Any:
    """`acknowledgement: false` (or true) as shorthand for `{enabled: false}`."""
    return {"enabled": value} if isinstance(value, bool) else value


class Inbox(_PolicyModel):
    address: Annotated[str, AfterValidator(_email_address)]
    channel: ChannelId
    tags: list[str] = []
    acknowledgement: Annotated[InboxAcknowledgement | None, BeforeValidator(_switch)] = None


_HOURS = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def days_of(day_range: str) -> list[int]:
    """`mon-fri` as [0, 1, 2, 3, 4]; `sat` as [5]."""
    parts = day_range.split("-")
    if not 1 <= len(parts) <= 2 or any(p not in _DAYS for p in parts):
        raise ValueError(f"day range {day_range!r}: expected e.g. mon-fri or sat")
    first, last = _DAYS.index(parts[0]), _DAYS.index(parts[-1])
    if last < first:
        raise ValueError(f"day range {day_range!r} runs backwards; write e.g. mon-fri")
    return list(range(first, last + 1))


def _business_hours(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if not value:
        raise ValueError("no day is open; give some hours, or omit business_hours for 24/7")
    seen: dict[int, str] = {}
    for day_range, hours in value.items():
        for day in days_of(day_range):
            if day in seen:
                raise ValueError(
                    f"{_DAYS[day]} is in both {seen[day]!r} and {day_range!r}; give each day once"
                )
            seen[day] = day_range
        if not _HOURS.match(str(hours)):
            raise ValueError(f"hours {hours!r}: expected HH:MM-HH:MM such as 09:00-18:00")
        start, end = str(hours).split("-")
        if end <= start:
            raise ValueError(
                f"hours {hours!r} end before they start; hours must lie within one day"
            )
    return value


def _iso_date(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("expected a date such as 2026-12-25") from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("expected an IANA time zone such as America/New_York") from None
    return value


def _usergroup_id(value: str) -> str:
    if not re.fullmatch(r"S[A-Z0-9]{2,}", value):
        raise ValueError("expected a Slack user group ID such as S0123ABCD")
    return value


POOL_TARGET = "pool:"


class Pool(_PolicyModel):
    """Agents tickets are assigned among: listed, or a Slack user group's members."""

    agents: list[UserId] | None = None
    usergroup: Annotated[str, AfterValidator(_usergroup_id)] | None = None
    strategy: Literal["round_robin", "least_open"] = "round_robin"
    # The most open (or pending) tickets an agent holds before the pool passes them over.
    max_open: int | None = Field(default=None, ge=1)
    skip_away: bool = True  # agents whose Slack presence is away are passed over
    # Told (once, until an assignment from the pool succeeds) when nobody can take a ticket;
    # unset: the support channel.
    channel: ChannelId | None = None

    @model_validator(mode="after")
    def _one_source_of_members(self) -> Pool:
        if self.agents is not None and self.usergroup is not None:
            raise ValueError("give agents or usergroup, not both")
        if self.agents is None and self.usergroup is None:
            raise ValueError("no members: give agents (a list of user IDs) or usergroup")
        if self.agents is not None and not self.agents:
            raise ValueError("agents is empty: a pool needs at least one agent")
        if self.agents is not None and len(set(self.agents)) != len(self.agents):
            raise ValueError("agents names someone twice")
        return self


class AssignmentPolicy(_PolicyModel):
    pools: dict[Annotated[str, Field(min_length=1, max_length=64)], Pool] = {}
    # New tickets no rule assigned go to this pool; unset: they stay unassigned.
    default_pool: str | None = None

    @model_validator(mode="after")
    def _default_pool_exists(self) -> AssignmentPolicy:
        if self.default_pool is not None and (
            problem := self.target_problem(POOL_TARGET + self.default_pool)
        ):
            raise ValueError(f"default_pool: {problem}")
        return self

    def target_problem(self, target: str) -> str | None:
        """Why a rule's `assign:` target can't be used (None when it can): a user ID, or
        `pool:<name>` naming a pool here."""
        if target.startswith(POOL_TARGET):
            name = target.removeprefix(POOL_TARGET)
            if name not in self.pools:
                known = ", ".join(sorted(self.pools)) or "none defined"
                return f"no pool named {name!r} under assignment.pools (pools: {known})"
            return None
        try:
            _user_id(target)
        except ValueError:
            return f"{target!r}: expected a Slack user ID such as U0123ABCD, or pool:<name>"
        return None


def _emoji(value: object) -> str | None:
    """An emoji's name as Slack names it in reactions (`eyes`, not `:eyes:` nor 👀); null or
    false turns that reaction off."""
    if value is None or value is False:
        return None
    name = str(value).strip().strip(":")
    if not re.fullmatch(r"[a-z0-9_+'-]+", name):
        raise ValueError("expected an emoji's name such as eyes or white_check_mark")
    return name


Emoji = Annotated[str | None, BeforeValidator(_emoji)]


class ReactionsPolicy(_PolicyModel):
    """What an agent's emoji reaction does; each key's emoji, or null/false for none."""

    ticket: Emoji = "ticket"  # on any message: a ticket made from it
    claim: Emoji = "eyes"  # on a ticket's root: assigned to whoever reacted
    solve: Emoji = "white_check_mark"  # on a ticket's root: solved

    def action_of(self, emoji: str) -> str | None:
        """Which of ticket, claim and solve the emoji does, or None."""
        return next((key for key, name in self if name == emoji), None)


class Policy(_PolicyModel):
    """The team's policy, from the YAML file; every key optional."""

    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    business_hours: Annotated[dict[str, str] | None, AfterValidator(_business_hours)] = None
    holidays: list[Annotated[str, AfterValidator(_iso_date)]] = []
    sla: SlaPolicy = SlaPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    digest: DigestPolicy = DigestPolicy()
    csat: CsatPolicy = CsatPolicy()
    nps: NpsPolicy = NpsPolicy()
    chat: ChatPolicy = ChatPolicy()
    shopify: ShopifyPolicy = ShopifyPolicy()
    mail: MailPolicy = MailPolicy()
    acknowledgement: Annotated[AcknowledgementPolicy, BeforeValidator(_switch)] = (
        AcknowledgementPolicy(enabled=False)
    )
    inboxes: list[Inbox] = []
    tags: list[str] = []
    agents: list[str] | None = None
    assignment: AssignmentPolicy = AssignmentPolicy()
    # In order; see docs/policy.md and bot/rule_policy.py.
    rules: list[Rule] = []
    vip: VipPolicy | None = None
    kb: KbPolicy | None = None
    ai: AiPolicy | None = None

    @model_validator(mode="after")
    def _rules_agree(self) -> Policy:
        problem = rule_problems(self.rules, self.tags)
        for rule in self.rules:
            target = rule.then.assign
            if problem is None and target and (wrong := self._assign_problem(target)):
                problem = f"rule {rule.name!r}: then.assign: {wrong}"
        if problem:
            raise ValueError(problem)
        return self

    def _assign_problem(self, target: str) -> str | None:
        if wrong := self.assignment.target_problem(target):
            return wrong
        person = not target.startswith(POOL_TARGET)
        if person and self.agents is not None and target not in self.agents:
            return f"{target} is not one of the policy's agents ({', '.join(self.agents)})"
        return None

    reactions: ReactionsPolicy = ReactionsPolicy()
    # Slack Connect (shared) channels whose every top-level message from a customer (anyone
    # but an agent) is a ticket, answered in its own thread.
    connect_channels: list[ChannelId] = []

    def inbox_for(self, addresses: list[str]) -> Inbox | None:
        wanted = {a.lower() for a in addresses}
        return next((inbox for inbox in self.inboxes if inbox.address in wanted), None)

    def acknowledgement_for(self, inbox_address: str | None) -> AcknowledgementPolicy | None:
        """What a new email ticket written to this inbox (None: the support address) gets
        as its acknowledgement, or None when it gets none."""
        chosen = self.acknowledgement
        inbox = self.inbox_for([inbox_address]) if inbox_address else None
        own = inbox.acknowledgement if inbox else None
        if own is not None:
            written = {
                key: value
                for key, value in own.model_dump(exclude_unset=True).items()
                if value is not None
            }
            chosen = chosen.model_copy(update={"enabled": True, **written})
        return chosen if chosen.enabled else None


def _describe(error: dict[str, Any], name: str) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{name} is missing"
    if error["type"] == "extra_forbidden":
        return f"{name} is not a key the helpdesk knows (a typo?); see docs/policy.md"
    if "input" in error and not isinstance(error["input"], dict | list):
        return f"{name}={redact_setting(name, str(error['input']))!r} is invalid: {message}"
    return f"{name} is invalid: {message}"


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(_describe(error, str(error["loc"][0]).upper())) from None


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """YAML's own loader keeps the last of two equal keys silently: two pools (or two of any
    key) given the same name would quietly become one."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int) and key in seen:
                raise _DuplicateKey(
                    problem=f"key {key!r} given twice", problem_mark=key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_policy(path: Path | None) -> Policy:
    """The policy from `path`, else ./helpdesk.yml when it exists, else built-in defaults."""
    if path is None:
        default = Path("helpdesk.yml")
        if not default.exists():
            return Policy()
        path = default
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader) or {}
    except OSError as exc:
        raise ConfigError(f"HELPDESK_CONFIG={str(path)!r} cannot be read: {exc.strerror}") from None
    except _DuplicateKey as exc:
        where = f"line {exc.problem_mark.line + 1}"
        raise ConfigError(f"HELPDESK_CONFIG={str(path)!r}: {exc.problem} at {where}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"HELPDESK_CONFIG={str(path)!r} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"HELPDESK_CONFIG={str(path)!r} must be a mapping of policy keys")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a check across keys, whose message names the rule and the key
            raise ConfigError(f"{path}: " + error["msg"].removeprefix("Value error, ")) from None
        where = _policy_key(error["loc"], data) + _inbox_named(data, error["loc"])
        raise ConfigError(f"{path}: " + _describe(error, where)) from None


def _inbox_named(data: dict, loc: tuple) -> str:
    """ " (inbox returns@example.com)" for a mistake within an inbox, which `loc` numbers."""
    if len(loc) < 3 or loc[0] != "inboxes" or not isinstance(loc[1], int):
        return ""
    inbox = (data.get("inboxes") or [None] * (loc[1] + 1))[loc[1]]
    address = inbox.get("address") if isinstance(inbox, dict) else None
    return f" (inbox {address})" if isinstance(address, str) else ""


def _policy_key(loc: tuple, data: dict) -> str:
    """Where a policy error is: `policy key sla.normal`, or a rule by its name: `rule 'Returns'
    key when.subject_matches` (its position alone is hard to find in a long list)."""
    if loc[0] == "rules" and len(loc) > 1 and isinstance(loc[1], int):
        rules = data.get("rules")
        rule = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        name = rule.get("name") if isinstance(rule, dict) else None
        label = f"rule {name!r}" if name else f"rule #{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label} key {rest}" if rest else label
    return "policy key " + ".".join(str(part) for part in loc)
