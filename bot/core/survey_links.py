"""What every survey emailed to customers shares (CSAT, NPS): signed links and comments.

A survey's links carry a token naming the survey, signed with HELPDESK_SECRET_KEY and dated
when the survey was sent, so they expire `ttl` later and a retried email carries the same
links. Each kind of survey signs with its own salt, so a CSAT link can't answer an NPS
survey with the same id, nor the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from bot.core.text import multi_line

COMMENT_LIMIT = 5000


class TokenRejected(Exception):
    """A survey link that can't be honoured."""


class TokenForged(TokenRejected):
    """Not signed by this helpdesk: tampered with, truncated, from another key or kind."""


class TokenExpired(TokenRejected):
    """Genuine, but older than the survey's `ttl`."""


class SurveyTokens:
    def __init__(self, secret: str, ttl: timedelta, *, salt: str):
        self._secret = secret
        self._salt = salt
        self.ttl = ttl

    def issue(self, survey_id: int, sent_at: datetime) -> str:
        serializer = URLSafeTimedSerializer(
            self._secret,
            salt=self._salt,
            signer=_SignedAt,
            signer_kwargs={"timestamp": int(sent_at.timestamp())},
        )
        return serializer.dumps(survey_id)

    def survey_of(self, token: str) -> int:
        serializer = URLSafeTimedSerializer(self._secret, salt=self._salt)
        try:
            survey_id = serializer.loads(token, max_age=int(self.ttl.total_seconds()))
        except SignatureExpired:
            raise TokenExpired(token) from None
        except BadData:
            raise TokenForged(token) from None
        if not isinstance(survey_id, int):
            raise TokenForged(token)
        return survey_id


class _SignedAt(TimestampSigner):
    """Signs with a given instant instead of now, so a survey's links all expire together."""

    def __init__(self, *args, timestamp: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._timestamp = timestamp

    def get_timestamp(self) -> int:
        return self._timestamp


@dataclass(frozen=True)
class Scale:
    """A survey's answers as its email and page offer them."""

    path: str  # the pages' address under the public URL: /<path>/<token>
    field: str  # the form field and query parameter naming the answer
    choices: tuple[tuple[int, str], ...]  # (value, label) in the order they are listed

    def links(self, public_url: str, token: str) -> list[tuple[str, str]]:
        """(label, link to the page preselecting it) per choice."""
        base = f"{public_url.rstrip('/')}/{self.path}/{token}"
        return [(label, f"{base}?{self.field}={value}") for value, label in self.choices]

    def value_of(self, text: str | None) -> int | None:
        """The answer a form or link names, or None when it names none of the choices."""
        return next((value for value, _ in self.choices if text == str(value)), None)


@dataclass(frozen=True)
class SurveyKind:
    """One kind of survey (`csat.KIND`, `nps.kind(policy)`) as its email, pages and events
    need it."""

    name: str  # "csat": the ticket's events are csat_sent and csat_failed
    table: type  # its rows: CsatSurvey, NpsSurvey
    scale: Scale
    question: str  # the email's subject and the page's heading
    legend: str  # over the page's choices
    answer_of: Callable[[Any], int | None]  # a row's answer, None until answered
    record: Callable[[Any, Any, int, str, datetime], None]  # (session, row, answer, comment, now)


def clean_comment(raw: str) -> tuple[str, bool]:
    """The comment as stored, and whether it had to be cut to COMMENT_LIMIT characters."""
    text = multi_line(raw).strip()
    return text[:COMMENT_LIMIT], len(text) > COMMENT_LIMIT
