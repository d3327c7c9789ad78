"""Web API methods on modals and App Home tabs: ``views.*``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.method_args import require_trigger, valid_view
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def views_open(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    require_trigger(args)
    view = workspace.save_view(valid_view(args.get("view")))
    if user_id := workspace.triggers.get(args["trigger_id"]):
        workspace.modals[user_id] = [view["id"]]
    return {"view": view}


def views_publish(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    user_id = str(args.get("user_id") or "")
    if not user_id:
        raise SlackError("invalid_arguments")
    view = workspace.save_view(
        valid_view(args.get("view")), workspace.home_views.get(user_id), args.get("hash")
    )
    workspace.home_views[user_id] = view["id"]
    return {"view": view}


def views_push(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    require_trigger(args)
    view = workspace.save_view(valid_view(args.get("view")))
    if user_id := workspace.triggers.get(args["trigger_id"]):
        workspace.modals.setdefault(user_id, []).append(view["id"])
    return {"view": view}


def views_update(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    view = valid_view(args.get("view"))
    return {"view": workspace.save_view(view, _existing_view_id(workspace, args), args.get("hash"))}


def _existing_view_id(workspace: WorkspaceState, args: Args) -> str:
    if args.get("view_id") in workspace.views:
        return args["view_id"]
    external_id = args.get("external_id")
    for view in workspace.views.values():
        if external_id and view["external_id"] == external_id:
            return view["id"]
    raise SlackError("not_found")


METHODS = {
    "views.open": views_open,
    "views.publish": views_publish,
    "views.push": views_push,
    "views.update": views_update,
}
