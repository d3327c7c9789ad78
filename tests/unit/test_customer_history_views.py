"""The history line, the History modal's pages and the "is replying" line, as pure views."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.views import ids
from bot.views.customer_history import (
    CustomerHistory,
    HistoryEntry,
    HistoryPage,
    customers_answer,
    history_line,
    history_modal,
)
from bot.views.reply_modal import ReplyDraft, reply_modal
from bot.views.ticket_root import replying_line

WHEN = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_a_first_ticket_and_a_returning_customer_read_as_one_line():
    assert history_line(CustomerHistory(0, None, 0, None)) == (
        ":wave: First ticket from this customer"
    )
    line = history_line(CustomerHistory(3, WHEN, 2, 4.5, shop_orders=5, shop_spent="129.90 EUR"))
    assert line.startswith(":card_index_dividers: 3 earlier tickets  ·  last contact <!date^")
    assert "CSAT 4.5/5 from 2" in line
    assert line.endswith(":shopping_trolley: 5 orders, 129.90 EUR spent")


def test_hostile_subjects_and_names_are_escaped_in_the_modal():
    entry = HistoryEntry(7, "<!channel> refund", "open", WHEN, ("C1", "1.2"), "https://x/p12")
    page = HistoryPage(1, "<@U0BOSS> <a@b.c>", CustomerHistory(1, WHEN, 0, None), [entry], 0, True)
    text = json.dumps(history_modal(page))
    assert "<!channel>" not in text and "<@U0BOSS>" not in text
    assert "&lt;!channel&gt; refund" in text
    answer = json.dumps(customers_answer("<!here>", []))
    assert "<!here>" not in answer


def test_pages_offer_newer_and_older_only_where_there_are_some():
    def pager(page: int, more: bool) -> list[str]:
        view = history_modal(
            HistoryPage(1, "Jane", CustomerHistory(0, None, 0, None), [], page, more)
        )
        actions = [b for b in view["blocks"] if b["type"] == "actions"]
        return [
            e["value"] for b in actions for e in b["elements"] if e["action_id"] == ids.HISTORY_PAGE
        ]

    assert pager(0, False) == []
    assert pager(0, True) == ["1"]
    assert pager(3, True) == ["2", "4"]
    assert pager(3, False) == ["2"]


def test_who_is_replying_reads_naturally():
    assert replying_line(("U1",)) == ":writing_hand: <@U1> is replying"
    assert replying_line(("U1", "U2", "U3")) == ":writing_hand: <@U1>, <@U2> and <@U3> are replying"


def test_the_reply_modal_warns_of_others_and_asks_to_confirm_a_changed_question():
    draft = ReplyDraft(1, 1, "Hi", "Jane", "j@x.com", "It broke", [],
                       others_replying=(("U1", timedelta(minutes=3)),),
                       customer_wrote_again=True)  # fmt: skip
    view = reply_modal(draft)
    assert view["notify_on_close"] is True
    assert view["blocks"][0]["text"]["text"].startswith(":warning: <@U1> (opened 3m ago)")
    assert any(b.get("block_id") == ids.REPLY_CONFIRM_BLOCK for b in view["blocks"])
