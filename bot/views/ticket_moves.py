"""A merge or a split (and its undoing) as each of the two threads tells it: the summary of
what moved, with links to the messages where they were posted, never re-posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.views import ids
from bot.views.elements import button, section
from bot.views.text import escape_mrkdwn, shown_sender, slack_time, truncate

LISTED = 10  # messages listed one by one; the rest are counted
EXCERPT = 120


@dataclass(frozen=True)
class MovedMessage:
    from_customer: bool
    author: str  # the customer's address, or the agent's Slack id
    author_name: str
    at: datetime
    text: str
    link: str | None


@dataclass(frozen=True)
class MoveSummary:
    """What one thread says about a move: `here` is "to" (the ticket kept, or the new one
    split off) or "from"."""

    move_id: int
    kind: str  # merge or split
    here: str
    undone: bool
    actor: str
    other_number: int
    other_subject: str
    other_link: str | None
    moved: int
    messages: tuple[MovedMessage, ...] = ()
    customers: tuple[str, ...] = ()  # both, when a merge joined different customers


def move_text(move: MoveSummary) -> str:
    other = _ticket_link(move)
    by = f"<@{move.actor}>"
    count = f"{move.moved} message{'s' if move.moved != 1 else ''}"
    if move.undone:
        if move.kind == "merge":
            return (
                f":leftwards_arrow_with_hook: {by} unmerged #{move.other_number}: its {count} "
                "went back to it."
                if move.here == "to"
                else f":leftwards_arrow_with_hook: {by} unmerged this ticket from {other}: its "
                f"{count} are back here and it stands on its own again."
            )
        return (
            f":leftwards_arrow_with_hook: {by} undid the split: the {count} went back to {other}."
            if move.here == "to"
            else f":leftwards_arrow_with_hook: {by} undid the split into #{move.other_number}: "
            f"its {count} are back here."
        )
    if move.kind == "merge":
        if move.here == "to":
            return f":twisted_rightwards_arrows: {by} merged {other} into this ticket ({count})."
        return (
            f":twisted_rightwards_arrows: {by} merged this ticket into {other}: its "
            "conversation continues there, and the customer's mail to it goes there."
        )
    if move.here == "to":
        return f":scissors: {by} split this ticket off {other} ({count})."
    return f":scissors: {by} split {count} off into {other}: they continue there."


def move_blocks(move: MoveSummary) -> list[dict]:
    blocks = [section(move_text(move))]
    if move.customers and move.here == "to" and not move.undone:
        shown = " and ".join(escape_mrkdwn(c) for c in move.customers)
        blocks.append(section(f":warning: Different customers: {shown}."))
    if move.messages and not move.undone:
        lines = [_line(message) for message in move.messages[:LISTED]]
        if move.moved > LISTED:
            lines.append(f"… and {move.moved - LISTED} more.")
        blocks.append(section("\n".join(lines)))
    if move.here == "to" and not move.undone:
        label = "Unmerge" if move.kind == "merge" else "Undo split"
        blocks.append(
            {"type": "actions", "elements": [button(label, ids.MOVE_UNDO, str(move.move_id))]}
        )
    return blocks


def _ticket_link(move: MoveSummary) -> str:
    title = escape_mrkdwn(truncate(f"#{move.other_number} {move.other_subject}", 150))
    return f"<{move.other_link}|{title}>" if move.other_link else f"*{title}*"


def _line(message: MovedMessage) -> str:
    who = (
        shown_sender(message.author_name, message.author)
        if message.from_customer
        else f"<@{message.author}>"
    )
    # A link's label can't hold Slack's date token: the UTC time then.
    when = (
        f"<{message.link}|{message.at.astimezone(UTC):%d %b %H:%M} UTC>"
        if message.link
        else slack_time(message.at)
    )
    excerpt = escape_mrkdwn(truncate(" ".join(message.text.split()), EXCERPT))
    return f"• {when} {who}: {excerpt}"
