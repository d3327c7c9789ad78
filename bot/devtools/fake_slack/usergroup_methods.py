"""Web API methods on user groups: ``usergroups.users.list``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def usergroups_users_list(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    workspace.require_scope("usergroups:read")
    usergroup = str(args.get("usergroup") or "")
    if not usergroup:
        raise SlackError("invalid_arguments", "[ERROR] missing required field: usergroup")
    if usergroup not in workspace.usergroups:
        raise SlackError("no_such_subteam")
    return {"users": list(workspace.usergroups[usergroup])}


METHODS = {
    "usergroups.users.list": usergroups_users_list,
}
