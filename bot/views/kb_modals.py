"""The knowledge base in Slack: the list (from App Home), one article, the form that creates
or edits one, and `/helpdesk kb`'s answer. Article text is the team's, but it is still
escaped: a file in the folder may say anything."""

from __future__ import annotations

import json

from bot.core.articles import TITLE_LIMIT
from bot.core.kb import MARK_END, MARK_START, Hit, Stored
from bot.views import ids
from bot.views.elements import button, context, option, plain, section
from bot.views.text import escape_mrkdwn, split_for_sections, truncate

LIST_LIMIT = 95  # with the button and the notes, inside a modal's 100 blocks
BODY_LIMIT = 3000  # Slack's limit for a plain-text input: longer articles are edited as files
TAGS_LIMIT = 500
ARTICLE_SECTIONS = 40
PRIVATE = "private: never on the help centre"


def snippet_mrkdwn(snippet: str) -> str:
    """A search snippet for Slack: escaped, the matched words in bold."""
    return escape_mrkdwn(snippet).replace(MARK_START, "*").replace(MARK_END, "*")


def kb_list_modal(articles: list[Stored], problems: dict[str, str]) -> dict:
    blocks: list[dict] = [
        {
            "type": "actions",
            "elements": [button("New article", ids.KB_NEW, "new", style="primary")],
        }
    ]
    if not articles:
        blocks.append(context("No articles yet."))
    for place, article in enumerate(articles[:LIST_LIMIT]):
        tags = f" · {escape_mrkdwn(', '.join(article.tags))}" if article.tags else ""
        private = " · _private_" if not article.public else ""
        block = section(f"*{escape_mrkdwn(article.title)}*{tags}{private}")
        choices = [option("Open", f"open:{article.slug}")]
        if len(article.body) <= BODY_LIMIT:
            choices.append(option("Edit", f"edit:{article.slug}"))
        block["accessory"] = {
            "type": "overflow",
            "action_id": f"{ids.KB_ARTICLE_MENU}-{place}",
            "options": choices,
        }
        blocks.append(block)
    if len(articles) > LIST_LIMIT:
        blocks.append(context(f"{len(articles) - LIST_LIMIT} more are not shown."))
    if problems:
        names = ", ".join(escape_mrkdwn(name) for name in list(problems)[:10])
        blocks.append(context(f":warning: Skipped, see `helpdesk check`: {names}"))
    return {
        "type": "modal",
        "callback_id": ids.KB_LIST_MODAL,
        "title": plain("Knowledge base", 24),
        "close": plain("Done"),
        "blocks": blocks[:100],
    }


def kb_article_modal(article: Stored, url: str | None) -> dict:
    """One article, read-only: its Markdown as written, and where customers read it."""
    where = f"<{url}|On the help centre>" if url else f"_{PRIVATE}_"
    tags = f" · {escape_mrkdwn(', '.join(article.tags))}" if article.tags else ""
    # Plain text: Slack shows it as written, so the Markdown can neither mention nor link.
    chunks = split_for_sections(article.body)[:ARTICLE_SECTIONS]
    text = [{"type": "section", "text": plain(chunk or " ", 3000)} for chunk in chunks]
    return {
        "type": "modal",
        "callback_id": ids.KB_ARTICLE_MODAL,
        "title": plain("Article", 24),
        "close": plain("Back"),
        "blocks": [
            {"type": "header", "text": plain(article.title, 150)},
            context(f"{where}{tags}"),
            *text,
        ],
    }


def kb_edit_modal(list_view_id: str, article: Stored | None = None) -> dict:
    """The form, pushed over the list whose view `list_view_id` it refreshes once saved."""
    title = {"type": "plain_text_input", "action_id": ids.KB_TITLE, "max_length": TITLE_LIMIT}
    tags = {"type": "plain_text_input", "action_id": ids.KB_TAGS, "max_length": TAGS_LIMIT}
    body = {
        "type": "plain_text_input",
        "action_id": ids.KB_BODY,
        "multiline": True,
        "max_length": BODY_LIMIT,
    }
    public_choice = option("Public: shown on the help centre", "public")
    public = {"type": "checkboxes", "action_id": ids.KB_PUBLIC, "options": [public_choice]}
    if article is None or article.public:
        public["initial_options"] = [public_choice]
    if article is not None:
        title["initial_value"] = article.title
        body["initial_value"] = article.body
        if article.tags:
            tags["initial_value"] = ", ".join(article.tags)
    metadata = {
        "slug": article.slug if article else None,
        "seen": article.file_mtime_ns if article else None,
        "language": article.language if article else "",
        "list_view_id": list_view_id,
    }
    return {
        "type": "modal",
        "callback_id": ids.KB_EDIT_MODAL,
        "private_metadata": json.dumps(metadata),
        "title": plain("Edit article" if article else "New article", 24),
        "submit": plain("Save"),
        "close": plain("Back"),
        "blocks": [
            _input(ids.KB_TITLE_BLOCK, "Title", title),
            _input(ids.KB_TAGS_BLOCK, "Tags", tags, optional=True, hint="Comma-separated"),
            {
                "type": "input",
                "block_id": ids.KB_PUBLIC_BLOCK,
                "optional": True,
                "label": plain("Visibility"),
                "element": public,
            },
            _input(ids.KB_BODY_BLOCK, "Text (Markdown)", body),
        ],
    }


def _input(block_id: str, label: str, element: dict, *, optional=False, hint=None) -> dict:
    block = {"type": "input", "block_id": block_id, "label": plain(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(hint, 150)
    return block


def kb_search_answer(query: str, hits: list[Hit], url_of) -> dict:
    """`/helpdesk kb`'s private answer: the best articles, each with a snippet and its link
    (`url_of(slug)`) when public."""
    asked = escape_mrkdwn(truncate(" ".join(query.split()), 100))
    if not hits:
        text = f"No article matches “{asked}”."
        return {"text": text, "blocks": [section(text)]}
    blocks = [section(f"*Articles for “{asked}”*")]
    for hit in hits:
        title = escape_mrkdwn(hit.title)
        heading = f"<{url_of(hit.slug)}|{title}>" if hit.public else f"{title} (_private_)"
        blocks.append(section(f"{heading}\n{snippet_mrkdwn(hit.snippet)}"))
    return {"text": f"{len(hits)} article(s) for “{asked}”", "blocks": blocks}
