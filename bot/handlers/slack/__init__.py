"""Slack adapter: the Bolt app and its listeners, one module per kind of request."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot.handlers.slack import (
    commands,
    customer_links,
    escalation,
    gate,
    home,
    orders,
    replies,
    saved_replies,
    tagging,
    thread_messages,
    ticket_actions,
)
from bot.handlers.slack.common import tell_if_possible

DATABASE_AWAY = (
    "The helpdesk can't reach its database right now, so nothing was changed. "
    "Try again in a minute."
)

LISTENER_MODULES = (
    ticket_actions,
    replies,
    tagging,
    escalation,
    commands,
    thread_messages,
    home,
    saved_replies,
    orders,
    customer_links,
)


def build_bolt_app(
    client: WebClient, *, signing_secret: str | None, services: object, socket_mode: bool
) -> App:
    """A Bolt app whose listeners reach the helpdesk's services as `context["helpdesk"]`."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Socket Mode traffic is authenticated by the app token, not by signatures.
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        process_before_response=False,
    )

    @app.middleware
    def provide_services(context, next):
        context["helpdesk"] = services
        next()

    app.middleware(gate.admit_agents)

    @app.error
    def answer_failures(error: Exception, body: dict, client: WebClient, logger) -> None:
        logger.error("a Slack request failed: %s", error, exc_info=error)
        if isinstance(error, DBAPIError):
            # The click was acknowledged long ago; without this the agent sees nothing happen.
            tell_if_possible(client, body, DATABASE_AWAY)

    for module in LISTENER_MODULES:
        module.register(app)
    return app
