"""Web API methods on channels and direct messages: ``conversations.*``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.method_args import flag, in_window, one_page
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_records import Channel
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def conversations_history(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    newest_first = in_window(channel.top_level(), args)[::-1]
    return _message_page(workspace, channel, newest_first, args)


def conversations_info(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    return {"channel": workspace.find_channel(args).info(workspace.bot_user_id)}


def conversations_join(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args)
    if channel.is_private or channel.dm_user:
        raise SlackError("method_not_supported_for_channel_type")
    if workspace.bot_user_id in channel.members:
        return {
            "channel": channel.info(workspace.bot_user_id),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(workspace.bot_user_id)
    return {"channel": channel.info(workspace.bot_user_id)}


def conversations_members(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    page, cursor = one_page(workspace.find_channel(args).members, args, key=str)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


def conversations_open(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        # Group DMs (several users) are not simulated.
        raise SlackError("invalid_arguments")
    if users[0] not in workspace.users:
        raise SlackError("user_not_found")
    return {"channel": {"id": workspace.dm_with(users[0]).id}}


def conversations_replies(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    thread = channel.thread(str(args.get("ts") or ""))
    if not thread:
        raise SlackError("thread_not_found")
    return _message_page(workspace, channel, in_window(thread, args), args)


def _message_page(
    workspace: WorkspaceState, channel: Channel, messages: list[dict[str, Any]], args: Args
) -> dict[str, Any]:
    page, cursor = one_page(messages, args, key=lambda m: m["ts"])
    include_metadata = flag(args.get("include_all_metadata"))
    return {
        "messages": [channel.render(m, include_metadata) for m in page],
        "has_more": bool(cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": cursor},
    }


METHODS = {
    "conversations.history": conversations_history,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.members": conversations_members,
    "conversations.open": conversations_open,
    "conversations.replies": conversations_replies,
}
