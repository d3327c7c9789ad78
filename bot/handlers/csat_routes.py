"""The survey pages under /csat/: a link's GET records its rating, the form's POST a comment.

People, not programs, read these answers, so every outcome is an HTML page with the right
status: 400 for a link that was tampered with, 410 for an expired one, 404 for a survey
that no longer exists.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.core import csat
from bot.storage.db import transaction
from bot.storage.models import CsatSurvey, Ticket, utcnow
from bot.views.csat_page import HEADERS, SurveyPage, error_page, survey_page

# Room for a comment far over the limit (it is cut, with a note) without reading unbounded input.
MAX_FORM_BYTES = 1024 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
CHOICES = [(rating, csat.rating_label(rating)) for rating in reversed(csat.RATINGS)]


class PageRefused(Exception):
    def __init__(self, status: int, title: str, message: str):
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


def csat_router(
    engine: Engine, tokens: csat.SurveyTokens, wake_outbox: Callable[[], None]
) -> APIRouter:
    pages = SurveyPages(engine, tokens, wake_outbox)
    router = APIRouter()

    @router.get("/csat/{token}", response_class=HTMLResponse)
    async def rate(token: str, rating: str | None = None) -> HTMLResponse:
        return await _respond(lambda: run_in_threadpool(pages.rate, token, rating))

    @router.post("/csat/{token}", response_class=HTMLResponse)
    async def comment(token: str, request: Request) -> HTMLResponse:
        async def answer() -> tuple[int, str]:
            form = await _form(request)
            return await run_in_threadpool(pages.comment, token, form.get("comment", ""))

        return await _respond(answer)

    return router


async def _respond(answer) -> HTMLResponse:
    try:
        status, page = await answer()
    except PageRefused as refused:
        status, page = refused.status, error_page(refused.title, refused.message)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise PageRefused(400, "Please use the survey page", "Send your comment with its form.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageRefused(
                413,
                "That comment is too long",
                f"Please shorten it to {csat.COMMENT_LIMIT:,} characters and send it again.",
            )
    try:
        fields = parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20
        )
    except ValueError:
        raise PageRefused(400, "Please use the survey page", "That form was not ours.") from None
    return {name: values[-1] for name, values in fields.items()}


class SurveyPages:
    def __init__(self, engine: Engine, tokens: csat.SurveyTokens, wake_outbox: Callable[[], None]):
        self._engine = engine
        self._tokens = tokens
        self._wake_outbox = wake_outbox

    def rate(self, token: str, rating_text: str | None) -> tuple[int, str]:
        survey_id = self._survey_id(token)
        rating = int(rating_text) if rating_text in {str(r) for r in csat.RATINGS} else None
        with transaction(self._engine) as session:
            survey = self._survey(session, survey_id)
            if rating_text is not None and rating is None:
                return 400, self._page(session, survey, token, "Please choose one of these.")
            changed = rating is not None and csat.record_rating(session, survey, rating, utcnow())
            page = self._page(session, survey, token, None)
        if changed:
            self._wake_outbox()
        return 200, page

    def comment(self, token: str, raw: str) -> tuple[int, str]:
        survey_id = self._survey_id(token)
        comment, cut = csat.clean_comment(raw)
        with transaction(self._engine) as session:
            survey = self._survey(session, survey_id)
            if not comment:
                return 400, self._page(session, survey, token, "Write a comment before sending.")
            changed = csat.record_comment(session, survey, comment, utcnow())
            notice = "Thank you for your comment."
            if cut:
                notice += f" We kept its first {csat.COMMENT_LIMIT:,} characters."
            page = self._page(session, survey, token, notice)
        if changed:
            self._wake_outbox()
        return 200, page

    def _survey_id(self, token: str) -> int:
        try:
            return self._tokens.survey_of(token)
        except csat.TokenExpired:
            raise PageRefused(
                410,
                "This survey has closed",
                "Its links worked for a while after your request was solved. Thank you anyway!",
            ) from None
        except csat.TokenForged:
            raise PageRefused(
                400,
                "This link is not valid",
                "It may have been cut short or changed. Please use the link from our email.",
            ) from None

    def _survey(self, session: Session, survey_id: int) -> CsatSurvey:
        survey = session.get(CsatSurvey, survey_id, with_for_update=True)
        if survey is None:
            raise PageRefused(404, "Survey not found", "This survey no longer exists.")
        return survey

    def _page(self, session: Session, survey: CsatSurvey, token: str, notice: str | None) -> str:
        ticket = session.get(Ticket, survey.ticket_id)
        return survey_page(
            SurveyPage(
                ticket_number=ticket.number,
                subject=ticket.subject,
                token=token,
                choices=CHOICES,
                rating=survey.rating,
                comment=survey.comment,
                comment_limit=csat.COMMENT_LIMIT,
                notice=notice,
            )
        )
