"""The policy's rules end to end: mail over real SMTP and chats through the chat API, against
the fake Slack (and the fake Shopify): each condition and action kind as agents see it in the
threads, once per trigger under a replayed delivery, and `helpdesk check`'s lines."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from bot.config import Policy
from bot.core import outbox, privacy
from bot.core.attachments import FileStore
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.storage.models import (
    Customer,
    OutboxItem,
    OutboxStatus,
    Priority,
    RuleFiring,
    SlaClock,
    Ticket,
    TicketStatus,
)
from tests.e2e.chat_visitor import ChatVisitor
from tests.e2e.harness import (
    CHANNEL,
    customer_mail,
    eventually,
    smtp_send,
    staffed_helpdesk,
)
from tests.e2e.test_check import migrated, run_check


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the stories on SQLite; the database's part on both in tests/core


SHOP = "https://shop.example"
BOB = "Bob Norman <bob.norman@hostmail.com>"
TOKEN = "shpat_test_token"


def policy(*rules: dict, **more) -> Policy:
    return Policy.model_validate({"rules": list(rules), **more})


def ticket(helpdesk, number: int = 1) -> Ticket:
    with Session(helpdesk.engine) as session:
        return session.exec(select(Ticket).where(Ticket.number == number)).one()


def posted(helpdesk, number: int = 1) -> Ticket:
    assert eventually(lambda: ticket(helpdesk, number).thread_ts is not None, timeout=20)
    return ticket(helpdesk, number)


def thread_texts(slack, found: Ticket) -> list[str]:
    return [m["text"] for m in slack.thread(found.channel, found.thread_ts)]


def note_in_thread(slack, helpdesk, text: str, number: int = 1) -> list[str]:
    """The thread's texts once one of them contains `text`."""
    assert eventually(
        lambda: any(text in t for t in thread_texts(slack, posted(helpdesk, number))), timeout=20
    ), thread_texts(slack, ticket(helpdesk, number))
    return thread_texts(slack, ticket(helpdesk, number))


RETURNS = {
    "name": "Return requests <b>",
    "on": ["opened", "customer_message"],
    "when": {"source": "email", "subject_contains": ["return", "refund"]},
    "then": {"tags": ["returns"], "priority": "high", "channel": "C0RETURNS"},
}


def test_an_opening_rule_shapes_the_first_root_and_says_why_in_the_thread(database_url):
    with staffed_helpdesk(database_url, policy(RETURNS)) as (helpdesk, slack, _):
        slack.add_channel("C0RETURNS", "returns")
        mail = customer_mail("The shoes don't fit.", subject="Return of my order")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        texts = note_in_thread(slack, helpdesk, "by rule")
        found = ticket(helpdesk)
        assert found.channel == "C0RETURNS" and found.priority == Priority.HIGH
        # The first root, posted there at once, already shows the tag; nothing in support.
        root = slack.messages_in("C0RETURNS")[0]
        assert "returns" in json.dumps(root["blocks"]) and not slack.messages_in(CHANNEL)
        assert texts[-1] == (
            ":gear: tagged *returns*, priority set to *high*, moved to <#C0RETURNS> "
            "by rule *Return requests &lt;b&gt;*"
        )


def test_status_closes_noise_and_stop_keeps_later_rules_out(database_url):
    rules = policy(
        {"name": "Noise", "when": {"subject_contains": "newsletter", "from": "@deals.example"},
         "then": {"status": "closed", "stop": True}},
        {"name": "Everything else", "then": {"tags": ["triaged"]}},
    )  # fmt: skip
    with staffed_helpdesk(database_url, rules) as (helpdesk, slack, _):
        noise = customer_mail("50% off!", subject="Weekly newsletter", sender="x@deals.example")
        assert smtp_send(helpdesk.smtp.port, noise)[0] == 250
        assert smtp_send(helpdesk.smtp.port, customer_mail("Where is it?"))[0] == 250
        assert note_in_thread(slack, helpdesk, "by rule *Noise*")[-1] == (
            ":gear: status set to *closed* by rule *Noise*"
        )
        assert note_in_thread(slack, helpdesk, "by rule", number=2)[-1] == (
            ":gear: tagged *triaged* by rule *Everything else*"
        )
        assert ticket(helpdesk).status == TicketStatus.CLOSED


def test_a_later_message_moves_the_thread_with_links_both_ways(database_url, tmp_path):
    legal = {
        "name": "Legal", "on": "customer_message",
        "when": {"body_matches": r"lawy[e]rs?\b", "language": "en"}, "then": {"channel": "C0LEGAL"},
    }  # fmt: skip
    with staffed_helpdesk(database_url, policy(legal)) as (helpdesk, slack, _):
        slack.add_channel("C0LEGAL", "legal")
        first = customer_mail("Where is my parcel?")
        assert smtp_send(helpdesk.smtp.port, first)[0] == 250
        old = posted(helpdesk)
        follow_up = customer_mail(
            "If it does not arrive this week I will talk to my lawyer about this order.",
            in_reply_to=first["Message-ID"], subject="Re: Where is my order?",
        )  # fmt: skip
        assert smtp_send(helpdesk.smtp.port, follow_up)[0] == 250
        texts = note_in_thread(slack, helpdesk, "Moved here from")
        moved = ticket(helpdesk)
        assert moved.channel == "C0LEGAL" and moved.thread_ts != old.thread_ts
        assert texts[0].startswith("#1 ")  # a new root with the ticket, then the links
        assert any("Moved here from <#C0SUPPORT> by rule *Legal*" in t for t in texts)
        old_thread = [m["text"] for m in slack.thread(CHANNEL, old.thread_ts)]
        assert old_thread[0].startswith("Ticket #1 moved to <#C0LEGAL>")  # the old root
        assert any("This ticket moved to <#C0LEGAL> by rule *Legal*" in t for t in old_thread)
        assert "Where is my parcel?" in old_thread[1]

        # What stayed in the old thread is still the helpdesk's to update: an erasure reaches it.
        with Session(helpdesk.engine) as session:
            jane = session.exec(select(Customer)).one()
            privacy.erase(session, jane, FileStore(tmp_path), "U0AGENT1")
            session.commit()
        assert eventually(
            lambda: "parcel" not in slack.thread(CHANNEL, old.thread_ts)[1]["text"], timeout=20
        )


def test_a_channel_the_bot_cannot_post_in_leaves_the_ticket_where_it_was(database_url):
    rules = policy({"name": "Returns", "then": {"channel": "C0NOBOT", "tags": ["returns"]}})
    with staffed_helpdesk(database_url, rules) as (helpdesk, slack, _):
        slack.add_channel("C0NOBOT", "private-returns", is_member=False)
        assert smtp_send(helpdesk.smtp.port, customer_mail("Return please"))[0] == 250
        texts = note_in_thread(slack, helpdesk, "could not move")
        assert ticket(helpdesk).channel == CHANNEL
        assert any("(Slack: not_in_channel; is the bot in that channel?). It stays here." in t
                   for t in texts)  # fmt: skip


def test_a_chat_rule_acts_on_chats_only(database_url):
    rules = policy(
        {"name": "Chats", "when": {"source": "chat", "body_contains": "order"},
         "then": {"tags": ["chat-order"]}},
        chat={"allowed_origins": [SHOP]},
    )  # fmt: skip
    with staffed_helpdesk(database_url, rules) as (helpdesk, slack, _):
        started = ChatVisitor(helpdesk.http_port, origin=SHOP).start(
            "Where is my order?", name="Jane", email="jane@customer.example"
        )
        assert started.status == 201, started.body
        assert note_in_thread(slack, helpdesk, "by rule")[-1] == (
            ":gear: tagged *chat-order* by rule *Chats*"
        )
        assert smtp_send(helpdesk.smtp.port, customer_mail("My order?"))[0] == 250
        assert "by rule" not in " ".join(thread_texts(slack, posted(helpdesk, 2)))


@pytest.fixture
def shop():
    with FakeShopify(token=TOKEN) as fake:
        fake.add_customer(207119551, "Bob Norman", "bob.norman@hostmail.com",
                          amount_spent="812.50", tags=["VIP"])  # fmt: skip
        yield fake


def test_a_shopify_facts_rule_acts_after_the_facts_and_once_under_a_replay(database_url, shop):
    rules = policy(
        {"name": "Tag all", "then": {"tags": ["seen"]}},
        {"name": "Big spenders", "when": {"shopify": {"total_spent_gte": 500,
         "tags_any": ["vip"]}}, "then": {"priority": "urgent"}},
        {"name": "Small spenders", "when": {"shopify": {"total_spent_gte": 5000}},
         "then": {"priority": "low"}},
    )  # fmt: skip
    with staffed_helpdesk(
        database_url, rules, shopify_shop="acme", shopify_access_token=TOKEN,
        shopify_api_url=shop.url,
    ) as (helpdesk, slack, _):  # fmt: skip
        assert smtp_send(helpdesk.smtp.port, customer_mail("Hi", sender=BOB))[0] == 250
        note_in_thread(slack, helpdesk, "by rule *Big spenders*")
        assert ticket(helpdesk).priority == Priority.URGENT
        with Session(helpdesk.engine) as session:
            row = session.exec(
                select(OutboxItem).where(OutboxItem.kind == outbox.SHOPIFY_RULE_FACTS)
            ).one()
            assert row.status == OutboxStatus.SENT
            row_id = row.id
            # An agent lowers it; then the row is delivered again, as `helpdesk outbox retry`
            # or a crash in doubt would: the rule must not act again.
            session.exec(select(Ticket)).one().priority = Priority.NORMAL
            outbox.requeue(session, row)
            session.commit()

        def sent_twice() -> bool:
            with Session(helpdesk.engine) as session:
                return session.get(OutboxItem, row_id).status == OutboxStatus.SENT

        assert eventually(sent_twice)
        with Session(helpdesk.engine) as session:
            fired = session.exec(select(RuleFiring.rule).order_by(RuleFiring.id)).all()
        assert fired == ["Tag all", "Big spenders"]
        assert ticket(helpdesk).priority == Priority.NORMAL
        rule_notes = [t for t in thread_texts(slack, ticket(helpdesk)) if "by rule" in t]
        assert len(rule_notes) == 2


def test_a_vip_by_shopify_spend_gets_a_badge_their_priority_and_targets(database_url, shop):
    vip = {"total_spent_gte": 500, "priority": "urgent", "sla": {"first_response": "15m"}}
    with staffed_helpdesk(
        database_url, policy(vip=vip, sla={"urgent": {"first_response": "1h"}}),
        shopify_shop="acme", shopify_access_token=TOKEN, shopify_api_url=shop.url,
    ) as (helpdesk, slack, _):  # fmt: skip
        assert smtp_send(helpdesk.smtp.port, customer_mail("Hi", sender=BOB))[0] == 250
        texts = note_in_thread(slack, helpdesk, "by rule *vip.total_spent_gte*")
        assert ":gear: marked *VIP*, priority set to *urgent*" in texts[-1]
        found = ticket(helpdesk)
        assert found.vip and found.priority == Priority.URGENT
        assert eventually(lambda: ":star: *VIP*" in json.dumps(slack_root(slack, found)))
        with Session(helpdesk.engine) as session:
            clock = session.exec(select(SlaClock).where(SlaClock.kind == "first_response")).one()
        assert clock.target_seconds == 15 * 60


def slack_root(slack, found: Ticket) -> dict:
    return slack.thread(found.channel, found.thread_ts)[0]


def test_check_lists_each_rule_and_warns_about_what_cannot_work(tmp_path):
    migrated(tmp_path)
    rules = (
        "rules:\n"
        "  - name: Returns\n    on: [opened, customer_message]\n"
        "    when: {subject_contains: [return, refund]}\n"
        "    then: {tags: [returns], priority: high, stop: true}\n"
        "  - name: Sales\n    when: {inbox: sales@elsewhere.example}\n    then: {tags: [sales]}\n"
        "  - name: VIPs\n    when: {shopify: {total_spent_gte: 500}}\n"
        "    then: {priority: urgent}\n"
        "vip: {from: '@big.example', tags_any: [vip]}\n"
    )
    with FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support")
        result = run_check(tmp_path, slack, rules)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "on opened, customer_message, when subject_contains=return|refund: tags returns, "
        "priority high, stop" in result.stdout
    )
    assert "But its shopify conditions never hold: SHOPIFY_SHOP is unset" in result.stdout
    assert "But its inbox sales@elsewhere.example is neither" in result.stdout
    assert "rule 'vip.from'" in result.stdout and "rule 'vip.tags_any'" in result.stdout


def test_check_refuses_a_catastrophic_pattern_in_one_line(tmp_path):
    rules = "rules:\n  - name: Slow\n    when: {body_matches: '(a+)+$'}\n    then: {stop: true}\n"
    with FakeSlack() as slack:
        result = run_check(tmp_path, slack, rules)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "rule 'Slow' key when.body_matches='(a+)+$' is invalid" in line
