"""The day as the digest channel shows it: every figure, the 14-day trend and its chart, and the
NPS detractors' comments for its thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.charts import trend_png
from bot.core import metrics, nps
from bot.storage.models import utcnow
from bot.views.digest import digest_blocks, digest_text, digest_title
from bot.views.nps_comments import DetractorComment


@dataclass(frozen=True)
class Digest:
    text: str
    blocks: list[dict]
    chart: bytes
    filename: str


def render_digest(session: Session, day: date, zone: ZoneInfo) -> Digest:
    report = metrics.report(session, metrics.Period.day(day, zone), utcnow())
    title = digest_title(report)
    days = metrics.trend(session, day, zone)
    return Digest(
        text=digest_text(report, title),
        blocks=digest_blocks(report, title),
        chart=trend_png(days, f"Last {len(days)} days: created, solved, deflected, first response"),
        filename=f"helpdesk-digest-{day.isoformat()}.png",
    )


def detractor_comments(session: Session, day: date, zone: ZoneInfo) -> list[DetractorComment]:
    period = metrics.Period.day(day, zone)
    return [
        DetractorComment(score, number, comment)
        for score, number, comment in nps.detractor_comments(session, period.start, period.end)
    ]
