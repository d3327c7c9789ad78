"""The public help centre: `GET /help/` (every public article, or `?q=` search results) and
`GET /help/<slug>` (one article). Private articles (`public: false`) are answered 404 exactly
as a missing one, so their names aren't told either."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.core.kb import KnowledgeBase, listed, search_articles, stored
from bot.storage.db import reader
from bot.views.help_centre import (
    HEADERS,
    QUERY_LIMIT,
    Centre,
    article_page,
    index_page,
    not_found_page,
    results_page,
)

RESULTS_LIMIT = 20


def help_router(engine: Engine, kb: KnowledgeBase, colour: str) -> APIRouter:
    centre = Centre(kb.name, colour)
    router = APIRouter()

    def front(query: str) -> str:
        kb.refresh(engine)
        with Session(reader(engine)) as session:
            if query.strip():
                hits = search_articles(session, query, public_only=True, limit=RESULTS_LIMIT)
                return results_page(centre, query, hits)
            return index_page(centre, listed(session, public_only=True))

    def article(slug: str) -> str | None:
        kb.refresh(engine)
        with Session(reader(engine)) as session:
            found = stored(session, slug, public_only=True)
        return article_page(centre, found) if found else None

    @router.get("/help", include_in_schema=False)
    async def without_slash() -> RedirectResponse:
        return RedirectResponse("help/", status_code=308)

    @router.get("/help/", response_class=HTMLResponse, include_in_schema=False)
    async def index(q: str = "") -> HTMLResponse:
        page = await run_in_threadpool(front, q[: QUERY_LIMIT * 5])
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/help/{slug}", response_class=HTMLResponse, include_in_schema=False)
    async def one(slug: str) -> HTMLResponse:
        page = await run_in_threadpool(article, slug) if len(slug) <= 200 else None
        if page is None:
            return HTMLResponse(not_found_page(centre), status_code=404, headers=HEADERS)
        return HTMLResponse(page, headers=HEADERS)

    return router
