"""CSAT: solving a ticket emails a survey whose links open a page, whose form answers it.

Outbound mail lands in a real SMTP server; Slack is the fake Web API on loopback; the survey
pages are fetched and their forms posted with urllib, as a browser without JavaScript would.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.error import HTTPError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core.csat import SALT
from bot.core.survey_links import SurveyTokens
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import CsatSurvey, OutboxItem
from bot.views import ids
from tests.conftest import ON_BOTH_DATABASES, sqlite_unless_on_both
from tests.e2e.harness import CHANNEL, SUPPORT, MailSink, eventually, running_helpdesk
from tests.e2e.test_agent_workflow import AGENT, Desk, answer_values
from tests.unit.test_csat_tokens import forge


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """SQLite; the tests marked ON_BOTH_DATABASES, whose outcome the database decides, on
    each backend (docs/testing.md)."""
    yield from sqlite_unless_on_both(request, tmp_path)


SECRET_KEY = "csat-test-secret-key-0123456789"
PUBLIC_URL = "https://help.shop.example"
TTL = timedelta(days=14)
CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/csat/[A-Za-z0-9_.\-]+\?rating=[1-5]")


def start_desk(
    stack: ExitStack, database_url: str, policy: Policy | None = None, **settings
) -> Desk:
    """A running helpdesk with Jane's ticket; tests/e2e/test_nps.py passes its own policy."""
    slack = stack.enter_context(FakeSlack())
    slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
    slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
    sink = stack.enter_context(MailSink())
    helpdesk = stack.enter_context(
        running_helpdesk(
            database_url, slack, policy or Policy(), outbound_smtp_url=sink.url, **settings
        )
    )
    return Desk(helpdesk, slack, sink)


@pytest.fixture
def desk(database_url):
    with ExitStack() as stack:
        yield start_desk(
            stack, database_url, helpdesk_secret_key=SECRET_KEY, helpdesk_public_url=PUBLIC_URL
        )


def set_status(desk: Desk, choice: str, becomes: str | None = None) -> None:
    """Picks `choice` in the root's ⋯ menu; the ticket `becomes` that status (or `choice`)."""
    click = desk.click(ids.TICKET_STATUS_MENU, value=None, selected_option={"value": choice})
    assert click.status == 200
    assert eventually(lambda: desk.ticket().status == (becomes or choice))
    desk.wait_for_outbox()


def survey_links(
    desk: Desk, link: re.Pattern = LINK, subject: str = "How did we do?"
) -> dict[int, str]:
    """The survey email's links by answer, pointed at the running helpdesk; the same in its
    text and HTML parts. tests/e2e/test_nps.py passes NPS's link pattern and subject."""
    [survey] = [mail for mail in desk.sink.parsed() if subject in mail["Subject"]]
    plain = survey.get_body(("plain",)).get_content()
    in_html = html.unescape(survey.get_body(("html",)).get_content())
    assert link.findall(plain) == link.findall(in_html)
    local = f"http://127.0.0.1:{desk.helpdesk.http_port}"
    return {
        int(found.rpartition("=")[2]): found.replace(PUBLIC_URL, local)
        for found in link.findall(plain)
    }


def fetch(
    url: str, form: dict[str, str] | None = None, raw: bytes | None = None, **headers
) -> tuple[int, Message, str]:
    data = urlencode(form).encode() if form is not None else raw
    try:
        with urlopen(Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except HTTPError as error:
        return error.code, error.headers, error.read().decode()


def form_url(page_url: str, page: str) -> str:
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    return urljoin(page_url, html.unescape(action))


def checked(page: str) -> list[str]:
    return re.findall(r'name="rating" value="(\d)" required checked', page)


def answer(link: str, rating: int | str | None, comment: str | None = None) -> tuple[int, str]:
    """Opens the link's page and sends its form, as the customer's browser would."""
    status, _, page = fetch(link)
    assert status == 200, page
    form = {"rating": str(rating)} if rating is not None else {}
    if comment is not None:
        form["comment"] = comment
    status, _, page = fetch(form_url(link, page), form)
    return status, page


def outbox_rows(desk: Desk) -> int:
    with Session(desk.helpdesk.engine) as session:
        return len(session.exec(select(OutboxItem.id)).all())


def surveys(desk: Desk) -> list[CsatSurvey]:
    with Session(desk.helpdesk.engine) as session:
        return list(session.exec(select(CsatSurvey)))


def root_csat(desk: Desk) -> str | None:
    root = desk.slack.thread(CHANNEL, desk.root_ts)[0]
    lines = [e["text"] for b in root["blocks"] if b["type"] == "context" for e in b["elements"]]
    return next((line for line in lines if line.startswith("CSAT")), None)


def notices(desk: Desk) -> list[str]:
    return [text for text in desk.thread_texts() if "The customer" in text]


def test_solving_emails_a_survey_whose_links_ask_and_whose_form_records(desk):
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

    # A mail scanner opening every link records nothing.
    for link in links.values():
        status, headers, page = fetch(link)
        assert status == 200 and "How did we do?" in page and "Where is my order?" in page
    assert headers["Content-Security-Policy"] == CSP
    status, _, page = fetch(links[4])
    assert checked(page) == ["4"] and "<script" not in page and '<form method="post"' in page
    [survey] = surveys(desk)
    assert survey.rating is None and survey.answered_at is None
    desk.wait_for_outbox()
    assert notices(desk) == [] and root_csat(desk) is None

    # Sending the page's form, to the same signed address, records the rating.
    status, page = answer(links[4], 4)
    assert status == 200 and "Thank you, your answer is saved." in page
    [survey] = surveys(desk)
    assert survey.rating == 4 and survey.answered_at is not None
    desk.wait_for_outbox()
    assert notices(desk) == [":star: The customer rated this ticket ★★★★☆ 4/5."]
    assert root_csat(desk) == "CSAT ★★★★☆ 4/5"

    # Opening another link after answering shows that link's choice, the answer unchanged.
    status, _, page = fetch(links[2])
    assert status == 200 and "Thank you!" in page and checked(page) == ["2"]
    assert surveys(desk)[0].rating == 4
    assert checked(fetch(survey_links(desk)[2].partition("?")[0])[2]) == ["4"]

    assert answer(links[2], 2)[0] == 200
    [survey] = surveys(desk)
    assert survey.rating == 2
    desk.wait_for_outbox()
    assert notices(desk) == [":star: The customer rated this ticket ★★☆☆☆ 2/5."]
    assert root_csat(desk) == "CSAT ★★☆☆☆ 2/5"


def test_forty_changes_leave_one_survey_message_and_a_repeated_post_changes_nothing(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    link = survey_links(desk)[5]
    post_to = form_url(link, fetch(link)[2])
    for change in range(40):
        rating = str(change % 5 + 1)
        assert fetch(post_to, {"rating": rating, "comment": f"take {change}"})[0] == 200
    desk.wait_for_outbox()
    assert notices(desk) == [
        ":star: The customer rated this ticket ★★★★★ 5/5.\n"
        ":speech_balloon: Their comment:\n>take 39"
    ]
    assert root_csat(desk) == "CSAT ★★★★★ 5/5 · “take 39”"
    posts = len(desk.slack.calls("chat.postMessage"))

    [survey] = surveys(desk)
    rows = outbox_rows(desk)
    for _ in range(2):
        status, _, page = fetch(post_to, {"rating": "5", "comment": "take 39"})
        assert status == 200 and "Thank you, your answer is saved." in page
    desk.wait_for_outbox()
    assert outbox_rows(desk) == rows
    assert surveys(desk)[0].answered_at == survey.answered_at
    assert len(desk.slack.calls("chat.postMessage")) == posts
    assert len(notices(desk)) == 1


def test_a_comment_is_stored_as_text_and_shown_escaped(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    link = survey_links(desk)[5]
    status, _, page = fetch(link)
    post_to = form_url(link, page)

    hostile = "<script>alert(1)</script> & <!channel>\x00 great\r\nservice"
    status, headers, page = fetch(post_to, {"rating": "5", "comment": hostile})
    assert status == 200 and "Thank you, your answer is saved." in page
    assert headers["Content-Security-Policy"] == CSP
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    [survey] = surveys(desk)
    assert survey.comment == "<script>alert(1)</script> & <!channel> great\nservice"
    desk.wait_for_outbox()
    [notice] = notices(desk)
    assert notice.startswith(":star: The customer rated this ticket ★★★★★ 5/5.\n")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in notice
    assert "<!channel>" not in notice and ">service" in notice  # each line quoted
    assert root_csat(desk).startswith("CSAT ★★★★★ 5/5 · “&lt;script&gt;")

    status, _, page = fetch(post_to, {"rating": "5", "comment": "y" * 100_000})
    assert status == 200 and "We kept the first 5,000 characters of your comment." in page
    [survey] = surveys(desk)
    assert survey.comment == "y" * 5000 and survey.rating == 5
    desk.wait_for_outbox()
    assert len(notices(desk)[-1]) < 3000

    # A blank comment keeps the one given; a form without a rating records nothing.
    status, _, page = fetch(post_to, {"rating": "4", "comment": " \r\n "})
    assert status == 200 and surveys(desk)[0].comment == "y" * 5000
    status, _, page = fetch(post_to, {"comment": "hello"})
    assert status == 400 and "Please choose one of these." in page
    assert fetch(post_to, {"rating": "4", "comment": "z" * 2_000_000})[0] == 413
    assert fetch(post_to, raw=b"rating=1", **{"Content-Type": "text/plain"})[0] == 400
    [survey] = surveys(desk)
    assert survey.comment == "y" * 5000 and survey.rating == 4


def test_forged_expired_and_unknown_links_get_clear_pages(desk):
    set_status(desk, "solved")
    assert eventually(lambda: desk.sink.messages, timeout=10)
    link = survey_links(desk)[3]
    base, _, query = link.partition("?")
    token = base.rpartition("/")[2]
    [survey] = surveys(desk)
    tokens = SurveyTokens(SECRET_KEY, TTL, salt=SALT)

    forged = base[: -len(token)] + forge(token)
    status, headers, page = fetch(f"{forged}?{query}")
    assert status == 400 and "This link is not valid" in page
    assert headers["Content-Security-Policy"] == CSP
    assert fetch(forged, {"rating": "3"})[0] == 400

    expired = tokens.issue(survey.id, datetime.now(UTC) - TTL - timedelta(days=1))
    status, _, page = fetch(f"{base[: -len(token)]}{expired}?{query}")
    assert status == 410 and "This survey has closed" in page
    assert fetch(f"{base[: -len(token)]}{expired}", {"rating": "3"})[0] == 410

    unknown = tokens.issue(survey.id + 1000, datetime.now(UTC))
    status, _, page = fetch(f"{base[: -len(token)]}{unknown}?{query}")
    assert status == 404 and "Survey not found" in page
    assert fetch(f"{base[: -len(token)]}{unknown}", {"rating": "3"})[0] == 404

    for bad in ("9", "0", "x", "4.5"):
        status, _, page = fetch(f"{base}?rating={bad}")
        assert status == 400 and "Please choose one of these." in page
    status, _, page = fetch(base)
    assert status == 200 and "How did we do?" in page and checked(page) == []
    assert surveys(desk)[0].rating is None
    desk.wait_for_outbox()
    assert notices(desk) == [] and root_csat(desk) is None


@ON_BOTH_DATABASES
def test_one_survey_per_customer_per_period_and_none_for_a_ticket_closed_unresolved(desk):
    # Closing as resolved surveys (tests/e2e/test_status_semantics.py); this way does not.
    set_status(desk, "close_unresolved", becomes="closed")
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
