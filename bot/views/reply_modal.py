"""The Reply modal: the customer's last words, a saved-reply picker, the answer, a status."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from bot.core.kb import Hit
from bot.views import ids
from bot.views.elements import button, context, option
from bot.views.kb_modals import snippet_mrkdwn
from bot.views.shop_action_menu import action_buttons
from bot.views.text import escape_mrkdwn, truncate
from bot.views.ticket_list import age

ANSWER_LIMIT = 3000  # Slack's limit for a plain-text input
MAX_FILES = 5
STATUS_CHOICES = {"pending": "Pending (waiting on the customer)", "solved": "Solved"}


@dataclass(frozen=True)
class PickedOrder:
    """The order whose status was just inserted, and the Shopify actions offered on it."""

    id: str  # GID
    name: str
    kinds: tuple[str, ...]
    allowed: tuple[str, ...]  # those the agent takes without an approver


@dataclass(frozen=True)
class ReplyDraft:
    ticket_id: int
    number: int
    subject: str
    customer_name: str
    customer_email: str
    last_customer_message: str | None
    saved_replies: list[tuple[int, str]]  # (id, title)
    answer: str = ""
    version: int = 0  # bumped whenever `answer` is replaced, so Slack shows the new text
    by_chat: bool = False  # a live-chat ticket: the answer goes to the widget
    order_picker: bool = False  # Shopify is connected: offer to insert an order's status
    notice: str | None = None  # why the last pick inserted nothing, shown under the menus
    in_slack: bool = False  # made from a Slack user's message: answered in its thread
    seen_message_id: int = 0  # the customer's latest message when the modal was opened
    # Other agents with the modal open on this ticket, and for how long: a warning on top.
    others_replying: tuple[tuple[str, timedelta], ...] = ()
    # Sent once already, but the customer had written again: shown, and to be confirmed.
    customer_wrote_again: bool = False
    # Knowledge-base articles matching the customer's latest message, best first.
    articles: tuple[Hit, ...] = ()
    # The policy's AI server is configured: "Draft a reply" and "Summarise" buttons.
    assistant: bool = False
    # What the assistant is doing or did ("Drafting…"), shown under the buttons.
    assistant_status: str | None = None
    picked_order: PickedOrder | None = None


def _addressee(draft: ReplyDraft) -> str:
    if draft.in_slack:
        who = escape_mrkdwn(draft.customer_name or "the requester")
        return f"*To:* {who} in their Slack thread (not by email)"
    if not draft.by_chat:
        to = escape_mrkdwn(draft.customer_email)
        if draft.customer_name:
            to = f"{escape_mrkdwn(draft.customer_name)} ({to})"
        return f"*To:* {to}\n*Subject:* Re: {escape_mrkdwn(draft.subject)}"
    who = escape_mrkdwn(draft.customer_name or "the visitor")
    if draft.customer_email:
        later = f"and by email to {escape_mrkdwn(draft.customer_email)} if they have left"
    else:
        later = "no email address given, so only there"
    return f"*To:* {who} in the live chat ({later})"


def reply_metadata(draft: ReplyDraft) -> str:
    return json.dumps(
        {"ticket_id": draft.ticket_id, "version": draft.version, "seen": draft.seen_message_id}
    )


def _replying_warning(others: tuple[tuple[str, timedelta], ...]) -> dict:
    who = ", ".join(f"<@{agent}> (opened {age(since)} ago)" for agent, since in others)
    verb = "is" if len(others) == 1 else "are"
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": truncate(f":warning: {who} {verb} already replying to this ticket.", 3000),
        },
    }


def _confirmation() -> dict:
    """Required: Slack keeps the modal open until it is ticked."""
    return {
        "type": "input",
        "block_id": ids.REPLY_CONFIRM_BLOCK,
        "label": {"type": "plain_text", "text": "The customer wrote again"},
        "element": {
            "type": "checkboxes",
            "action_id": ids.REPLY_CONFIRM,
            "options": [option("My answer still fits: send it", "send")],
        },
    }


def _files_input() -> dict:
    """Files sent with the email; the chat widget shows text only."""
    return {
        "type": "input",
        "block_id": ids.REPLY_FILES_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "Attach files"},
        "element": {"type": "file_input", "action_id": ids.REPLY_FILES, "max_files": MAX_FILES},
    }


def _suggested_articles(articles: tuple[Hit, ...]) -> list[dict]:
    """Each with a menu that inserts its link (public articles) or its text into the answer."""
    blocks: list[dict] = [context("*Suggested articles*")]
    for place, article in enumerate(articles):
        choices = [option("Insert as text", f"text:{article.slug}")]
        if article.public:
            choices.insert(0, option("Insert link", f"link:{article.slug}"))
        private = " (_private_)" if not article.public else ""
        text = f"*{escape_mrkdwn(article.title)}*{private}\n{snippet_mrkdwn(article.snippet)}"
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": truncate(text, 3000)},
                "accessory": {
                    "type": "overflow",
                    "action_id": f"{ids.REPLY_ARTICLE}-{place}",
                    "options": choices,
                },
            }
        )
    return blocks


def _wrote(draft: ReplyDraft) -> str:
    if draft.customer_wrote_again:
        return ":bangbang: The customer wrote again while you were answering"
    return "The customer wrote"


def reply_modal(draft: ReplyDraft) -> dict:
    blocks: list[dict] = [
        *([_replying_warning(draft.others_replying)] if draft.others_replying else []),
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate(_addressee(draft), 3000)}},
    ]
    if draft.last_customer_message:
        quoted = "\n".join(
            f"> {line}" for line in escape_mrkdwn(draft.last_customer_message).splitlines()
        )
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": truncate(f"*{_wrote(draft)}:*\n{quoted}", 3000),
                },
            }
        )
    helpers = []
    if draft.saved_replies:
        helpers.append(
            {
                "type": "static_select",
                "action_id": ids.REPLY_SAVED_PICK,
                "placeholder": {"type": "plain_text", "text": "Start from a saved reply"},
                "options": [
                    option(truncate(title, 75), str(reply_id))
                    for reply_id, title in draft.saved_replies[:100]
                ],
            }
        )
    if draft.order_picker:
        # Options come from Shopify as the agent opens the menu (or types an order number).
        helpers.append(
            {
                "type": "external_select",
                "action_id": ids.REPLY_ORDER_PICK,
                "placeholder": {"type": "plain_text", "text": "Insert an order's status"},
                "min_query_length": 0,
            }
        )
    if draft.assistant:
        helpers += [
            button("Draft a reply", ids.REPLY_DRAFT, "draft"),
            button("Summarise", ids.REPLY_SUMMARISE, "summary"),
        ]
    if helpers:
        blocks.append({"type": "actions", "block_id": ids.REPLY_HELPERS_BLOCK, "elements": helpers})
    if draft.articles:
        blocks += _suggested_articles(draft.articles)
    if draft.assistant_status:
        blocks.append(context(f":robot_face: {escape_mrkdwn(draft.assistant_status)}"))
    if draft.picked_order:
        picked = draft.picked_order
        blocks += action_buttons(
            draft.ticket_id, picked.id, picked.name, list(picked.kinds), picked.allowed
        )
    if draft.notice:
        blocks.append(context(f":no_entry: {escape_mrkdwn(draft.notice)}"))
    answer = {
        "type": "plain_text_input",
        "action_id": ids.REPLY_ANSWER,
        "multiline": True,
        "max_length": ANSWER_LIMIT,
        "placeholder": {"type": "plain_text", "text": "Your answer, sent to the customer"},
    }
    if draft.answer:
        answer["initial_value"] = truncate(draft.answer, ANSWER_LIMIT)
    blocks += [
        {
            "type": "input",
            "block_id": f"{ids.REPLY_ANSWER_BLOCK}-{draft.version}",
            "label": {"type": "plain_text", "text": "Answer"},
            "element": answer,
        },
        *([] if draft.by_chat or draft.in_slack else [_files_input()]),
        *([_confirmation()] if draft.customer_wrote_again else []),
        {
            "type": "input",
            "block_id": ids.REPLY_STATUS_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "And set status to"},
            "element": {
                "type": "static_select",
                "action_id": ids.REPLY_STATUS,
                "placeholder": {"type": "plain_text", "text": "Keep it open"},
                "options": [option(label, value) for value, label in STATUS_CHOICES.items()],
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": ids.REPLY_MODAL,
        "private_metadata": reply_metadata(draft),
        "title": {"type": "plain_text", "text": truncate(f"Reply to #{draft.number}", 24)},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        # Closing it ends the "is replying" line on the root (a `view_closed` request).
        "notify_on_close": True,
        "blocks": blocks,
    }
