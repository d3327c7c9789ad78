"""The survey pages under /csat/ and /nps/: a link's GET shows the question, the form's POST
answers.

Mail scanners and link previews open every link in a message, so the GET changes nothing;
only the form, posted back to the same signed address, records an answer and comment. The
token in that address is the capability, so there is no session or CSRF token: a page
elsewhere that knows no token can't post an answer, and one that does could as well open
the link.

People, not programs, read these answers, so every outcome is an HTML page with the right
status: 400 for a link that was tampered with (or one of the other kind of survey), 410 for
an expired one, 404 for a survey that no longer exists.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.core.survey_links import (
    COMMENT_LIMIT,
    SurveyKind,
    SurveyTokens,
    TokenExpired,
    TokenForged,
    clean_comment,
)
from bot.storage.db import transaction
from bot.storage.models import Ticket, utcnow
from bot.views.survey_page import HEADERS, SurveyPage, error_page, survey_page

# Room for a comment far over the limit (it is cut, with a note) without reading unbounded input.
MAX_FORM_BYTES = 1024 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


class PageRefused(Exception):
    def __init__(self, status: int, title: str, message: str):
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


def survey_router(engine: Engine, tokens: SurveyTokens, kind: SurveyKind) -> APIRouter:
    pages = SurveyPages(engine, tokens, kind)
    field = kind.scale.field
    router = APIRouter()

    @router.get(f"/{kind.scale.path}/{{token}}", response_class=HTMLResponse)
    async def ask(token: str, request: Request) -> HTMLResponse:
        chosen = request.query_params.get(field)
        return await _respond(lambda: run_in_threadpool(pages.ask, token, chosen))

    @router.post(f"/{kind.scale.path}/{{token}}", response_class=HTMLResponse)
    async def answer(token: str, request: Request) -> HTMLResponse:
        async def record() -> tuple[int, str]:
            form = await _form(request)
            return await run_in_threadpool(
                pages.answer, token, form.get(field), form.get("comment", "")
            )

        return await _respond(record)

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
        raise PageRefused(400, "Please use the survey page", "Send your answer with its form.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageRefused(
                413,
                "That comment is too long",
                f"Please shorten it to {COMMENT_LIMIT:,} characters and send it again.",
            )
    try:
        fields = parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20
        )
    except ValueError:
        raise PageRefused(400, "Please use the survey page", "That form was not ours.") from None
    return {name: values[-1] for name, values in fields.items()}


class SurveyPages:
    def __init__(self, engine: Engine, tokens: SurveyTokens, kind: SurveyKind):
        self._engine = engine
        self._tokens = tokens
        self._kind = kind

    def ask(self, token: str, chosen_text: str | None) -> tuple[int, str]:
        """The page for a link: its choice preselected, nothing recorded."""
        survey_id = self._survey_id(token)
        chosen = self._kind.scale.value_of(chosen_text)
        with Session(self._engine) as session:
            survey = self._survey(session, survey_id)
            if chosen_text is not None and chosen is None:
                return 400, self._page(session, survey, token, None, "Please choose one of these.")
            return 200, self._page(session, survey, token, chosen, None)

    def answer(self, token: str, chosen_text: str | None, raw_comment: str) -> tuple[int, str]:
        """Records the form: a choice (required) and an optional comment. The same answer
        sent twice changes nothing and tells Slack nothing."""
        survey_id = self._survey_id(token)
        chosen = self._kind.scale.value_of(chosen_text)
        comment, cut = clean_comment(raw_comment)
        with transaction(self._engine) as session:
            survey = self._survey(session, survey_id, lock=True)
            if chosen is None:
                return 400, self._page(session, survey, token, None, "Please choose one of these.")
            self._kind.record(session, survey, chosen, comment, utcnow())
            notice = "Thank you, your answer is saved."
            if cut:
                notice += f" We kept the first {COMMENT_LIMIT:,} characters of your comment."
            page = self._page(session, survey, token, None, notice)
        return 200, page

    def _survey_id(self, token: str) -> int:
        try:
            return self._tokens.survey_of(token)
        except TokenExpired:
            raise PageRefused(
                410,
                "This survey has closed",
                "Its links worked for a while after we sent it. Thank you anyway!",
            ) from None
        except TokenForged:
            raise PageRefused(
                400,
                "This link is not valid",
                "It may have been cut short or changed. Please use the link from our email.",
            ) from None

    def _survey(self, session: Session, survey_id: int, lock: bool = False) -> Any:
        survey = session.get(self._kind.table, survey_id, with_for_update=lock)
        if survey is None:
            raise PageRefused(404, "Survey not found", "This survey no longer exists.")
        return survey

    def _page(
        self, session: Session, survey: Any, token: str, chosen: int | None, notice: str | None
    ) -> str:
        ticket = session.get(Ticket, survey.ticket_id)
        answer = self._kind.answer_of(survey)
        return survey_page(
            SurveyPage(
                question=self._kind.question,
                legend=self._kind.legend,
                field=self._kind.scale.field,
                ticket_number=ticket.number,
                subject=ticket.subject,
                token=token,
                choices=self._kind.scale.choices,
                chosen=answer if chosen is None else chosen,
                answered=answer is not None,
                comment=survey.comment,
                comment_limit=COMMENT_LIMIT,
                notice=notice,
            )
        )
