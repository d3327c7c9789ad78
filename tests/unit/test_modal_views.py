"""Every modal the app builds round-trips through slack_sdk's View and passes its limits."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.views import ids
from bot.views.reply_modal import ReplyDraft, reply_modal
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
    ],
    ids=["reply, everything at its limit", "reply, bare", "tags, many", "tags, none"],
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
