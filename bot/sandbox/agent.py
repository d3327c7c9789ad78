"""The sandbox page's user, acting in Slack: what Slack would send the helpdesk for each of
their clicks, submissions and messages, signed as Slack signs it, to the real `/slack/events`.

Slack keeps the workspace's side (the message stored, the modal stack) and the app answers
over HTTP; here the fake Slack keeps that side and this module plays Slack's servers.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.devtools.fake_slack import FakeSlack
from bot.devtools.slack_signing import SlackEventSender, SlackRequestSigner

HELPDESK_TIMEOUT_SECONDS = 10


class SandboxError(Exception):
    """Something the person on the page should be told, with the HTTP status to use."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SandboxAgent:
    def __init__(self, slack: FakeSlack, user_id: str, events_url: str, signing_secret: str):
        self.slack = slack
        self.user_id = user_id
        self._sender = SlackEventSender(
            events_url, SlackRequestSigner(signing_secret), timeout=HELPDESK_TIMEOUT_SECONDS
        )

    # -- messages ------------------------------------------------------------------------------

    def click_message(
        self, channel: str, action: dict[str, Any], *, message_ts: str = "", ephemeral_ts: str = ""
    ) -> None:
        """A click or pick on a message in a channel, a thread, or only visible to the user."""
        if ephemeral_ts:
            message = self._ephemeral(ephemeral_ts)
            channel = message.get("channel") or channel
        else:
            message = self._message(channel, message_ts)
        self._interact(
            {
                "type": "block_actions",
                "container": {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": channel,
                    "is_ephemeral": bool(ephemeral_ts),
                },
                "channel": {"id": channel, "name": self._channel_name(channel)},
                "message": message,
                "state": {"values": {}},
                "response_url": self.slack.response_url(self.user_id),
                "actions": [self._action(action)],
            }
        )

    def write(self, channel: str, thread_ts: str, text: str) -> str:
        """A message the user types in a thread; the helpdesk hears of it as an event."""
        if not text.strip():
            raise SandboxError("Write something first.")
        self._message(channel, thread_ts)
        ts = self.slack.add_message(channel, text, user=self.user_id, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel": channel,
            "user": self.user_id,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "channel_type": "channel",
            "team": self.slack.team_id,
        }
        self._check(self._sender.send_event(event, team_id=self.slack.team_id))
        return ts

    def command(self, command: str, text: str, channel: str) -> dict[str, Any] | None:
        """A slash command; its immediate answer, which Slack shows only to the user."""
        answer = self._check(
            self._sender.send_command(
                command,
                text,
                user_id=self.user_id,
                user_name="you",
                channel_id=channel,
                channel_name=self._channel_name(channel),
                team_id=self.slack.team_id,
                trigger_id=self.slack.issue_trigger(self.user_id),
                response_url=self.slack.response_url(self.user_id),
            )
        )
        if not answer:
            return None
        return answer if isinstance(answer, dict) else {"text": str(answer)}

    def open_app(self, tab: str) -> None:
        """The user opened the app's Home or Messages tab: Slack tells the app of both."""
        event = {
            "type": "app_home_opened",
            "user": self.user_id,
            "channel": self.slack.direct_message_channel(self.user_id),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        if tab == "home" and (view := self.slack.home_view(self.user_id)):
            event["view"] = view
        self._check(self._sender.send_event(event, team_id=self.slack.team_id))

    # -- modals --------------------------------------------------------------------------------

    def click_in_view(self, view_id: str, action: dict[str, Any], values: dict) -> None:
        view = self._view(view_id, values)
        self._interact(
            {
                "type": "block_actions",
                "container": {"type": "view", "view_id": view_id},
                "view": view,
                "actions": [self._action(action)],
            }
        )

    def submit(self, view_id: str, values: dict) -> dict[str, str]:
        """Submits the modal; the errors the helpdesk put under its inputs, if any."""
        view = self._view(view_id, values)
        answer = self._interact({"type": "view_submission", "view": view, "response_urls": []})
        answer = answer if isinstance(answer, dict) else {}
        self.slack.answer_submission(self.user_id, view_id, answer)
        return answer.get("errors", {}) if answer.get("response_action") == "errors" else {}

    def close(self, view_id: str) -> None:
        view = self._view(view_id, {})
        self.slack.close_modal(self.user_id, view_id)
        if view.get("notify_on_close"):
            self._interact({"type": "view_closed", "view": view, "is_cleared": False})

    def close_all(self) -> None:
        """What reloading Slack's client does to the modals left open: they are gone."""
        while (view := self.slack.open_modal(self.user_id)) is not None:
            self.close(view["id"])

    def options(self, view_id: str, block_id: str, action_id: str, value: str) -> dict:
        """What an external select offers for the text typed into it."""
        answer = self._interact(
            {
                "type": "block_suggestion",
                "container": {"type": "view", "view_id": view_id},
                "view": self._view(view_id, {}),
                "block_id": block_id,
                "action_id": action_id,
                "value": value,
            }
        )
        return answer if isinstance(answer, dict) else {"options": []}

    # -- helpers -------------------------------------------------------------------------------

    def _interact(self, payload: dict[str, Any]) -> Any:
        user = self.slack.user(self.user_id) or {}
        payload = {
            "user": {
                "id": self.user_id,
                "username": user.get("name", "you"),
                "name": user.get("name", "you"),
                "team_id": self.slack.team_id,
            },
            "team": {"id": self.slack.team_id, "domain": "sandbox"},
            "api_app_id": self.slack.app_id,
            "token": "verification-token",
            "trigger_id": self.slack.issue_trigger(self.user_id),
            "is_enterprise_install": False,
            **payload,
        }
        return self._check(self._sender.send_interaction(payload))

    @staticmethod
    def _check(response) -> Any:
        if response.status != 200:
            raise SandboxError(
                f"the helpdesk answered HTTP {response.status}: {response.body[:300]}", 502
            )
        body = response.body.strip()
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body

    @staticmethod
    def _action(action: dict[str, Any]) -> dict[str, Any]:
        if not action.get("action_id"):
            raise SandboxError("An action needs its action_id.")
        return {**action, "action_ts": f"{time.time():.6f}"}

    def _message(self, channel: str, ts: str) -> dict[str, Any]:
        try:
            thread = self.slack.thread(channel, ts)
        except KeyError:
            raise SandboxError(f"There is no channel {channel}.", 404) from None
        found = next((m for m in thread if m["ts"] == ts), None)
        if found is None:
            raise SandboxError("That message is gone; the page will catch up.", 404)
        return found

    def _ephemeral(self, ts: str) -> dict[str, Any]:
        found = next(
            (m for m in self.slack.ephemeral_messages(self.user_id) if m["ts"] == ts), None
        )
        if found is None:
            raise SandboxError("That message is gone; the page will catch up.", 404)
        return found

    def _view(self, view_id: str, values: dict) -> dict[str, Any]:
        view = self.slack.view(view_id)
        if view is None:
            raise SandboxError("That modal is closed; the page will catch up.", 404)
        return {**view, "state": {"values": values}}

    def _channel_name(self, channel: str) -> str:
        return self.slack.channel_name(channel) or channel
