"""Web API methods on people: ``users.info``, ``users.lookupByEmail`` and ``users.getPresence``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def users_info(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    user = workspace.users.get(str(args.get("user") or ""))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user}


def users_lookup_by_email(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    email = str(args.get("email") or "").lower()
    for user in workspace.users.values():
        if user["profile"].get("email", "").lower() == email:
            return {"user": user}
    raise SlackError("users_not_found")


def users_get_presence(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    """Of another user Slack tells only ``presence``; without ``user``, the caller's own."""
    workspace.require_scope("users:read")
    user = str(args.get("user") or workspace.bot_user_id)
    if user not in workspace.users:
        raise SlackError("user_not_found")
    return {"presence": workspace.presence.get(user, "active")}


METHODS = {
    "users.getPresence": users_get_presence,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
}
