"""The views of merging and splitting: the threads' summaries (escaped, linked, with their
undo button), the root's "Merged into" line and merge suggestion, the modals."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from bot.views import ids
from bot.views.move_modals import TicketSide, merge_confirm_modal, merge_pick_modal, split_modal
from bot.views.ticket_moves import MovedMessage, MoveSummary, move_blocks, move_text
from bot.views.ticket_root import root_blocks
from tests.unit.test_views import summary

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def move(**overrides) -> MoveSummary:
    values = {
        "move_id": 5,
        "kind": "merge",
        "here": "to",
        "undone": False,
        "actor": "U0AGENT1",
        "other_number": 2,
        "other_subject": "Order <!here>",
        "other_link": "https://fake.slack.test/archives/C1/p1",
        "moved": 1,
        "messages": (
            MovedMessage(True, "jane@x.example", "Jane", AT, "Hi <@U9> *bold*", "https://l/p2"),
        ),
    }
    values.update(overrides)
    return MoveSummary(**values)


def actions_of(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_the_kept_thread_gets_a_summary_with_links_escaped_and_unmerge():
    blocks = move_blocks(move())
    rendered = str(blocks)
    assert "<!here>" not in rendered and "<@U9>" not in rendered
    assert "<https://fake.slack.test/archives/C1/p1|#2 Order &lt;!here&gt;>" in rendered
    assert "<https://l/p2|02 Mar 10:00 UTC>" in rendered
    [undo] = actions_of(blocks)
    assert (undo["text"]["text"], undo["action_id"], undo["value"]) == (
        "Unmerge",
        ids.MOVE_UNDO,
        "5",
    )
    for block in blocks:
        Block.parse(block).validate_json()


def test_the_merged_thread_says_where_it_went_and_an_undone_move_offers_nothing():
    assert "merged this ticket into" in move_text(move(here="from"))
    assert actions_of(move_blocks(move(here="from"))) == []
    undone = move_blocks(move(undone=True))
    assert actions_of(undone) == [] and "unmerged #2" in move_text(move(undone=True))
    assert [e["text"]["text"] for e in actions_of(move_blocks(move(kind="split")))] == [
        "Undo split"
    ]


def test_the_root_shows_merged_into_and_the_suggestion_button():
    merged = str(root_blocks(summary(merged_into=3)))
    assert "Merged into #3" in merged
    suggested = actions_of(root_blocks(summary(possibly_same_as=(9, 3))))
    [button] = [e for e in suggested if e["action_id"] == ids.MERGE_SUGGESTED]
    assert button["text"]["text"] == "Possibly the same as #3 — Merge"
    assert button["value"] == "7:9"
    closed = actions_of(root_blocks(summary(status="closed")))
    assert all(e["action_id"] != ids.TICKET_MORE for e in closed)


def test_the_modals_are_valid_block_kit():
    jane = TicketSide(1, 1, "Parcel <!channel>", "Jane <jane@x.example>")
    bob = TicketSide(2, 2, "Order", "Bob <bob@y.example>")
    for view in (
        merge_pick_modal(jane, bob),
        merge_confirm_modal(jane, bob, different_customers=True),
        split_modal(4, 1, "Also <@U1> the mug", 2),
    ):
        assert "<!channel>" not in str(view["blocks"]) and "<@U1>" not in str(view["blocks"])
        for block in view["blocks"]:
            Block.parse(block).validate_json()
