"""NPS: a solved ticket's survey goes out over real SMTP once due; its signed links open pages
whose forms answer it; the digest and `/helpdesk stats` show the score, and detractors'
comments go to the digest's thread.

Time is not travelled here (the helpdesk runs in threads): a survey comes due by moving its
due time back, as the days passing would, and the job is then called as the scheduler would.
The scheduling rules themselves, with a travelling clock: tests/core/test_nps.py.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.csat import SALT as CSAT_SALT
from bot.core.nps import SALT
from bot.core.survey_links import SurveyTokens
from bot.jobs.daily_digest import enqueue_digest
from bot.jobs.nps_surveys import send_due_nps
from bot.storage.db import transaction
from bot.storage.models import NpsState, NpsSurvey, utcnow
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.test_agent_workflow import Desk
from tests.e2e.test_csat import (
    CSP,
    PUBLIC_URL,
    SECRET_KEY,
    fetch,
    form_url,
    set_status,
    start_desk,
    survey_links,
)
from tests.e2e.test_digest import assert_valid_blocks, stats
from tests.unit.test_csat_tokens import forge


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


DIGEST = "C0DIGEST"
SHOP = "Acme & Co <Shop>"
QUESTION = f"How likely are you to recommend {SHOP} to a friend?"
TTL = timedelta(days=14)
POLICY = Policy(
    csat={"enabled": False},
    nps={"enabled": True, "after": "3d", "shop_name": SHOP},
    digest={"channel": DIGEST},
)
LINK = re.compile(re.escape(PUBLIC_URL) + r"/nps/[A-Za-z0-9_.\-]+\?score=\d+")


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        desk = start_desk(
            stack,
            database_url,
            POLICY,
            helpdesk_secret_key=SECRET_KEY,
            helpdesk_public_url=PUBLIC_URL,
        )
        desk.slack.add_channel(DIGEST, "managers")
        yield desk


def surveys(desk: Desk) -> list[NpsSurvey]:
    with Session(desk.helpdesk.engine) as session:
        return list(session.exec(select(NpsSurvey).order_by(NpsSurvey.id)))


def days_pass(desk: Desk) -> int:
    """The scheduled surveys come due, and the job runs; how many it sent."""
    with transaction(desk.helpdesk.engine) as session:
        session.execute(
            update(NpsSurvey)
            .where(NpsSurvey.state == NpsState.SCHEDULED)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
    sent = send_due_nps(desk.helpdesk.engine, POLICY.nps)
    desk.wait_for_outbox()
    return sent


def nps_links(desk: Desk) -> dict[int, str]:
    return survey_links(desk, LINK, "recommend")


def checked(page: str) -> list[str]:
    return re.findall(r'name="score" value="(\d+)" required checked', page)


def solved_and_sent(desk: Desk) -> dict[int, str]:
    set_status(desk, "solved")
    assert days_pass(desk) == 1
    return nps_links(desk)


@ON_BOTH_DATABASES
def test_the_survey_goes_out_once_due_and_its_form_records_a_change_of_mind(desk):
    set_status(desk, "solved")
    [survey] = surveys(desk)
    assert survey.state == NpsState.SCHEDULED and desk.sink.messages == []
    assert send_due_nps(desk.helpdesk.engine, POLICY.nps) == 0  # not due for three days

    assert days_pass(desk) == 1
    assert days_pass(desk) == 0  # sent once, whoever runs the job again
    assert len(desk.sink.messages) == 1
    [(recipients, _)] = desk.sink.messages
    [mail] = desk.sink.parsed()
    assert recipients == ["jane@customer.example"]
    assert mail["Subject"] == f"{QUESTION} [#1] Where is my order?"
    assert mail["In-Reply-To"] == desk.first_mail["Message-ID"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert QUESTION in mail.get_body(("plain",)).get_content()
    assert html.escape(QUESTION) in mail.get_body(("html",)).get_content()
    links = nps_links(desk)
    assert sorted(links) == list(range(11))

    # Opening every link (a mail scanner) records nothing; the page asks, escaped.
    for link in links.values():
        status, headers, page = fetch(link)
        assert status == 200 and html.escape(QUESTION) in page and SHOP not in page
    assert headers["Content-Security-Policy"] == CSP
    status, _, page = fetch(links[0])
    assert checked(page) == ["0"] and "<script" not in page
    assert surveys(desk)[0].score is None

    # The form, posted back to the signed address, records the score and comment.
    post_to = form_url(links[3], fetch(links[3])[2])
    status, _, page = fetch(post_to, {"score": "3", "comment": "Took a week <b>&</b>"})
    assert status == 200 and "Thank you, your answer is saved." in page
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in page and "<b>" not in page
    [survey] = surveys(desk)
    assert (survey.score, survey.comment) == (3, "Took a week <b>&</b>")
    assert survey.state == NpsState.SENT

    # The same post again (a reload, a replay) changes nothing; another score changes it.
    assert fetch(post_to, {"score": "3", "comment": "Took a week <b>&</b>"})[0] == 200
    assert surveys(desk)[0].answered_at == survey.answered_at
    assert fetch(post_to, {"score": "9"})[0] == 200
    [survey] = surveys(desk)
    assert (survey.score, survey.comment) == (9, "Took a week <b>&</b>")
    assert checked(fetch(links[0].partition("?")[0])[2]) == ["9"]


def test_tampered_replayed_foreign_and_out_of_range_links_record_nothing(desk):
    links = solved_and_sent(desk)
    base, _, _ = links[7].partition("?")
    token = base.rpartition("/")[2]
    prefix = base[: -len(token)]
    [survey] = surveys(desk)

    forged = prefix + forge(token)
    status, headers, page = fetch(f"{forged}?score=7")
    assert status == 400 and "This link is not valid" in page
    assert headers["Content-Security-Policy"] == CSP
    assert fetch(forged, {"score": "7"})[0] == 400

    # A CSAT link's token for the same id is not an NPS token: the salts differ.
    csat_token = SurveyTokens(SECRET_KEY, TTL, salt=CSAT_SALT).issue(survey.id, utcnow())
    assert fetch(f"{prefix}{csat_token}", {"score": "10"})[0] == 400

    nps_tokens = SurveyTokens(SECRET_KEY, TTL, salt=SALT)
    expired = nps_tokens.issue(survey.id, datetime.now(UTC) - TTL - timedelta(days=1))
    status, _, page = fetch(f"{prefix}{expired}?score=7")
    assert status == 410 and "This survey has closed" in page
    assert fetch(f"{prefix}{expired}", {"score": "7"})[0] == 410
    unknown = nps_tokens.issue(survey.id + 1000, datetime.now(UTC))
    assert fetch(f"{prefix}{unknown}", {"score": "7"})[0] == 404

    for bad in ("11", "-1", "x", "7.5", "010"):
        status, _, page = fetch(f"{base}?score={bad}")
        assert status == 400 and "Please choose one of these." in page
        status, _, page = fetch(base, {"score": bad})
        assert status == 400 and "Please choose one of these." in page
    assert fetch(base, raw=b"score=7", **{"Content-Type": "text/plain"})[0] == 400
    assert fetch(base, {"rating": "5"})[0] == 400  # CSAT's field is not NPS's
    assert surveys(desk)[0].score is None and surveys(desk)[0].answered_at is None

    # A replayed genuine link within its life answers like the first click did.
    assert fetch(base, {"score": "7"})[0] == 200
    assert fetch(base, {"score": "7"})[0] == 200
    assert surveys(desk)[0].score == 7


def test_reopening_before_it_is_due_cancels_the_survey(desk):
    set_status(desk, "solved")
    set_status(desk, "open")
    assert days_pass(desk) == 0
    assert [s.state for s in surveys(desk)] == [NpsState.CANCELLED]
    assert desk.sink.messages == []


def test_the_digest_and_stats_show_nps_and_detractors_comments_reach_the_digest_thread(desk):
    links = solved_and_sent(desk)
    post_to = form_url(links[2], fetch(links[2])[2])
    hostile = "Never again <!channel> & <https://evil.example|click>\nsecond line"
    assert fetch(post_to, {"score": "2", "comment": hostile})[0] == 200

    today = datetime.now(UTC).date()  # the policy's zone is UTC
    assert enqueue_digest(desk.helpdesk.engine, today, DIGEST, POLICY.timezone)
    desk.slack.wait_for(lambda: len(desk.slack.messages_in(DIGEST)) >= 3, timeout=60)
    desk.wait_for_outbox()
    digest = next(m for m in desk.slack.messages_in(DIGEST) if m.get("blocks"))
    assert_valid_blocks(digest["blocks"])
    shown = json.dumps(digest["blocks"], ensure_ascii=False)
    assert "*NPS*\\n-100 (0 promoters, 0 passives, 1 detractor)" in shown
    assert "NPS, last 90 days: -100 from 1 answer; by 30 days, oldest first: - → - → -100" in shown

    [_, comments] = desk.slack.thread(DIGEST, digest["ts"])
    text = comments["text"]
    assert text.startswith(":speech_balloon: NPS detractors' comments (scores 0 to 6)")
    assert "*2/10* · ticket #1" in text
    assert ">Never again &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert ">second line" in text and "<!channel>" not in text

    _, answer = stats(desk, "stats week")
    assert_valid_blocks(answer["blocks"])
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "*NPS*\\n-100 (0 promoters, 0 passives, 1 detractor)" in shown
    assert "NPS, last 90 days: -100 from 1 answer" in shown


def test_a_digest_without_detractors_comments_posts_none_to_its_thread(desk):
    links = solved_and_sent(desk)
    assert (
        fetch(form_url(links[10], fetch(links[10])[2]), {"score": "10", "comment": "Great"})[0]
        == 200
    )
    today = datetime.now(UTC).date()
    assert enqueue_digest(desk.helpdesk.engine, today, DIGEST, POLICY.timezone)
    desk.slack.wait_for(lambda: len(desk.slack.messages_in(DIGEST)) >= 2, timeout=60)
    desk.wait_for_outbox()
    digest = next(m for m in desk.slack.messages_in(DIGEST) if m.get("blocks"))
    assert "*NPS*\\n+100 (1 promoter, 0 passives, 0 detractors)" in json.dumps(
        digest["blocks"], ensure_ascii=False
    )
    assert desk.slack.thread(DIGEST, digest["ts"])[1:] == []
