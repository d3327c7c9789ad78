"""Every modal the app builds round-trips through slack_sdk's View and passes its limits."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.views import ids
from bot.views.make_ticket_modal import TicketDraft, make_ticket_modal, refusal_modal
from bot.views.reply_modal import ReplyDraft, reply_modal
from bot.views.slack_origin import origin_note, origin_reply
from bot.views.tag_modal import tag_modal
from bot.views.thread_message import AgentReply, agent_reply_blocks


def draft(**overrides) -> ReplyDraft:
    values = {
        "ticket_id": 3,
        "number": 12345678901,
        "subject": "S" * 2000,
        "customer_name": "Jane <!channel>",
        "customer_email": "jane@customer.example",
        "last_customer_message": "line one\n<@U1> line two\n" * 500,
        "saved_replies": [(n, f"Saved reply {n} " + "x" * 100) for n in range(150)],
        "answer": "a" * 5000,
        "version": 2,
    }
    values.update(overrides)
    return ReplyDraft(**values)


@pytest.mark.parametrize(
    "view",
    [
        reply_modal(draft()),
        reply_modal(draft(last_customer_message=None, saved_replies=[], answer="")),
        tag_modal(3, 7, ["vip"], ["refund", "shipping"] + [f"t{n}" for n in range(200)]),
        tag_modal(3, 7, [], []),
        reply_modal(draft(in_slack=True)),
        make_ticket_modal(TicketDraft("C0TEAM", "1.2", "U0KIM", "x\n" * 4000, "S" * 500)),
        make_ticket_modal(TicketDraft("C0TEAM", "1.2", "U0KIM", "", "")),
        refusal_modal("This message is already ticket #1."),
    ],
    ids=[
        "reply, everything at its limit",
        "reply, bare",
        "tags, many",
        "tags, none",
        "reply in a Slack thread",
        "make a ticket, at its limits",
        "make a ticket, bare",
        "make a ticket, refused",
    ],
)
def test_modal_round_trips_and_validates(view):
    model = View(**view)
    model.validate_json()
    assert model.to_dict() == view


def test_reply_modal_escapes_and_versions_the_answer_block():
    view = reply_modal(draft())
    text = str(view)
    assert "<!channel>" not in text and "<@U1>" not in text
    answer = next(
        b for b in view["blocks"] if b.get("block_id", "").startswith(ids.REPLY_ANSWER_BLOCK)
    )
    assert answer["block_id"] == f"{ids.REPLY_ANSWER_BLOCK}-2"
    assert len(answer["element"]["initial_value"]) == 3000


@pytest.mark.parametrize("delivery", ["pending", "sent", "failed"])
def test_agent_reply_copy_in_every_state(delivery):
    from slack_sdk.models.blocks import Block

    blocks = agent_reply_blocks(AgentReply(9, "U0AGENT1", "Hello <!here>", delivery, "550 no"))
    for block in blocks:
        Block.parse(block).validate_json()
    retry = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert bool(retry) == (delivery == "failed")
    assert "<!here>" not in str(blocks)


def test_a_slack_threads_reply_modal_says_where_and_takes_no_files():
    view = reply_modal(draft(in_slack=True))
    assert "in their Slack thread (not by email)" in str(view)
    assert ids.REPLY_FILES_BLOCK not in [b.get("block_id") for b in view["blocks"]]


def test_the_links_between_a_ticket_and_its_message_escape_the_subject():
    link = "https://fake.slack.test/archives/C0SUPPORT/p1"
    reply = origin_reply(7, "Refund <!channel> & more", link, shared=False)
    assert reply == f":ticket: This is now <{link}|ticket #7: Refund &lt;!channel&gt; &amp; more>."
    shared = origin_reply(7, "Refund", link, shared=True)
    assert "#7" in shared and link not in shared  # the customer can't open the team's thread
    assert origin_note("U0KIM", "C0TEAM", None).endswith(
        "(no longer in Slack) by <@U0KIM> in <#C0TEAM>."
    )
