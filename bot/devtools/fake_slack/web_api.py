"""Every Web API method the fake answers, by name, from the modules of each family."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.devtools.fake_slack import (
    auth_methods,
    conversation_methods,
    file_methods,
    message_methods,
    user_methods,
    usergroup_methods,
    view_methods,
)
from bot.devtools.fake_slack.slack_error import Args
from bot.devtools.fake_slack.workspace_state import WorkspaceState

# Called with the workspace's lock held; returns the answer's fields besides ``ok``.
Method = Callable[[WorkspaceState, Args], dict[str, Any]]

METHODS: dict[str, Method] = {
    **auth_methods.METHODS,
    **conversation_methods.METHODS,
    **file_methods.METHODS,
    **message_methods.METHODS,
    **user_methods.METHODS,
    **usergroup_methods.METHODS,
    **view_methods.METHODS,
}
