"""A listener that fails is answered in private, never with a 500 that races its ack.

Bolt's thread runner, when a listener raises moments after calling ack(), can answer Slack
500 even so: it sets the response to 500 before it checks whether ack() already answered,
and the request thread may read it in between (test_faults' PostgreSQL restart caught the
Reply button doing so). So every listener is wrapped once, after registration: a failure is
logged, acknowledged if it wasn't yet, and told to the person where they acted. Bolt offers
no public hook around listeners, hence the reach into `App._listeners`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot.handlers.slack.common import DATABASE_AWAY, tell_if_possible

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = (
    "Sorry, that didn't work: something went wrong in the helpdesk (it is in its log). "
    "Try again; if it keeps happening, tell whoever runs the helpdesk."
)
# What a wrapped listener needs besides what the listener itself asks Bolt for.
GUARD_ARGS = ("ack", "body", "client")


def guard_listeners(app: App, passing: tuple[type[Exception], ...] = ()) -> None:
    """`passing`: failures let through to the caller of `App.dispatch` (the Slack inbox
    retries a replay that met a database error, rather than tell the person it failed)."""
    for listener in app._listeners:
        wanted = list(listener.arg_names)
        listener.ack_function = _guarded(listener.ack_function, wanted, passing)
        listener.arg_names = list(dict.fromkeys([*wanted, *GUARD_ARGS]))


def answer_failure(error: Exception, body: dict, client: WebClient) -> None:
    log.error("a Slack request failed: %s", error, exc_info=error)
    tell_if_possible(
        client, body, DATABASE_AWAY if isinstance(error, DBAPIError) else SOMETHING_WENT_WRONG
    )


def _guarded(
    listener: Callable, wanted: list[str], passing: tuple[type[Exception], ...]
) -> Callable:
    def run(**given):
        try:
            return listener(**{name: given[name] for name in wanted})
        except passing:
            raise
        except Exception as error:
            ack: Ack = given["ack"]
            if ack.response is None:
                ack()
            answer_failure(error, given["body"], given["client"])
            return None

    run.__name__, run.__qualname__ = listener.__name__, listener.__qualname__
    return run
