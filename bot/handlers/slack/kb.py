"""The knowledge base from Slack: App Home's list, an article opened, the form that creates or
edits one (writing the Markdown file and its row: bot/core/kb.py), the Reply modal's suggested
articles inserted into the answer, and `/helpdesk kb <words>`.

Every listener acknowledges first; what follows is a folder listing at most (throttled) and
a database query, never a call to another service."""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.articles import Article
from bot.core.kb import (
    KnowledgeBase,
    SaveRefused,
    article_url,
    listed,
    search_articles,
    stored,
)
from bot.handlers.slack.common import metadata_of, services_of, tell
from bot.handlers.slack.replies import answer_of
from bot.handlers.slack.services import Services
from bot.read_models.reply_draft import draft_for, with_addition
from bot.storage.models import Ticket
from bot.views import ids
from bot.views.kb_modals import kb_article_modal, kb_edit_modal, kb_list_modal, kb_search_answer
from bot.views.reply_modal import ANSWER_LIMIT, reply_modal

log = logging.getLogger(__name__)

NO_KB = "There is no knowledge base: set `kb.path` in the policy (docs/policy.md)."
KB_USAGE = "Say what to look for: `/helpdesk kb return policy`."
COMMAND_RESULTS = 5
ERROR_BLOCKS = {
    "title": ids.KB_TITLE_BLOCK,
    "body": ids.KB_BODY_BLOCK,
}


def register(app: App) -> None:
    app.action(ids.HOME_KB)(on_home_button)
    app.action(ids.KB_NEW)(on_new)
    app.action(re.compile(rf"^{ids.KB_ARTICLE_MENU}-\d+$"))(on_article_menu)
    app.view(ids.KB_EDIT_MODAL)(on_form_submitted)
    app.action(re.compile(rf"^{ids.REPLY_ARTICLE}-\d+$"))(on_article_inserted)


def _kb(services: Services, client: WebClient, body: dict) -> KnowledgeBase | None:
    if services.kb is None:
        tell(client, body, NO_KB)
        return None
    services.kb.refresh(services.engine)
    return services.kb


def list_modal(services: Services, kb: KnowledgeBase) -> dict:
    with Session(services.reader) as session:
        articles = listed(session, public_only=False)
    return kb_list_modal(articles, kb.problems)


def on_home_button(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    services = services_of(context)
    if (kb := _kb(services, client, body)) is not None:
        client.views_open(trigger_id=body["trigger_id"], view=list_modal(services, kb))


def on_new(ack: Ack, body: dict, client: WebClient, context) -> None:
    ack()
    client.views_push(trigger_id=body["trigger_id"], view=kb_edit_modal(body["view"]["id"]))


def on_article_menu(ack: Ack, body: dict, action: dict, client: WebClient, context) -> None:
    ack()
    services = services_of(context)
    if (kb := _kb(services, client, body)) is None:
        return
    verb, _, slug = action["selected_option"]["value"].partition(":")
    with Session(services.reader) as session:
        article = stored(session, slug, public_only=False)
    if article is None:
        # Deleted from the folder since the list was drawn: show what is there now.
        client.views_update(view_id=body["view"]["id"], view=list_modal(services, kb))
    elif verb == "edit":
        client.views_push(
            trigger_id=body["trigger_id"], view=kb_edit_modal(body["view"]["id"], article)
        )
    else:
        url = article_url(services.settings.helpdesk_public_url, slug) if article.public else None
        client.views_push(trigger_id=body["trigger_id"], view=kb_article_modal(article, url))


def on_form_submitted(ack: Ack, body: dict, view: dict, client: WebClient, context) -> None:
    """Saves, or keeps the form open with the reason on the field at fault; on success the
    form closes onto the list beneath, refreshed."""
    services = services_of(context)
    if services.kb is None:
        ack(response_action="errors", errors={ids.KB_TITLE_BLOCK: NO_KB})
        return
    values = view["state"]["values"]
    metadata = metadata_of(view)
    picked = values.get(ids.KB_PUBLIC_BLOCK, {}).get(ids.KB_PUBLIC, {}).get("selected_options")
    tags = values.get(ids.KB_TAGS_BLOCK, {}).get(ids.KB_TAGS, {}).get("value") or ""
    article = Article(
        title=" ".join((values[ids.KB_TITLE_BLOCK][ids.KB_TITLE].get("value") or "").split()),
        tags=tuple(dict.fromkeys(tag.strip() for tag in tags.split(",") if tag.strip())),
        public=bool(picked),
        language=metadata.get("language") or "",
        body=values[ids.KB_BODY_BLOCK][ids.KB_BODY].get("value") or "",
    )
    try:
        slug = services.kb.save(
            services.engine,
            metadata.get("slug"),
            article,
            seen_mtime_ns=metadata.get("seen") if metadata.get("slug") else None,
        )
    except SaveRefused as refused:
        ack(response_action="errors", errors={ERROR_BLOCKS[refused.field]: str(refused)})
        return
    except OSError as exc:
        log.warning("knowledge base: could not write an article: %s", exc)
        message = f"The helpdesk could not write the file ({exc.strerror}); try again later."
        ack(response_action="errors", errors={ids.KB_BODY_BLOCK: message})
        return
    ack()
    log.info("knowledge base: %s saved %s from Slack", body["user"]["id"], slug)
    if list_view_id := metadata.get("list_view_id"):
        client.views_update(view_id=list_view_id, view=list_modal(services, services.kb))


def on_article_inserted(ack: Ack, body: dict, action: dict, client: WebClient, context) -> None:
    """A suggested article's link (to the help centre) or text, added to the answer so far."""
    ack()
    services = services_of(context)
    view = body["view"]
    metadata = metadata_of(view)
    verb, _, slug = (action.get("selected_option") or {}).get("value", "").partition(":")
    _, answer = answer_of(view)
    with Session(services.reader) as session:
        ticket = session.get(Ticket, metadata.get("ticket_id", 0))
        article = stored(session, slug, public_only=verb == "link")
        if ticket is None or article is None or verb not in ("link", "text"):
            return
        if verb == "link":
            addition = (
                f"{article.title}: {article_url(services.settings.helpdesk_public_url, slug)}"
            )
        else:
            addition = article.body
        draft = draft_for(
            session,
            ticket,
            services.reply_features,
            with_addition(answer, addition)[:ANSWER_LIMIT],
            version=metadata.get("version", 0) + 1,
            seen=metadata.get("seen"),
        )
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=reply_modal(draft))


def search_command(ack: Ack, services: Services, query: str) -> None:
    """`/helpdesk kb <words>`: answered in the ack itself, one indexed query."""
    if services.kb is None:
        ack(NO_KB)
        return
    if not query.strip():
        ack(KB_USAGE)
        return
    services.kb.refresh(services.engine)
    with Session(services.reader) as session:
        hits = search_articles(session, query, public_only=False, limit=COMMAND_RESULTS)
    public_url = services.settings.helpdesk_public_url
    ack(**kb_search_answer(query, hits, lambda slug: article_url(public_url, slug)))
