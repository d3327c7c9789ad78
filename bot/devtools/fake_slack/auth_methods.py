"""Web API methods about the connection itself: ``api.test`` and ``auth.test``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_records import WORKSPACE_URL
from bot.devtools.fake_slack.workspace_state import BOT_NAME, WorkspaceState


def api_test(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    if "error" in args:
        raise SlackError(str(args["error"]))
    return {"args": args} if args else {}


def auth_test(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    return {
        "url": WORKSPACE_URL,
        "team": "Fake Workspace",
        "user": BOT_NAME,
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


METHODS = {
    "api.test": api_test,
    "auth.test": auth_test,
}
