"""Web API methods on messages: ``chat.*`` and ``reactions.add``."""

from __future__ import annotations

from typing import Any

from bot.devtools.fake_slack.method_args import message_content, require_text, thread_ts_arg
from bot.devtools.fake_slack.slack_error import Args, SlackError
from bot.devtools.fake_slack.workspace_records import WORKSPACE_URL
from bot.devtools.fake_slack.workspace_state import WorkspaceState


def chat_delete(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    message = workspace.find_message(channel, args.get("ts"))
    if message.get("bot_id") != workspace.bot_id:
        raise SlackError("cant_delete_message")
    del channel.messages[message["ts"]]
    if replies := channel.threads.get(message.get("thread_ts", "")):
        replies.remove(message["ts"])
    workspace.changed()
    return {"channel": channel.id, "ts": message["ts"]}


def chat_get_permalink(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args)
    message = workspace.find_message(channel, args.get("message_ts"))
    link = f"{WORKSPACE_URL}archives/{channel.id}/p{message['ts'].replace('.', '')}"
    if "thread_ts" in message:
        link += f"?thread_ts={message['thread_ts']}&cid={channel.id}"
    return {"channel": channel.id, "permalink": link}


def chat_post_ephemeral(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    if not args.get("user"):
        raise SlackError("user_not_found")
    content = message_content(args)
    require_text(content)
    message = {**content, "channel": channel.id, "thread_ts": thread_ts_arg(args)}
    return {"message_ts": workspace.keep_ephemeral(str(args["user"]), message)}


def chat_post_message(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    content = message_content(args)
    require_text(content)
    thread_ts = thread_ts_arg(args)
    message = workspace.store(channel, {"text": "", **workspace.bot_fields(), **content}, thread_ts)
    return {"channel": channel.id, "ts": message["ts"], "message": message}


def chat_update(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    channel = workspace.find_channel(args, member=True)
    message = workspace.find_message(channel, args.get("ts"))
    if message.get("bot_id") != workspace.bot_id:
        raise SlackError("cant_update_message")
    content = message_content(args)
    require_text({**message, **content})
    message.update(content, edited={"user": workspace.bot_user_id, "ts": workspace.next_ts()})
    workspace.changed()
    rendered = channel.render(message, include_metadata=True)
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message.get("text", ""),
        "message": rendered,
    }


def reactions_add(workspace: WorkspaceState, args: Args) -> dict[str, Any]:
    name = str(args.get("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    if not args.get("timestamp"):
        raise SlackError("no_item_specified")
    message = workspace.find_message(workspace.find_channel(args, member=True), args["timestamp"])
    reactions = message.setdefault("reactions", [])
    reaction = next((r for r in reactions if r["name"] == name), None)
    if reaction is None:
        reaction = {"name": name, "users": [], "count": 0}
        reactions.append(reaction)
    if workspace.bot_user_id in reaction["users"]:
        raise SlackError("already_reacted")
    reaction["users"].append(workspace.bot_user_id)
    reaction["count"] += 1
    workspace.changed()
    return {}


METHODS = {
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "reactions.add": reactions_add,
}
