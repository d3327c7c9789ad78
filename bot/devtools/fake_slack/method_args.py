"""Arguments of Web API methods checked as Slack checks them, and paging through results."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.devtools.fake_slack.slack_error import Args, SlackError

_TS_PATTERN = re.compile(r"\d+(\.\d+)?")
_MAX_TEXT = 40_000
_MAX_BLOCKS = 50
_PAGE_DEFAULT = 100
_PAGE_MAX = 999


def flag(value: object) -> bool:
    return value in (True, 1, "1", "true")


def message_content(args: Args) -> dict[str, Any]:
    """The text, blocks, attachments and metadata given in ``args``, validated like Slack."""
    content: dict[str, Any] = {}
    if "text" in args:
        content["text"] = str(args["text"])
        if len(content["text"]) > _MAX_TEXT:
            raise SlackError("msg_too_long")
    if "blocks" in args:
        content["blocks"] = _valid_blocks(args["blocks"])
    if "attachments" in args:
        if not isinstance(args["attachments"], list):
            raise SlackError("invalid_attachments")
        content["attachments"] = args["attachments"]
    if "metadata" in args:
        content["metadata"] = _valid_metadata(args["metadata"])
    return content


def require_text(content: dict[str, Any]) -> None:
    if not (content.get("text") or content.get("blocks") or content.get("attachments")):
        raise SlackError("no_text")


def _valid_blocks(blocks: object) -> list[dict[str, Any]]:
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if len(blocks) > _MAX_BLOCKS:
        raise SlackError(
            "invalid_blocks", "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
        )
    for index, block in enumerate(blocks):
        if problem := _block_problem(block):
            raise SlackError("invalid_blocks", f"[ERROR] {problem} [json-pointer:/blocks/{index}]")
    return blocks


def _block_problem(block: object) -> str | None:
    if not isinstance(block, dict):
        return "must be an object"
    # slack_sdk's models raise assorted errors on malformed input; Slack refuses all of it.
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return f"unsupported type: {block.get('type')!r}"
        parsed.to_dict()  # runs the validators (lengths, required fields) recursively
    except Exception as exc:
        return str(exc)
    return None


def _valid_metadata(metadata: object) -> dict[str, Any]:
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload", {}), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {
        "event_type": metadata["event_type"],
        "event_payload": metadata.get("event_payload", {}),
    }


def valid_view(view: object) -> dict[str, Any]:
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", "[ERROR] view must be a JSON object")
    try:
        View(**view).to_dict()  # as in _block_problem, any model error means Slack refuses it
    except Exception as exc:
        raise SlackError("invalid_arguments", f"[ERROR] {exc} [json-pointer:/view]") from None
    return view


def require_trigger(args: Args) -> None:
    if not str(args.get("trigger_id") or "").strip():
        raise SlackError("invalid_trigger_id")


def thread_ts_arg(args: Args) -> str | None:
    value = args.get("thread_ts")
    if value in (None, ""):
        return None
    if _parse_ts(value, "invalid_thread_ts") == 0:
        raise SlackError("invalid_thread_ts")
    return str(value)


def _parse_ts(value: object, error: str) -> Decimal:
    if not _TS_PATTERN.fullmatch(str(value)):
        raise SlackError(error)
    return Decimal(str(value))


def in_window(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    """Messages between ``oldest`` and ``latest`` (exclusive unless ``inclusive``)."""
    oldest = _parse_ts(args.get("oldest") or "0", "invalid_ts_oldest")
    latest = _parse_ts(args["latest"], "invalid_ts_latest") if args.get("latest") else None
    inclusive = flag(args.get("inclusive"))

    def inside(message: dict[str, Any]) -> bool:
        ts = Decimal(message["ts"])
        after = ts >= oldest if inclusive else ts > oldest
        before = latest is None or (ts <= latest if inclusive else ts < latest)
        return after and before

    return [m for m in messages if inside(m)]


def one_page(items: list[Any], args: Args, key: Callable[[Any], str]) -> tuple[list[Any], str]:
    """One page of ``items`` from ``cursor``, and the cursor of the next page ("" at the end)."""
    try:
        limit = int(args.get("limit") or _PAGE_DEFAULT)
    except ValueError:
        raise SlackError("invalid_limit") from None
    limit = min(limit, _PAGE_MAX) if limit > 0 else _PAGE_DEFAULT
    start = 0
    if cursor := args.get("cursor"):
        keys = [key(item) for item in items]
        try:
            start = keys.index(_decode_cursor(str(cursor)))
        except ValueError:
            raise SlackError("invalid_cursor") from None
    end = start + limit
    next_cursor = _encode_cursor(key(items[end])) if end < len(items) else ""
    return items[start:end], next_cursor


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"next:{key}".encode()).decode()


def _decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if not text.startswith("next:"):
        raise SlackError("invalid_cursor")
    return text.removeprefix("next:")
