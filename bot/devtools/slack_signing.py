"""Requests to the app's ``/slack/events`` endpoint, built and signed the way Slack does it.

    signer = SlackRequestSigner("signing-secret")
    sender = SlackEventSender("http://127.0.0.1:3000/slack/events", signer)
    status, headers, body = sender.send_event({"type": "message", "channel": "C0SUPPORT", ...})
    sender.send_command("/helpdesk", "find refund", user_id="U0AGENT1", channel_id="C0SUPPORT")

Bodies follow the shapes Slack sends (see shared/corpora/slack-bolt-python-payloads): events
are JSON ``event_callback`` envelopes, interactions are ``payload=<json>`` forms, slash
commands are plain forms. Placeholder URLs use the reserved ``.test`` domain so that an app
under test can never reach real Slack through them.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any, NamedTuple
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

DEFAULT_TEAM_ID = "T0FAKE"
DEFAULT_APP_ID = "A0HELPDESK"
DEFAULT_BOT_USER_ID = "U0HELPDESK"
_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"


class SlackRequestSigner:
    """Produces Slack's ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers."""

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)

    def headers(self, body: str | bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = DEFAULT_TEAM_ID,
    api_app_id: str = DEFAULT_APP_ID,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    event_id: str | None = None,
    event_time: int | None = None,
) -> str:
    """An Events API ``event_callback`` envelope around ``event``, as JSON text."""
    now = time.time()
    inner = {"event_ts": event.get("ts") or f"{now:.6f}", **event}
    envelope = {
        "token": "verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(now) if event_time is None else event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }
    return json.dumps(envelope)


def url_verification_body(challenge: str) -> str:
    """The handshake Slack sends when an Events API request URL is saved."""
    body = {"token": "verification-token", "challenge": challenge, "type": "url_verification"}
    return json.dumps(body)


def interaction_body(payload: dict[str, Any]) -> str:
    """An interactivity request (block_actions, view_submission, shortcut, ...)."""
    return urlencode({"payload": json.dumps(payload)})


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str,
    channel_id: str,
    team_id: str = DEFAULT_TEAM_ID,
    api_app_id: str = DEFAULT_APP_ID,
    user_name: str = "agent",
    channel_name: str = "support",
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> str:
    """A slash-command request; pass ``FakeSlack.response_url()`` to capture responses."""
    fields = {
        "token": "verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.fake.slack.test/commands/{team_id}/{secrets.token_hex(6)}",
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields)


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's (``<digits>.<digits>.<hex>``)."""
    return f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


class SlackHttpResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SlackEventSender:
    """Delivers signed requests to the app over HTTP, as Slack's servers would."""

    def __init__(self, url: str, signer: SlackRequestSigner, *, timeout: float = 10.0) -> None:
        self.url = url
        self.signer = signer
        self.timeout = timeout

    def send_event(
        self,
        event: dict[str, Any] | str,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        **envelope: Any,
    ) -> SlackHttpResponse:
        """Send an event, or a prebuilt :func:`event_body` (resend it to simulate a retry).

        ``retry_num`` adds Slack's ``X-Slack-Retry-Num`` / ``X-Slack-Retry-Reason`` headers.
        """
        body = event if isinstance(event, str) else event_body(event, **envelope)
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(body, _JSON, extra_headers=extra)

    def send_interaction(self, payload: dict[str, Any]) -> SlackHttpResponse:
        return self.post(interaction_body(payload), _FORM)

    def send_command(self, command: str, text: str, **fields: Any) -> SlackHttpResponse:
        """Send a slash command; ``fields`` are :func:`slash_command_body`'s keywords."""
        return self.post(slash_command_body(command, text, **fields), _FORM)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> SlackHttpResponse:
        """POST ``body`` signed at ``timestamp`` (default now); HTTP errors are returned."""
        headers = {
            "Content-Type": content_type,
            "User-Agent": _USER_AGENT,
            **self.signer.headers(body, timestamp),
            **(extra_headers or {}),
        }
        request = urllib.request.Request(self.url, body.encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _read(response)
        except urllib.error.HTTPError as error:
            with error:
                return _read(error)


def _read(response: http.client.HTTPResponse | urllib.error.HTTPError) -> SlackHttpResponse:
    charset = response.headers.get_content_charset() or "utf-8"
    return SlackHttpResponse(
        response.status, dict(response.headers), response.read().decode(charset)
    )
