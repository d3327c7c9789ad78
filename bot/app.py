"""The composition root: builds every part from settings, and starts and stops them together."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from slack_bolt import App
from sqlalchemy import Engine

from bot.chat_bus import ChatBus, chat_bus
from bot.config import ConfigError, Policy, Settings
from bot.core import csat, nps
from bot.core.attachments import FileStore
from bot.core.kb import KnowledgeBase
from bot.core.rules import desk_for
from bot.deliverers.acknowledgement_email import acknowledgement_deliverers
from bot.deliverers.ai_triage import triage_deliverers
from bot.deliverers.chat_push import chat_deliverers
from bot.deliverers.customer_email import email_deliverers
from bot.deliverers.file_upload import attachment_deliverers
from bot.deliverers.pool_assignment import assignment_deliverers
from bot.deliverers.rule_facts import rule_facts_deliverers
from bot.deliverers.shop_action_posts import shop_action_post_deliverers
from bot.deliverers.shop_actions import shop_action_deliverers
from bot.deliverers.shopify_context import shopify_deliverers
from bot.deliverers.slack_files import SlackFiles
from bot.deliverers.slack_origins import slack_origin_deliverers
from bot.deliverers.slack_posts import slack_deliverers
from bot.deliverers.smtp_sender import SmtpSender
from bot.deliverers.thread_move import move_deliverers
from bot.delivery.contract import Deliverer
from bot.delivery.worker import OutboxWorker
from bot.handlers.chat.routes import ChatService, chat_router
from bot.handlers.email.imap_poller import ImapPoller
from bot.handlers.email.ingest import GroupCommit, MailIngest
from bot.handlers.email.smtp_server import InboundMailHandler, InboundSmtpServer
from bot.handlers.help_routes import help_router
from bot.handlers.http import build_http_app
from bot.handlers.metrics_route import metrics_router
from bot.handlers.slack import QUEUED_ACTIONS, build_bolt_app
from bot.handlers.slack.inbox import SlackInbox
from bot.handlers.slack.permalinks import Permalinks
from bot.handlers.slack.services import Services
from bot.handlers.survey_routes import survey_router
from bot.integrations.ai import connect as connect_ai
from bot.integrations.shopify_actions import ShopifyActions
from bot.integrations.shopify_cache import connect as connect_shopify
from bot.integrations.slack_roster import SlackRoster
from bot.jobs.daily_digest import digest_channel
from bot.jobs.scheduler import build_scheduler
from bot.monitoring.counters import Counters
from bot.monitoring.state import HelpdeskState, MailWriterState
from bot.slack_client import delivery_client, interactive_client
from bot.storage.db import engine_apart, make_engine, on_outbox_commit
from bot.storage.migrate import upgrade
from bot.storage.shared_state import connect_shared_state

if TYPE_CHECKING:
    from bot.handlers.slack.socket_mode import SocketModeListener

log = logging.getLogger(__name__)


@dataclass
class Helpdesk:
    """Everything `helpdesk serve` runs, as one object tests can build many of."""

    settings: Settings
    policy: Policy
    engine: Engine
    bolt: App
    http: FastAPI
    slack_inbox: SlackInbox
    outbox: OutboxWorker
    ingest: MailIngest
    smtp: InboundSmtpServer | None
    scheduler: BackgroundScheduler
    chat_bus: ChatBus
    imap: ImapPoller | None = None
    # Set first thing on stop: long requests (the sandbox page's polls) end, as the bus ends
    # chat streams, so the HTTP server needn't wait for them.
    stopping: threading.Event = field(default_factory=threading.Event)
    _http_server: uvicorn.Server | None = field(default=None, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)
    _socket_mode: SocketModeListener | None = field(default=None, repr=False)

    def start(self, *, http: bool = True) -> None:
        self.chat_bus.start()
        self.slack_inbox.start()
        self.outbox.start()
        self.scheduler.start()
        if self.smtp is not None:
            try:
                self.smtp.start()
            except Exception as exc:
                raise ConfigError(
                    f"HELPDESK_SMTP_LISTEN={self.settings.helpdesk_smtp_listen!r}: the SMTP "
                    f"server could not listen there ({exc}); is the port taken?"
                ) from None
        if self.imap is not None:
            self.imap.start()
        if self.settings.slack_app_token:
            # Imported here: a helpdesk answering Slack over HTTP starts without Socket Mode's
            # aiohttp client (with `openai`'s, 0.7 s of CPU per start; test_production_imports).
            from bot.handlers.slack.socket_mode import SocketModeListener

            listener = SocketModeListener(
                self.bolt,
                self.settings.slack_app_token,
                self.settings.slack_api_url,
                self.slack_inbox,
            )
            listener.start()
            self._socket_mode = listener
        if http:
            self._start_http()

    def _start_http(self) -> None:
        config = uvicorn.Config(
            self.http,
            host=self.settings.helpdesk_http_host,
            port=self.settings.helpdesk_http_port,
            log_level="warning",
            # Uvicorn's loggers then propagate to the root's handler: one format for all logs.
            log_config=None,
            lifespan="off",
            # Chat event streams never end by themselves; don't wait long for them.
            timeout_graceful_shutdown=2,
        )
        self._http_server = uvicorn.Server(config)
        # Signals belong to the CLI, which stops everything in order.
        self._http_server.install_signal_handlers = lambda: None
        thread = threading.Thread(target=self._http_server.run, name="http", daemon=True)
        thread.start()
        self._threads.append(thread)
        deadline = time.monotonic() + 10
        while not self._http_server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(
                    f"HELPDESK_HTTP_PORT={self.settings.helpdesk_http_port}: the HTTP server "
                    f"could not listen on {self.settings.helpdesk_http_host}; is the port taken?"
                )
            time.sleep(0.02)

    @property
    def http_port(self) -> int:
        assert self._http_server is not None
        return self._http_server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Stops what `start` started, and releases what `create_app` built: safe to call
        whether `start` ran, failed half-way or never ran."""
        self.stopping.set()
        self.chat_bus.stop()
        if self._http_server is not None:
            self._http_server.should_exit = True
        for thread in self._threads:
            thread.join(10)
        if self._socket_mode is not None:
            self._socket_mode.stop()
        # After what answers Slack: nothing is stored for it any more.
        self.slack_inbox.stop()
        if self.smtp is not None:
            self.smtp.stop()
        if self.imap is not None:
            self.imap.stop()
        if self.scheduler.running:
            # Shut down while it removes a one-off job that has just run (the digest's catch-up,
            # right after start), APScheduler 3 raises in its own thread; with every job
            # removed first (it waits for that pass to end), nothing is left to remove.
            self.scheduler.remove_all_jobs()
            self.scheduler.shutdown(wait=True)
        self.outbox.stop()
        self.engine.dispose()


def create_app(
    settings: Settings,
    policy: Policy | None = None,
    *,
    engine: Engine | None = None,
    migrate: bool = True,
    mount: Callable[[Helpdesk], None] | None = None,
    extra_deliverers: dict[str, Deliverer] | None = None,
) -> Helpdesk:
    """Builds the helpdesk.

    `mount` adds to it before it starts: the sandbox's page and API at `/sandbox/`, passed in
    by the sandbox's path so that production never imports the stand-ins. `extra_deliverers`
    adds or replaces outbox deliverers by kind (tests make one fail).
    """
    policy = policy or Policy()
    _require(settings)
    engine = engine or make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    tokens = csat.survey_tokens(settings, policy)
    nps_links = nps.nps_tokens(settings, policy)
    bus = chat_bus(engine)
    shared = connect_shared_state(settings, engine)
    shopify = connect_shopify(settings, policy, shared)
    ai = connect_ai(settings, policy.ai)
    files = FileStore(settings.helpdesk_data_dir)
    client = interactive_client(settings)
    desk = desk_for(
        policy,
        support_channel=settings.helpdesk_support_channel,
        support_address=settings.helpdesk_support_address,
        escalation_channel=settings.escalation_channel,
        roster=SlackRoster(client, policy.agents, settings.helpdesk_support_channel),
        surveys=policy.csat if tokens and policy.csat.enabled else None,
        nps=policy.nps if nps_links else None,
        order_context=shopify is not None,
        files=files,
        triage=ai is not None,
    )
    mail_sender = SmtpSender(settings.outbound_smtp_url)
    deliverers = {
        **attachment_deliverers(
            delivery_client(settings), files, policy.mail.max_uploads_per_message
        ),
        **chat_deliverers(bus),
        **assignment_deliverers(desk),
        **slack_deliverers(
            delivery_client(settings),
            desk.tiers,
            order_lookup=shopify is not None,
        ),
        **move_deliverers(delivery_client(settings), order_lookup=shopify is not None),
        **slack_origin_deliverers(delivery_client(settings)),
        **email_deliverers(
            mail_sender,
            settings.helpdesk_support_address,
            tokens,
            settings.helpdesk_public_url,
            SlackFiles(delivery_client(settings), policy.mail.max_attachment_bytes),
            nps=(nps_links, nps.kind(policy.nps)),
        ),
        **acknowledgement_deliverers(
            mail_sender,
            settings.helpdesk_support_address,
            policy,
            shopify,
            settings.helpdesk_public_url,
        ),
    }
    if ai is not None:
        deliverers.update(triage_deliverers(ai, desk, delivery_client(settings)))
    if shopify is not None:
        deliverers.update(shopify_deliverers(delivery_client(settings), shopify))
        deliverers.update(rule_facts_deliverers(shopify, desk))
        deliverers.update(shop_action_deliverers(engine, ShopifyActions(shopify.client)))
        deliverers.update(shop_action_post_deliverers(delivery_client(settings)))
    deliverers.update(extra_deliverers or {})
    # This app's metrics only: tests build several apps in one process.
    metrics = CollectorRegistry()
    counters = Counters(metrics)
    outbox = OutboxWorker(
        engine,
        deliverers,
        lease=timedelta(seconds=settings.helpdesk_outbox_lease_seconds),
        breaker_first_pause=settings.helpdesk_outbox_retry_seconds,
        breaker_max_pause=settings.helpdesk_outbox_max_pause_seconds,
        counters=counters,
        shared=shared,
    )
    on_outbox_commit(engine, outbox.wake)
    metrics.register(HelpdeskState(engine, outbox, bus))
    ingest = MailIngest(engine, desk)
    kb = knowledge_base(policy, engine)
    chat = ChatService(
        engine=engine,
        desk=desk,
        bus=bus,
        public_url=settings.helpdesk_public_url,
        shared=shared,
        kb=kb,
        shopify=shopify,
    )
    services = Services(
        settings=settings,
        engine=engine,
        permalinks=Permalinks(client),
        desk=desk,
        shopify=shopify,
        kb=kb,
        ai=ai,
        shared=shared,
    )
    socket_mode = settings.slack_app_token is not None
    bolt = build_bolt_app(
        client,
        signing_secret=settings.slack_signing_secret,
        services=services,
        socket_mode=socket_mode,
    )
    slack_inbox = SlackInbox(
        engine_apart(engine, "slack-inbox"),
        engine,
        build_bolt_app(
            client,
            signing_secret=settings.slack_signing_secret,
            services=services,
            socket_mode=socket_mode,
            replaying=True,
        ),
        QUEUED_ACTIONS,
    )
    http = build_http_app(
        None if socket_mode else bolt,
        engine,
        [
            *([survey_router(engine, tokens, csat.KIND)] if tokens else []),
            *([survey_router(engine, nps_links, nps.kind(policy.nps))] if nps_links else []),
        ],
        chat_router(chat),
        policy.chat.allowed_origins,
        signing_secret=None if socket_mode else settings.slack_signing_secret,
        inbox=slack_inbox,
    )
    http.include_router(metrics_router(metrics))
    if kb is not None:
        http.include_router(help_router(engine, kb, policy.chat.color))
    smtp = _smtp_server(settings, policy, ingest, counters)
    if smtp is not None:
        metrics.register(MailWriterState(smtp.writer))
    helpdesk = Helpdesk(
        settings=settings,
        policy=policy,
        engine=engine,
        bolt=bolt,
        http=http,
        slack_inbox=slack_inbox,
        outbox=outbox,
        ingest=ingest,
        smtp=smtp,
        scheduler=build_scheduler(
            engine,
            policy,
            desk,
            _breach_channel(settings, policy),
            digest_channel(settings, policy),
            settings.helpdesk_support_address,
            counters,
        ),
        chat_bus=bus,
        imap=mailbox_poller(settings, policy, engine, ingest),
    )
    if mount is not None:
        mount(helpdesk)
    return helpdesk


def knowledge_base(policy: Policy, engine: Engine) -> KnowledgeBase | None:
    """The knowledge base of `kb.path`, its index brought up to date before anything reads it
    (a folder that can't be read is logged, and tried again on the next read)."""
    if policy.kb is None:
        return None
    kb = KnowledgeBase(policy.kb)
    kb.refresh(engine)
    return kb


def _require(settings: Settings) -> None:
    if not settings.slack_bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is missing: set it to the app's bot token (xoxb-…), or try the "
            "helpdesk without Slack with `helpdesk serve --sandbox on`"
        )
    if not settings.helpdesk_support_channel:
        raise ConfigError(
            "HELPDESK_SUPPORT_CHANNEL is missing: set it to the ID of the channel for new tickets"
        )
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is missing: HTTP mode needs it (or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    if settings.shopify_enabled and not settings.shopify_access_token:
        raise ConfigError(
            "SHOPIFY_ACCESS_TOKEN is missing: set it to the shop's Admin API access token "
            "(or unset SHOPIFY_SHOP to run without order context)"
        )
    if settings.smtp_listen and not settings.helpdesk_support_address:
        raise ConfigError(
            "HELPDESK_SUPPORT_ADDRESS is missing: the SMTP server needs the support address "
            "(or set HELPDESK_SMTP_LISTEN= to disable it)"
        )


def _smtp_server(
    settings: Settings, policy: Policy, ingest: MailIngest, counters: Counters
) -> InboundSmtpServer | None:
    if settings.smtp_listen is None:
        return None
    host, port = settings.smtp_listen
    accepted = {settings.helpdesk_support_address, *(inbox.address for inbox in policy.inboxes)}
    handler = InboundMailHandler(
        GroupCommit(ingest), accepted, settings.helpdesk_support_address, counters
    )
    return InboundSmtpServer(handler, host, port, settings.helpdesk_max_message_bytes, counters)


def mailbox_poller(
    settings: Settings, policy: Policy, engine: Engine, ingest: MailIngest
) -> ImapPoller | None:
    """The poller of IMAP_URL, when it is set."""
    if not settings.imap_url:
        return None
    return ImapPoller(
        settings.imap_url,
        settings.imap_poll_seconds,
        engine,
        ingest,
        policy.mail.imap_move_to,
        max_bytes=settings.helpdesk_max_message_bytes,
        address=settings.helpdesk_support_address,
    )


def _breach_channel(settings: Settings, policy: Policy) -> str | None:
    """SLA breaches also reach the first escalation tier."""
    if policy.escalation.tiers:
        return policy.escalation.tiers[0].channel
    return settings.escalation_channel
