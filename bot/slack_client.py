"""Slack Web API clients, always pointed at SLACK_API_URL."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

TIMEOUT_SECONDS = 10


def interactive_client(settings: Settings) -> WebClient:
    """For handlers: retries rate limits, connection errors and 5xx, as the user is waiting."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def delivery_client(settings: Settings) -> WebClient:
    """For the outbox: no blind retries.

    A post whose connection broke may have reached Slack; resending it blindly would double
    it. The outbox retries by itself, after checking what Slack already has.
    """
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=TIMEOUT_SECONDS,
        retry_handlers=[],
    )
