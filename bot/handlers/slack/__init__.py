"""Slack adapter: the Bolt app and its listeners, one module per kind of request."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot.core import text
from bot.handlers.slack import (
    assistant,
    commands,
    customer_history,
    customer_links,
    escalate,
    gate,
    home,
    kb,
    make_ticket,
    merging,
    order_action_forms,
    order_actions,
    orders,
    reactions,
    replies,
    saved_reply_editing,
    shop_approvals,
    shop_refund,
    snoozing,
    splitting,
    tagging,
    thread_messages,
    ticket_actions,
)
from bot.handlers.slack.failures import answer_failure, guard_listeners

LISTENER_MODULES = (
    ticket_actions,
    replies,
    tagging,
    snoozing,
    escalate,
    commands,
    thread_messages,
    home,
    saved_reply_editing,
    orders,
    customer_links,
    make_ticket,
    reactions,
    customer_history,
    merging,
    splitting,
    kb,
    assistant,
    shop_refund,
    shop_approvals,
    order_actions,
    order_action_forms,
)
# Clicks whose listeners answer nothing but 200 and open no modal: the Slack inbox takes
# them (and every event) to work after the ack. Each module names its own.
QUEUED_ACTIONS = frozenset(
    action for module in LISTENER_MODULES for action in getattr(module, "QUEUED_ACTIONS", ())
)


def build_bolt_app(
    client: WebClient,
    *,
    signing_secret: str | None,
    services: object,
    socket_mode: bool,
    replaying: bool = False,
) -> App:
    """A Bolt app whose listeners reach the helpdesk's services as `context["helpdesk"]`.

    `replaying`: the app of the Slack inbox (`inbox.py`), for requests already checked and
    acknowledged: each listener runs to its end in the caller's thread, and a database error
    goes back to the caller to retry.
    """
    logging.getLogger("slack_bolt.App").addFilter(_drop_unused_token_warning)  # once: same object
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Socket Mode traffic is authenticated by the app token, not by signatures; replays
        # were checked when they came (and may be older than Bolt accepts by now).
        request_verification_enabled=not (socket_mode or replaying),
        token_verification_enabled=False,
        process_before_response=replaying,
    )
    retried = (DBAPIError,) if replaying else ()

    @app.middleware
    def provide_services(context, next):
        context["helpdesk"] = services
        next()

    app.middleware(gate.admit_agents)

    @app.middleware
    def clean_outside_text(body, next):
        # After Bolt checked the signature, before any listener reads the payload: every
        # note, answer, reason, title and query is cleaned once, here.
        clean_strings(body)
        next()

    @app.error
    def answer_middleware_failures(error: Exception, body: dict, client: WebClient) -> None:
        if isinstance(error, retried):
            raise error
        answer_failure(error, body, client)  # listeners' own are answered by their guard

    for module in LISTENER_MODULES:
        module.register(app)
    guard_listeners(app, retried)
    return app


def _drop_unused_token_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, and then
    warns that the token is unused. The client carries that same token (from the settings,
    with SLACK_API_URL and retries Bolt's own client would lack), so nothing is lost."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def clean_strings(payload: dict | list) -> None:
    """Cleans every string in a parsed payload as a multi-line text, in place (listeners get
    the same objects). Without recursion, so no nesting depth can exhaust the stack."""
    pending = [payload]
    while pending:
        container = pending.pop()
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        for key in keys:
            value = container[key]
            if isinstance(value, str):
                container[key] = text.multi_line(value)
            elif isinstance(value, dict | list):
                pending.append(value)
