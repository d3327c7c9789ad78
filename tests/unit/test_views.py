"""Block Kit builders: escaping, sizes, and what the contract promises the root shows."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from bot.mail.parse import parse_email
from bot.views import ids
from bot.views.text import SECTION_LIMIT, escape_mrkdwn, shown_sender, split_for_sections
from bot.views.thread_message import CustomerMessage, customer_message_blocks, customer_message_text
from bot.views.ticket_root import TicketSummary, root_blocks, root_text


def summary(**overrides) -> TicketSummary:
    values = {
        "ticket_id": 7,
        "number": 42,
        "subject": "Refund <!channel> & more",
        "status": "open",
        "priority": "normal",
        "source": "email",
        "customer_name": "Jane <@U123>",
        "customer_email": "jane@customer.example",
        "assignee": None,
        "tags": ["refund"],
    }
    values.update(overrides)
    return TicketSummary(**values)


def test_escape_neutralises_mentions_and_links():
    assert escape_mrkdwn("<!channel> <@U1> <http://x|y> a&b") == (
        "&lt;!channel&gt; &lt;@U1&gt; &lt;http://x|y&gt; a&amp;b"
    )


def test_root_names_ticket_and_has_the_contract_buttons():
    blocks = root_blocks(summary())
    assert root_text(summary()).startswith("#42 ")
    labels = [
        e["text"]["text"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if "text" in e
    ]
    for label in ("Reply", "Tag", "Escalate", "Assign", "Close", "History"):
        assert any(label in text for text in labels)
    action_ids = {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert action_ids == {
        ids.TICKET_REPLY,
        ids.TICKET_TAG,
        ids.TICKET_ESCALATE,
        ids.TICKET_ASSIGN,
        ids.TICKET_ASSIGN_PICK,
        ids.TICKET_PRIORITY,
        ids.TICKET_STATUS_MENU,
        ids.TICKET_HISTORY,
        ids.TICKET_SNOOZE,
        ids.TICKET_CLOSE,
        ids.TICKET_MORE,  # Merge into…
    }
    rendered = str(blocks)
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    for block in blocks:
        Block.parse(block).validate_json()


def test_root_survives_a_2000_character_subject():
    blocks = root_blocks(summary(subject="x" * 2000))
    for block in blocks:
        Block.parse(block).validate_json()
    assert len(root_text(summary(subject="x" * 2000))) <= 300


@given(st.text(min_size=1, max_size=12000))
def test_split_keeps_every_character_within_the_limit(text):
    escaped = escape_mrkdwn(text)
    chunks = split_for_sections(escaped)
    assert all(len(chunk) <= SECTION_LIMIT for chunk in chunks)
    # Only the whitespace at the cuts may go.
    assert "".join(chunks).replace(" ", "").replace("\n", "") == escaped.replace(" ", "").replace(
        "\n", ""
    )


def test_split_never_cuts_inside_an_entity():
    text = "a" * 2997 + "&amp;" + "b" * 10
    chunks = split_for_sections(text)
    assert chunks[0] == "a" * 2997
    assert chunks[1].startswith("&amp;")


def test_long_message_is_truncated_with_a_note():
    message = CustomerMessage("Jane", "jane@x.example", "word " * 60000, "email")
    blocks = customer_message_blocks(message)
    assert len(blocks) <= 50
    assert "Message truncated" in blocks[-1]["elements"][0]["text"]
    for block in blocks:
        Block.parse(block).validate_json()
    assert len(customer_message_text(message)) < 4000


def test_customer_text_is_escaped_in_text_and_blocks():
    message = CustomerMessage("<!here>", "a@b.example", "hi <!channel> <@U999>", "email")
    assert "<!channel>" not in customer_message_text(message)
    assert "<!" not in str(customer_message_blocks(message))


def test_a_forwarded_mail_shows_as_forwarded_and_escaped_in_the_thread():
    raw = (
        b"From: Ann <ann@cust.example>\nSubject: Fwd: Order\nContent-Type: text/plain\n\n"
        b"FYI <!channel>\n\n---------- Forwarded message ---------\n"
        b"From: Shop <orders@shop.example>\nDate: Mon, 4 Mar 2024\nSubject: Order <@U1>\n"
        b"To: <ann@cust.example>\n\nThanks for your order & welcome.\n"
    )
    body = parse_email(raw).visible_text
    section = customer_message_blocks(CustomerMessage("Ann", "ann@cust.example", body, "email"))[1]
    assert section["text"]["text"] == (
        "FYI &lt;!channel&gt;\n\n---------- Forwarded message ----------\n"
        "From: Shop &lt;orders@shop.example&gt;\nDate: Mon, 4 Mar 2024\n"
        "Subject: Order &lt;@U1&gt;\n\nThanks for your order &amp; welcome."
    )


def test_root_shows_the_current_priority_assignee_and_other_statuses():
    blocks = root_blocks(summary(priority="urgent", assignee="U0AGENT1", status="pending"))
    [actions] = [b for b in blocks if b["type"] == "actions"]
    by_id = {e["action_id"]: e for e in actions["elements"]}
    assert by_id[ids.TICKET_PRIORITY]["initial_option"]["value"] == "urgent"
    assert by_id[ids.TICKET_ASSIGN_PICK]["initial_user"] == "U0AGENT1"
    menu = [o["value"] for o in by_id[ids.TICKET_STATUS_MENU]["options"]]
    assert menu == ["open", "solved", "close_unresolved"]
    assert actions["block_id"].endswith(":7")
    assert "<@U0AGENT1>" in str(blocks)


def test_a_snoozed_root_says_until_when_and_a_closed_one_offers_no_second_close():
    until = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # a Monday
    snoozed = str(root_blocks(summary(status="pending", pending_until=until)))
    stamp = int(until.timestamp())
    assert (
        f"Pending until <!date^{stamp}^{{date_short_pretty}} at {{time}}|Mon 09 Mar 10:00 UTC>"
        in snoozed
    )
    closed = root_blocks(summary(status="closed"))
    [actions] = [b for b in closed if b["type"] == "actions"]
    [menu] = [e for e in actions["elements"] if e["action_id"] == ids.TICKET_STATUS_MENU]
    assert [o["value"] for o in menu["options"]] == ["open", "pending", "solved"]
    for block in closed:
        Block.parse(block).validate_json()


def test_a_name_that_looks_like_an_address_is_quoted_beside_the_real_one():
    forged = CustomerMessage("ann@cust.example", "attacker@evil.example", "Refund me", "email")
    header = customer_message_blocks(forged)[0]["elements"][0]["text"]
    assert '*"ann@cust.example"* &lt;attacker@evil.example&gt; wrote by email' in header
    assert shown_sender("ann@cust.example", "attacker@evil.example") == (
        '"ann@cust.example" &lt;attacker@evil.example&gt;'
    )
    assert shown_sender("Ann", "ann@cust.example") == "Ann"
    assert shown_sender("", "ann@cust.example") == "ann@cust.example"
    forged_root = summary(customer_name="ann@cust.example", customer_email=forged.author_email)
    root = str(root_blocks(forged_root))
    assert '"ann@cust.example" (attacker@evil.example)' in root


def test_an_unverified_sender_is_marked_on_the_message():
    message = CustomerMessage(
        "Ann", "ann@cust.example", "Hi", "email", unverified_sender="dmarc=fail"
    )
    texts = [
        b["elements"][0]["text"] for b in customer_message_blocks(message) if b["type"] == "context"
    ]
    assert texts[1].startswith(":warning: *Unverified sender* (dmarc=fail): this may not be from")
    assert customer_message_text(message).startswith("Unverified sender: ")
    verified = CustomerMessage("Ann", "ann@cust.example", "Hi", "email")
    assert "Unverified" not in str(customer_message_blocks(verified))


def test_a_visitor_who_gave_no_address_is_a_website_visitor_or_their_name():
    def header(name: str) -> str:
        chat = CustomerMessage(name, "", "Hi", "chat")  # the stand-in address is not passed
        return customer_message_blocks(chat)[0]["elements"][0]["text"]

    assert header("") == ":incoming_envelope: *Website visitor* wrote by live chat"
    assert header("Jane <b>") == ":incoming_envelope: *Jane &lt;b&gt;* wrote by live chat"
