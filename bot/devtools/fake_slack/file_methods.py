"""Web API methods on files: uploads in two steps, ``files.info``, ``files.delete``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.method_args import thread_ts_arg
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_records import StoredFile
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def files_complete_upload_external(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    entries = args.get("files")
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    if not all(isinstance(entry, dict) for entry in entries):
        raise SlackError("invalid_arguments")
    files = [_uploaded_file(workspace, entry) for entry in entries]
    channel_ref = args.get("channel_id") or str(args.get("channels") or "").split(",")[0]
    if channel_ref:
        _share_files(workspace, files, channel_ref, args)
    return {
        "files": [
            f.describe(workspace.base_url, workspace.bot_user_id, workspace.team_id) for f in files
        ]
    }


def files_get_upload_url_external(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
    if not filename or not length.isdigit():
        raise SlackError("invalid_arguments")
    pending = StoredFile(workspace.new_id("F"), filename)
    workspace.files[pending.id] = pending
    return {"upload_url": f"{workspace.base_url}/upload/{pending.id}", "file_id": pending.id}


def files_delete(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    """As Slack does: the file is gone, and messages that shared it show a tombstone."""
    found = workspace.files.pop(str(args.get("file") or ""), None)
    if found is None:
        raise SlackError("file_not_found")
    for channel in workspace.channels.values():
        for message in channel.messages.values():
            if any(f.get("id") == found.id for f in message.get("files", [])):
                message["files"] = [
                    {"id": f["id"], "mode": "tombstone"} if f.get("id") == found.id else f
                    for f in message["files"]
                ]
    workspace.changed()
    return {}


def files_info(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    found = workspace.files.get(str(args.get("file") or ""))
    if found is None or found.data is None:
        raise SlackError("file_not_found")
    return {"file": found.describe(workspace.base_url, workspace.bot_user_id, workspace.team_id)}


def _uploaded_file(workspace: WorkspaceState, entry: dict[str, Any]) -> StoredFile:
    found = workspace.files.get(str(entry.get("id")))
    if found is None or found.data is None:
        raise SlackError("file_not_found")
    found.title = str(entry.get("title") or found.name)
    return found


def _share_files(
    workspace: WorkspaceState, files: list[StoredFile], channel_ref: str, args: Args
) -> None:
    channel = workspace.find_channel({"channel": channel_ref}, member=True)
    thread_ts = thread_ts_arg(args)
    visibility = "private" if channel.is_private or channel.dm_user else "public"
    fields = {
        "text": str(args.get("initial_comment") or ""),
        **workspace.bot_fields(),
        "upload": True,
        "display_as_bot": False,
    }
    message = workspace.store(channel, fields, thread_ts)
    share = {
        "ts": message["ts"],
        "channel_name": channel.name,
        "team_id": workspace.team_id,
        "share_user_id": workspace.bot_user_id,
    }
    if thread_ts:
        share["thread_ts"] = thread_ts
    for f in files:
        f.shares.setdefault(visibility, {}).setdefault(channel.id, []).append(dict(share))
    message["files"] = [
        f.describe(workspace.base_url, workspace.bot_user_id, workspace.team_id) for f in files
    ]


METHODS = {
    "files.completeUploadExternal": files_complete_upload_external,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.delete": files_delete,
    "files.info": files_info,
}
