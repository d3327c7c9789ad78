"""Customer satisfaction surveys: offered when a ticket is solved, answered through signed links.

A survey is one `CsatSurvey` row, created in the transaction that solves the ticket together
with the outbox row of its email. Its links are signed as bot/core/survey_links.py says,
dated when the survey was offered, so they expire `token_ttl` later. Answers overwrite: a
second click changes the rating rather than adding one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session, select

from bot.config import CsatPolicy, Policy, Settings
from bot.core import outbox
from bot.core.ratings import RATINGS, rating_label
from bot.core.survey_links import Scale, SurveyKind, SurveyTokens
from bot.core.visitors import is_reachable
from bot.storage.models import CsatSurvey, Customer, Ticket

log = logging.getLogger(__name__)

SALT = "csat-survey"
QUESTION = "How did we do?"
SCALE = Scale(
    path="csat",
    field="rating",
    choices=tuple((rating, rating_label(rating)) for rating in reversed(RATINGS)),  # best first
)


def survey_tokens(settings: Settings, policy: Policy) -> SurveyTokens | None:
    """The signer of survey links, or None (and one warning) without HELPDESK_SECRET_KEY.

    No key is derived from the Slack secrets: rotating those would quietly break every link
    already in customers' mailboxes, and surveys would start going out on an upgrade unasked.
    """
    if settings.helpdesk_secret_key is None:
        if policy.csat.enabled:
            log.warning("CSAT surveys are off: set HELPDESK_SECRET_KEY to sign their links")
        return None
    return SurveyTokens(settings.helpdesk_secret_key, policy.csat.token_ttl, salt=SALT)


def offer_survey(
    session: Session, ticket: Ticket, policy: CsatPolicy, now: datetime
) -> CsatSurvey | None:
    """Called as the ticket becomes solved; at most one survey per customer per `once_per`."""
    # Locking the customer makes two tickets solved at once send one survey, not two.
    customer = session.get(Customer, ticket.customer_id, with_for_update=True)
    if not is_reachable(customer.email):
        return None  # a chat visitor who gave no email address
    recent = session.exec(
        select(CsatSurvey.id).where(
            CsatSurvey.customer_id == ticket.customer_id,
            CsatSurvey.sent_at > now - policy.once_per,
        )
    ).first()
    if recent is not None:
        return None
    survey = CsatSurvey(ticket_id=ticket.id, customer_id=ticket.customer_id, sent_at=now)
    session.add(survey)
    session.flush()
    outbox.send_survey(session, ticket.id, survey.id)
    return survey


def record_answer(
    session: Session, survey: CsatSurvey, rating: int, comment: str, now: datetime
) -> None:
    """The survey form's answer: a rating, and a comment when one is given."""
    record_rating(session, survey, rating, now)
    record_comment(session, survey, comment, now)


def answer_of(survey: CsatSurvey) -> int | None:
    return survey.rating


def record_rating(session: Session, survey: CsatSurvey, rating: int, now: datetime) -> None:
    """Sets or changes the rating; nothing when it already was this one (a reload, a re-click)."""
    if rating not in RATINGS:
        raise ValueError(f"a rating is 1 to 5, not {rating}")
    if survey.rating == rating:
        return
    survey.rating, survey.answered_at = rating, now
    _show_answer(session, survey)


def record_comment(session: Session, survey: CsatSurvey, comment: str, now: datetime) -> None:
    """Stores a cleaned, non-empty comment; nothing when it is the one already stored."""
    if not comment or survey.comment == comment:
        return
    survey.comment, survey.answered_at = comment, now
    _show_answer(session, survey)


def _show_answer(session: Session, survey: CsatSurvey) -> None:
    outbox.show_survey_answer(session, survey.ticket_id, survey.id)
    outbox.refresh_root(session, survey.ticket_id)


KIND = SurveyKind(
    name="csat",
    table=CsatSurvey,
    scale=SCALE,
    question=QUESTION,
    legend="Your rating",
    answer_of=answer_of,
    record=record_answer,
)


def latest_answer(session: Session, ticket_id: int) -> CsatSurvey | None:
    """The ticket's latest answered survey, whose rating and comment its root shows."""
    return session.exec(
        select(CsatSurvey)
        .where(CsatSurvey.ticket_id == ticket_id, CsatSurvey.rating.is_not(None))
        .order_by(CsatSurvey.answered_at.desc(), CsatSurvey.id.desc())
    ).first()
