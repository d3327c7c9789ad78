"""A request's arguments as Slack reads them: query string and body (JSON, form or multipart)."""

from __future__ import annotations

import json
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from bot.devtools.fake_slack.slack_error import Args, SlackError

# Slack accepts these as JSON text inside form-encoded bodies.
_JSON_ARGS = frozenset({"attachments", "blocks", "files", "metadata", "view"})


def parse_args(headers: Message, body: bytes, query: str) -> Args:
    """Query string and body (JSON, form or multipart) merged, JSON-in-form values decoded."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        args.update(_parse_body(headers, body))
    return {key: _decode_json_arg(key, value) for key, value in args.items()}


def lower_keys(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _parse_body(headers: Message, body: bytes) -> Args:
    content_type = headers.get_content_type()
    if content_type == "application/json":
        return _json_object(body)
    if content_type == "multipart/form-data":
        return multipart_fields(headers, body)
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _json_object(body: bytes) -> Args:
    try:
        parsed = json.loads(body)
    except ValueError:
        raise SlackError("invalid_json") from None
    if not isinstance(parsed, dict):
        raise SlackError("json_not_object")
    return parsed


def multipart_fields(headers: Message, body: bytes) -> dict[str, str | bytes]:
    head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[str(name)] = data if part.get_filename() else data.decode("utf-8")
    return fields


def _decode_json_arg(key: str, value: Any) -> Any:
    if key not in _JSON_ARGS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # left as text; the handler answers with the method's own error
