"""CSAT: solving a ticket emails a survey whose links, over real HTTP, rate and comment.

Outbound mail lands in a real SMTP server; Slack is the fake Web API on loopback; the survey
pages are fetched from the running helpdesk with urllib, as a browser without JavaScript would.
"""

from __future__ import annotations

import html
import logging
import re
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.csat import SurveyTokens
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import CsatSurvey
from bot.views import ids
from tests.e2e.harness import CHANNEL, SUPPORT, MailSink, eventually, running_helpdesk
from tests.e2e.test_agent_workflow import AGENT, Desk, answer_values
from tests.unit.test_csat_tokens import forge

SECRET_KEY = "csat-test-secret-key-0123456789"
PUBLIC_URL = "https://help.shop.example"
TTL = timedelta(days=14)
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/csat/[A-Za-z0-9_.\-]+\?rating=[1-5]")


def start_desk(stack: ExitStack, database_url: str, **settings) -> Desk:
    slack = stack.enter_context(FakeSlack())
    slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
    slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
    sink = stack.enter_context(MailSink())
    helpdesk = stack.enter_context(
        running_helpdesk(database_url, slack, Policy(), outbound_smtp_url=sink.url, **settings)
    )
    return Desk(helpdesk, slack, sink)


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        yield start_desk(
            stack, database_url, helpdesk_secret_key=SECRET_KEY, helpdesk_public_url=PUBLIC_URL
        )


def set_status(desk: Desk, status: str) -> None:
    click = desk.click(ids.TICKET_STATUS_MENU, value=None, selected_option={"value": status})
    assert click.status == 200
    assert eventually(lambda: desk.ticket().status == status)
    desk.wait_for_outbox()


def survey_links(desk: Desk) -> dict[int, str]:
    """The survey email's links by rating, pointed at the running helpdesk."""
    [survey] = [mail for mail in desk.sink.parsed() if "How did we do?" in mail["Subject"]]
    plain = survey.get_body(("plain",)).get_content()
    in_html = html.unescape(survey.get_body(("html",)).get_content())
    assert LINK.findall(plain) == LINK.findall(in_html)
    local = f"http://127.0.0.1:{desk.helpdesk.http_port}"
    return {int(link[-1]): link.replace(PUBLIC_URL, local) for link in LINK.findall(plain)}


def fetch(
    url: str, form: dict[str, str] | None = None, raw: bytes | None = None, **headers
) -> tuple[int, Message, str]:
    data = urlencode(form).encode() if form is not None else raw
    try:
        with urlopen(Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except HTTPError as error:
        return error.code, error.headers, error.read().decode()


def comment_url(page_url: str, page: str) -> str:
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    return urljoin(page_url, html.unescape(action))


def surveys(desk: Desk) -> list[CsatSurvey]:
    with Session(desk.helpdesk.engine) as session:
        return list(session.exec(select(CsatSurvey)))


def root_csat(desk: Desk) -> str | None:
    root = desk.slack.thread(CHANNEL, desk.root_ts)[0]
    lines = [e["text"] for b in root["blocks"] if b["type"] == "context" for e in b["elements"]]
    return next((line for line in lines if line.startswith("CSAT")), None)


def notices(desk: Desk) -> list[str]:
    return [text for text in desk.thread_texts() if "The customer" in text]


def test_solving_emails_a_survey_whose_links_record_and_change_the_rating(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    [(recipients, _)] = desk.sink.messages
    [mail] = desk.sink.parsed()
    assert recipients == ["jane@customer.example"]
    assert mail["From"] == SUPPORT and mail["To"] == "Jane Doe <jane@customer.example>"
    assert mail["Subject"] == "How did we do? [#1] Where is my order?"
    assert mail["In-Reply-To"] == desk.first_mail["Message-ID"]
    assert desk.first_mail["Message-ID"] in mail["References"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "Hi Jane," in mail.get_body(("plain",)).get_content()
    links = survey_links(desk)
    assert sorted(links) == [1, 2, 3, 4, 5]

    status, headers, page = fetch(links[4])
    assert status == 200 and "Thank you!" in page and "Where is my order?" in page
    assert headers["Content-Security-Policy"] == CSP
    assert "<script" not in page and '<form method="post"' in page
    [survey] = surveys(desk)
    assert survey.rating == 4 and survey.answered_at is not None
    desk.wait_for_outbox()
    assert notices(desk) == [":star: The customer rated this ticket ★★★★☆ 4/5."]
    assert root_csat(desk) == "CSAT ★★★★☆ 4/5"

    assert fetch(links[2])[0] == 200
    assert fetch(links[2])[0] == 200  # the same click again, or a reload: nothing new
    [survey] = surveys(desk)
    assert survey.rating == 2
    desk.wait_for_outbox()
    assert notices(desk)[1:] == [":star: The customer changed their rating from 4/5 to ★★☆☆☆ 2/5."]
    assert root_csat(desk) == "CSAT ★★☆☆☆ 2/5"


def test_a_comment_is_stored_as_text_and_shown_escaped(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    link = survey_links(desk)[5]
    status, _, page = fetch(link)
    post_to = comment_url(link, page)

    hostile = "<script>alert(1)</script> & <!channel>\x00 great\r\nservice"
    status, headers, page = fetch(post_to, {"comment": hostile})
    assert status == 200 and "Thank you for your comment." in page
    assert headers["Content-Security-Policy"] == CSP
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    [survey] = surveys(desk)
    assert survey.comment == "<script>alert(1)</script> & <!channel> great\nservice"
    desk.wait_for_outbox()
    notice = notices(desk)[-1]
    assert notice.startswith(":speech_balloon: The customer commented on the survey:")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in notice
    assert "<!channel>" not in notice and ">service" in notice  # each line quoted
    assert root_csat(desk).startswith("CSAT ★★★★★ 5/5 · “&lt;script&gt;")

    status, _, page = fetch(post_to, {"comment": "y" * 100_000})
    assert status == 200 and "We kept its first 5,000 characters." in page
    [survey] = surveys(desk)
    assert survey.comment == "y" * 5000 and survey.rating == 5
    desk.wait_for_outbox()
    assert len(notices(desk)[-1]) < 3000

    status, _, page = fetch(post_to, {"comment": " \r\n "})
    assert status == 400 and "Write a comment before sending." in page
    assert fetch(post_to, {"comment": "z" * 2_000_000})[0] == 413
    assert fetch(post_to, raw=b"comment=hello", **{"Content-Type": "text/plain"})[0] == 400
    assert surveys(desk)[0].comment == "y" * 5000


def test_forged_expired_and_unknown_links_get_clear_pages(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    link = survey_links(desk)[3]
    base, _, query = link.partition("?")
    token = base.rpartition("/")[2]
    [survey] = surveys(desk)
    tokens = SurveyTokens(SECRET_KEY, TTL)

    forged = base[: -len(token)] + forge(token)
    status, headers, page = fetch(f"{forged}?{query}")
    assert status == 400 and "This link is not valid" in page
    assert headers["Content-Security-Policy"] == CSP
    assert fetch(forged, {"comment": "hello"})[0] == 400

    expired = tokens.issue(survey.id, datetime.now(UTC) - TTL - timedelta(days=1))
    status, _, page = fetch(f"{base[: -len(token)]}{expired}?{query}")
    assert status == 410 and "This survey has closed" in page

    unknown = tokens.issue(survey.id + 1000, datetime.now(UTC))
    status, _, page = fetch(f"{base[: -len(token)]}{unknown}?{query}")
    assert status == 404 and "Survey not found" in page

    for bad in ("9", "0", "x", "4.5"):
        status, _, page = fetch(f"{base}?rating={bad}")
        assert status == 400 and "Please choose one of these." in page
    status, _, page = fetch(base)
    assert status == 200 and "How did we do?" in page and "<form" not in page
    assert surveys(desk)[0].rating is None
    desk.wait_for_outbox()
    assert notices(desk) == [] and root_csat(desk) is None


def test_one_survey_per_customer_per_period_and_none_for_a_closed_ticket(desk):
    assert desk.click(ids.TICKET_CLOSE).status == 200
    assert eventually(lambda: desk.ticket().status == "closed")
    desk.wait_for_outbox()
    assert surveys(desk) == [] and desk.sink.messages == []

    # Solved with the reply: the survey follows the reply, in the same conversation.
    set_status(desk, "open")
    desk.click(ids.TICKET_REPLY)
    view = desk.opened_view()
    desk.submit(view, answer_values(view, "It ships today.", "solved"))
    assert eventually(lambda: len(desk.sink.messages) == 2, timeout=10)
    reply, survey_mail = desk.sink.parsed()
    assert reply["Subject"] == "Re: Where is my order?"
    assert survey_mail["Subject"].startswith("How did we do?")
    assert reply["Message-ID"] in survey_mail["References"]

    set_status(desk, "open")
    set_status(desk, "solved")
    assert len(surveys(desk)) == 1 and len(desk.sink.messages) == 2


def test_without_a_secret_key_no_survey_is_sent(database_url, caplog):
    with ExitStack() as stack, caplog.at_level(logging.WARNING):
        desk = start_desk(stack, database_url, helpdesk_public_url=PUBLIC_URL)
        assert "set HELPDESK_SECRET_KEY" in caplog.text
        set_status(desk, "solved")
        assert surveys(desk) == [] and desk.sink.messages == []
        assert fetch(f"http://127.0.0.1:{desk.helpdesk.http_port}/csat/anything")[0] == 404
