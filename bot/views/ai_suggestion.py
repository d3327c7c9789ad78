"""The AI assistant's suggestion on a new ticket: a tag and a priority, each a button that an
agent may click to apply it. Nothing is applied until someone does."""

from __future__ import annotations

from bot.views import ids
from bot.views.elements import button, section


def suggestion_text(tag: str | None, priority: str | None) -> str:
    said = [f"tag *{tag}*" if tag else "", f"priority *{priority}*" if priority else ""]
    return (
        f":bulb: The AI assistant suggests {' and '.join(filter(None, said))} "
        "(not applied: click to apply)."
    )


def suggestion_blocks(ticket_id: int, tag: str | None, priority: str | None) -> list[dict]:
    """Tags are the policy's own and priorities the helpdesk's: nothing here to escape. The
    block ID carries both, so a click needs no lookup; the ticket rides in the value."""
    buttons = []
    if tag:
        buttons.append(button(f"Tag: {tag}", ids.AI_SUGGESTED_TAG, str(ticket_id)))
    if priority:
        buttons.append(button(f"Priority: {priority}", ids.AI_SUGGESTED_PRIORITY, str(ticket_id)))
    return [
        section(suggestion_text(tag, priority)),
        {
            "type": "actions",
            "block_id": f"{ids.AI_SUGGESTION_BLOCK}:{tag or ''}:{priority or ''}",
            "elements": buttons,
        },
    ]


def suggested(block_id: str) -> tuple[str, str]:
    """The (tag, priority) a suggestion's block ID carries; empty strings when none."""
    _, tag, priority = [*block_id.split(":"), "", "", ""][:3]
    return tag, priority
