"""Pure pieces of live chat: rate limits, subjects, addresses, the browser line on the root."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pydantic import ValidationError

from bot.core.chat import subject_of
from bot.core.visitors import anonymous_address, is_reachable
from bot.handlers.chat.limits import RateLimiter
from bot.handlers.chat.schemas import Contact, StartConversation
from bot.storage.shared_state import MemoryState
from bot.views.reply_modal import ReplyDraft, reply_modal
from bot.views.thread_message import AgentReply, agent_reply_blocks
from bot.views.ticket_root import TicketSummary, browser_summary, root_blocks
from tests.unit.test_shared_state import Clock


def test_a_limit_allows_its_burst_then_says_how_many_whole_seconds_to_wait():
    clock = Clock()
    state = MemoryState(clock)
    limiter = RateLimiter(state, "visitor", per_period=3, period_seconds=60)
    assert [limiter.take("jane") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("jane") == 20  # one use back every 20 seconds
    clock.now = 19.5
    assert limiter.take("jane") == 1  # half a second, rounded up
    assert limiter.take("kim") == 0  # others are unaffected
    # Nor is another limit of the same key.
    assert RateLimiter(state, "ip", per_period=3, period_seconds=60).take("jane") == 0


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("Where is my order?", "Where is my order?"),
        ("\n\n  Hello  \nsecond line", "Hello"),
        ("x" * 200, "x" * 79 + "…"),
        ("   ", "Live chat"),
    ],
)
def test_a_chat_ticket_is_named_after_its_first_line(text, subject):
    assert subject_of(text) == subject


def test_visitors_without_an_email_get_an_address_that_can_never_receive_mail():
    address = anonymous_address("AbC_12")
    assert address == "visitor-abc_12@visitors.invalid"
    assert not is_reachable(address)
    assert is_reachable("jane@customer.example")


@pytest.mark.parametrize(
    "email",
    ['"a" OR 1=1@x.com', "a@b OR 1=1", "no-at-sign", "a@b", "<a@b.com>", "a@b.com\nBcc: c@d.com"],
)
def test_odd_addresses_are_refused(email):
    with pytest.raises(ValidationError):
        StartConversation(message="hi", email=email)


def test_addresses_are_lowercased_and_blank_means_none():
    assert StartConversation(message="hi", email=" Jane@Customer.Example ").email == (
        "jane@customer.example"
    )
    assert Contact(email="").email is None


def test_control_characters_are_dropped_from_messages():
    assert StartConversation(message="hi\x00 there\x07\n").message == "hi there"


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36",
            "Chrome 131 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari 17 on iPhone",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox 133 on macOS",
        ),
        ("curl/8.5.0", "curl/8.5.0"),
        ("", "unknown browser"),
    ],
)
def test_the_browser_is_summarised_for_the_root(agent, summary):
    assert browser_summary(agent) == summary


def _root(**overrides) -> str:
    summary = TicketSummary(
        ticket_id=1, number=7, subject="Hi", status="open", priority="normal", source="chat",
        customer_name="", customer_email="", assignee=None, tags=[],
        chat_page="https://shop.example/cart?<!channel>",
        chat_user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
        **overrides,
    )  # fmt: skip
    return json.dumps(root_blocks(summary))


def test_a_chat_root_names_the_page_and_browser_and_says_when_no_email_was_given():
    root = _root()
    assert "a website visitor (no email given)" in root
    assert "Started on https://shop.example/cart?&lt;!channel&gt;" in root
    assert "Chrome 131 on Linux" in root


def test_the_reply_modal_says_where_a_chat_answer_goes():
    draft = ReplyDraft(
        ticket_id=1, number=7, subject="Hi", customer_name="Jane", customer_email="",
        last_customer_message="Hello", saved_replies=[], by_chat=True,
    )  # fmt: skip
    assert "Jane in the live chat (no email address given" in json.dumps(reply_modal(draft))
    with_email = replace(draft, customer_email="jane@customer.example")
    assert "by email to jane@customer.example if they have left" in json.dumps(
        reply_modal(with_email)
    )


def test_a_chat_reply_in_the_thread_says_where_it_went():
    reply = AgentReply(
        message_id=1, agent_user_id="U1", body="Hi", delivery="pending", by_chat=True
    )
    assert "Sent to the live chat by <@U1>" in json.dumps(agent_reply_blocks(reply))
    emailed = replace(reply, delivery="sent", emailed=True)
    assert "and by email as the visitor had left" in json.dumps(agent_reply_blocks(emailed))
    failed = replace(reply, delivery="failed", error="550 no such user", emailed=True)
    assert "Not delivered to the customer" in json.dumps(agent_reply_blocks(failed))
