"""Net Promoter Score surveys: scheduled when a ticket is solved, sent once due, answered by link.

Solving a ticket schedules one `NpsSurvey` row, due `nps.after` later; reopening the ticket
before then cancels it. `send_due` (run by bot/jobs/nps_surveys.py) sends the surveys that
came due, through the outbox, unless

- the ticket got a CSAT survey: a customer is never asked both about the same ticket, and
  CSAT, sent at once, has already asked (`skipped_csat`);
- the customer was sent an NPS survey within `nps.once_per` (`skipped_recent`).

Links are signed as bot/core/survey_links.py says, with their own salt. Answers overwrite,
as CSAT's do: a later click within the links' life changes the score rather than adding one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.config import NpsPolicy, Policy, Settings
from bot.core import outbox
from bot.core.survey_links import Scale, SurveyKind, SurveyTokens
from bot.core.visitors import is_reachable
from bot.storage.models import CsatSurvey, Customer, NpsState, NpsSurvey, Ticket

log = logging.getLogger(__name__)

SALT = "nps-survey"
SCORES = range(0, 11)
PROMOTER_FROM = 9  # 9 and 10
DETRACTOR_UP_TO = 6  # 0 to 6
_ENDS = {0: "Not at all likely", 10: "Extremely likely"}
SCALE = Scale(
    path="nps",
    field="score",
    choices=tuple(
        (score, f"{score} - {_ENDS[score]}" if score in _ENDS else str(score)) for score in SCORES
    ),
)


def question(policy: NpsPolicy) -> str:
    return f"How likely are you to recommend {policy.shop_name or 'us'} to a friend?"


def nps_tokens(settings: Settings, policy: Policy) -> SurveyTokens | None:
    """The signer of NPS links, or None (and one warning) when NPS is on without a key."""
    if not policy.nps.enabled:
        return None
    if settings.helpdesk_secret_key is None:
        log.warning("NPS surveys are off: set HELPDESK_SECRET_KEY to sign their links")
        return None
    return SurveyTokens(settings.helpdesk_secret_key, policy.nps.token_ttl, salt=SALT)


def schedule(session: Session, ticket: Ticket, policy: NpsPolicy, now: datetime) -> None:
    """Called as the ticket becomes solved: its survey, due `policy.after` from now."""
    customer = session.get(Customer, ticket.customer_id)
    if not is_reachable(customer.email):
        return  # a chat visitor who gave no email address
    session.add(
        NpsSurvey(ticket_id=ticket.id, customer_id=ticket.customer_id, due_at=now + policy.after)
    )


def cancel(session: Session, ticket: Ticket) -> None:
    """Called as the ticket is reopened: a survey not sent yet is not sent."""
    for survey in session.exec(
        select(NpsSurvey).where(
            NpsSurvey.ticket_id == ticket.id, NpsSurvey.state == NpsState.SCHEDULED
        )
    ):
        survey.state = NpsState.CANCELLED


def send_due(session: Session, policy: NpsPolicy, now: datetime) -> int:
    """Sends (through the outbox) or skips every scheduled survey due by `now`; returns how
    many were sent."""
    due = session.exec(
        select(NpsSurvey.id)
        .where(NpsSurvey.state == NpsState.SCHEDULED, NpsSurvey.due_at <= now)
        .order_by(NpsSurvey.due_at, NpsSurvey.id)
    ).all()
    sent = 0
    for survey_id in due:
        survey = session.get(NpsSurvey, survey_id)
        # Locking the customer makes two due surveys, or two processes, send one, not two.
        customer = session.get(Customer, survey.customer_id, with_for_update=True)
        session.refresh(survey, with_for_update=True)
        if survey.state != NpsState.SCHEDULED:
            continue  # sent or cancelled by someone else meanwhile
        if is_reachable(customer.email):
            survey.state = _verdict(session, survey, policy, now)
        else:
            survey.state = NpsState.CANCELLED  # erased since the ticket was solved
        if survey.state == NpsState.SENT:
            survey.sent_at = now
            session.flush()  # seen by the next survey's once-per-period look
            outbox.send_nps(session, survey.ticket_id, survey.id)
            sent += 1
        else:
            log.info("NPS survey %s not sent: %s", survey.id, survey.state)
    return sent


def _verdict(session: Session, survey: NpsSurvey, policy: NpsPolicy, now: datetime) -> NpsState:
    with_csat = session.exec(
        select(CsatSurvey.id).where(CsatSurvey.ticket_id == survey.ticket_id)
    ).first()
    if with_csat is not None:
        return NpsState.SKIPPED_CSAT
    recent = session.exec(
        select(NpsSurvey.id).where(
            NpsSurvey.customer_id == survey.customer_id,
            NpsSurvey.sent_at > now - policy.once_per,
        )
    ).first()
    return NpsState.SENT if recent is None else NpsState.SKIPPED_RECENT


def record_answer(
    session: Session, survey: NpsSurvey, score: int, comment: str, now: datetime
) -> None:
    """Sets or changes the score, and the comment when one is given; a repeat changes nothing."""
    if score not in SCORES:
        raise ValueError(f"a score is 0 to 10, not {score}")
    if survey.score == score and (not comment or survey.comment == comment):
        return
    survey.score, survey.answered_at = score, now
    if comment:
        survey.comment = comment


def detractor_comments(
    session: Session, start: datetime, end: datetime
) -> list[tuple[int, int, str]]:
    """(score, ticket number, comment) of the answers of 0 to 6 with a comment given in
    [start, end), in the order given."""
    rows = session.exec(
        select(NpsSurvey.score, Ticket.number, NpsSurvey.comment)
        .join(Ticket, Ticket.id == NpsSurvey.ticket_id)
        .where(
            NpsSurvey.answered_at >= start,
            NpsSurvey.answered_at < end,
            NpsSurvey.score <= DETRACTOR_UP_TO,
            NpsSurvey.comment.is_not(None),
        )
        .order_by(NpsSurvey.answered_at, NpsSurvey.id)
    )
    return [tuple(row) for row in rows]


def answer_of(survey: NpsSurvey) -> int | None:
    return survey.score


def kind(policy: NpsPolicy) -> SurveyKind:
    return SurveyKind(
        name="nps",
        table=NpsSurvey,
        scale=SCALE,
        question=question(policy),
        legend="0 is not at all likely, 10 extremely likely",
        answer_of=answer_of,
        record=record_answer,
    )


@dataclass(frozen=True)
class Nps:
    """Answers in some span by kind: promoters (9-10), passives (7-8), detractors (0-6)."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @property
    def answers(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> int | None:
        """Percent promoters minus percent detractors, -100 to +100; None without answers."""
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers)


def combined(spans: tuple[Nps, ...]) -> Nps:
    return Nps(
        promoters=sum(span.promoters for span in spans),
        passives=sum(span.passives for span in spans),
        detractors=sum(span.detractors for span in spans),
    )


def kind_of(score: int) -> str:
    if score >= PROMOTER_FROM:
        return "promoters"
    return "detractors" if score <= DETRACTOR_UP_TO else "passives"
