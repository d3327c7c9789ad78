"""Customer email becoming tickets and messages: which ticket a mail joins, and what it never may.

Each case goes through `bot.mail.parse` and `bot.core.intake.receive_email` only; the same
stories over real SMTP and Slack are in tests/e2e/test_email_to_slack.py and test_identity.py.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot.core import outbox
from bot.core.intake import receive_email
from bot.mail.ids import new_message_id
from bot.mail.parse import parse_email
from bot.storage.db import transaction
from bot.storage.models import Direction, Source, TicketStatus
from tests.core.builders import (
    CHANNEL,
    JANE,
    ON_BOTH_DATABASES,
    SUPPORT,
    email,
    message_id_of,
    policy,
)

NEW_TICKET = [(outbox.SLACK_POST_ROOT, 1), (outbox.SLACK_POST_MESSAGE, 1)]
DMARC_FAIL = ("Authentication-Results", "mx.shop.example; dmarc=fail header.from=customer.example")


def bodies(core, number: int) -> list[str]:
    return [m.body for m in core.messages(core.ticket(number))]


def test_a_new_mail_opens_a_ticket_with_its_message_and_clocks(core):
    result = core.receive(email("Hi,\n\nmy parcel never came.\n\n-- \nJane"))

    assert (result.ticket_number, result.created) == (1, True)
    ticket = core.ticket(1)
    assert ticket.subject == "Where is my order?"
    assert (ticket.status, ticket.source, ticket.channel) == ("open", Source.EMAIL, CHANNEL)
    [message] = core.messages(ticket)
    assert message.direction == Direction.INBOUND and message.author == JANE
    assert message.body == "Hi,\n\nmy parcel never came."  # the signature is not news
    assert core.outbox() == NEW_TICKET
    clocks = core.clocks(ticket)
    assert sorted(clocks) == ["first_response", "resolution"]  # next_response waits for a reply
    assert clocks["first_response"].due_at == ticket.created_at + timedelta(hours=1)
    assert clocks["resolution"].due_at == ticket.created_at + timedelta(days=1)


def test_a_reply_joins_by_in_reply_to_or_references_without_its_quote(core):
    first = email("First message")
    core.receive(first)
    core.outbox()
    quoted = (
        "Second\n\nOn Mon, Jan 5, 2026 at 10:00 AM Jane <jane@customer.example> wrote:\n> First"
    )
    core.receive(email(quoted, subject="Re: anything", in_reply_to=message_id_of(first)))
    # References alone, the known id behind an unknown one, under a new subject.
    unknown_first = ("x@elsewhere.example", message_id_of(first))
    core.receive(email("Third", subject="new words", references=unknown_first))

    assert core.tickets() == [1]
    assert bodies(core, 1) == ["First message", "Second", "Third"]
    assert core.outbox() == [(outbox.SLACK_POST_MESSAGE, 1)] * 2


def test_a_ticket_number_in_the_subject_joins_only_from_the_tickets_customer(core):
    core.receive(email("Mine"))
    core.receive(email("Again", subject="About [#1]"))
    core.receive(email("Let me in", subject="Re: [#1]", sender="Mallory <x@evil.example>"))

    assert bodies(core, 1) == ["Mine", "Again"]
    assert core.tickets() == [1, 2] and bodies(core, 2) == ["Let me in"]


def test_the_tickets_reply_address_joins_it(core):
    core.receive(email("Mine"))
    reply_address = f"support+{core.ticket(1).reply_token}@shop.example"
    core.receive(email("By address", subject="new words", to=reply_address), (reply_address,))
    assert bodies(core, 1) == ["Mine", "By address"]


def test_the_customers_second_answer_to_mail_the_helpdesk_never_saw_joins_the_first(core):
    """Two answers to the shop's order confirmation (sent by Shopify, not the helpdesk): the
    second names no mail the helpdesk stored, only the conversation both continue."""
    confirmation = "order-1001@shopify.example"
    core.receive(email("Wrong size", subject="Re: Order #1001", in_reply_to=confirmation))
    # A later message of that conversation, still not one the helpdesk received.
    later = (confirmation, "shipping-1001@shopify.example")
    core.receive(email("And the colour", subject="Re: Shipped", references=later))
    # The same answer from anyone else proves nothing: a newsletter is every reader's root.
    core.receive(email("Mine too", sender="Bob <bob@other.example>", references=later))
    # Nor from the customer's address when it isn't verified, nor a subject alone.
    core.receive(email("Forged", references=later, headers=(DMARC_FAIL,)))
    core.receive(email("Another order", subject="Re: Order #1001"))

    assert bodies(core, 1) == ["Wrong size", "And the colour"]
    assert core.tickets() == [1, 2, 3, 4]
    assert [bodies(core, n) for n in (2, 3, 4)] == [["Mine too"], ["Forged"], ["Another order"]]


def test_an_unverified_sender_never_joins_by_number_or_address_but_does_by_message_id(core):
    first = email("Mine")
    core.receive(first)
    reply_address = f"support+{core.ticket(1).reply_token}@shop.example"
    forged = email("Let me in", subject="[#1]", to=reply_address, headers=(DMARC_FAIL,))
    core.receive(forged, (reply_address,))
    quoting_ours = email("Still me", in_reply_to=message_id_of(first), headers=(DMARC_FAIL,))
    core.receive(quoting_ours)

    assert core.tickets() == [1, 2]
    [opened] = core.messages(core.ticket(2))
    assert (opened.body, opened.unverified_sender) == ("Let me in", "dmarc=fail")
    joined = core.messages(core.ticket(1))[-1]
    assert (joined.body, joined.unverified_sender) == ("Still me", "dmarc=fail")


def test_the_helpdesks_own_mail_coming_back_is_ignored(core):
    core.receive(email("Mine"))
    core.outbox()
    from_us = email("loop", sender=f"Shop <{SUPPORT}>", subject="[#1]")
    with_our_id = email("loop", message_id=new_message_id(SUPPORT))
    for raw in (from_us, with_our_id):
        result = core.receive(raw)
        assert result.ticket_number is None and result.ignored.startswith("loop")
    assert core.tickets() == [1] and bodies(core, 1) == ["Mine"]
    assert core.outbox() == []


def test_a_redelivered_mail_is_stored_once_and_a_reused_message_id_is_kept_apart(core):
    mail = email("Only once please")
    core.receive(mail)
    core.outbox()
    again = core.receive(mail)
    assert (again.ticket_number, again.duplicate) == (1, True)
    assert core.outbox() == []

    reused = core.receive(email("Other words", message_id=message_id_of(mail)))
    assert (reused.ticket_number, reused.duplicate) == (2, False)
    [kept] = core.messages(core.ticket(2))
    assert kept.email_message_id.startswith("sha256-")
    # The stand-in id still recognises a redelivery of those bytes.
    assert bodies(core, 1) == ["Only once please"]


def test_mail_to_a_closed_ticket_opens_a_new_one_that_says_whose_follow_up_it_is(core):
    first = email("Mine")
    core.receive(first)
    core.set_status(core.ticket(1), TicketStatus.CLOSED)
    core.outbox()
    result = core.receive(email("Me again", in_reply_to=message_id_of(first)))

    assert (result.ticket_number, result.created) == (2, True)
    assert core.ticket(1).status == TicketStatus.CLOSED and bodies(core, 1) == ["Mine"]
    assert core.events(core.ticket(2)) == ["created", "follow_up_of"]
    assert core.outbox() == [(outbox.SLACK_POST_ROOT, 2), (outbox.SLACK_POST_MESSAGE, 2)]


def test_mail_to_an_inbox_is_routed_to_its_channel_with_its_tags(core):
    returns = {"address": "returns@shop.example", "channel": "C0RETURNS", "tags": ["returns"]}
    core.use(policy(inboxes=[returns]))
    core.receive(email("Broken", to="returns@shop.example"), ("returns@shop.example",))
    ticket = core.ticket(1)
    assert (ticket.channel, ticket.support_address) == ("C0RETURNS", "returns@shop.example")
    assert core.tags(ticket) == ["returns"]


def test_a_sender_opening_ticket_after_ticket_is_folded_into_the_newest(core):
    core.use(policy(mail={"loop_limit_per_hour": 2}))
    for n in range(3):
        core.receive(email(f"Mail {n}", subject=f"Subject {n}"))
    assert core.tickets() == [1, 2]
    assert bodies(core, 2) == ["Mail 1", "Mail 2"]


def test_an_out_of_office_answer_is_noted_and_changes_nothing(core):
    first = email("Mine")
    core.receive(first)
    core.reply(core.ticket(1), "Shipped", new_status=TicketStatus.PENDING)
    core.outbox()
    away = email(
        "I am away", in_reply_to=message_id_of(first), headers=(("Auto-Submitted", "auto-replied"),)
    )
    result = core.receive(away)

    assert result.ignored and result.ticket_number == 1
    ticket = core.ticket(1)
    assert ticket.status == TicketStatus.PENDING and len(core.messages(ticket)) == 2
    assert "next_response" not in core.clocks(ticket)  # a customer's mail would start it
    assert "automatic_reply" in core.events(ticket)
    assert core.outbox() == [(outbox.THREAD_NOTICE, 1)]


@ON_BOTH_DATABASES
def test_mail_arriving_at_once_gets_distinct_numbers_in_order(core):
    mails = [email(f"Mail {n}", sender=f"c{n}@customer.example") for n in range(8)]

    def receive(raw: bytes) -> int:
        with transaction(core.engine) as session:
            result = receive_email(
                session, parse_email(raw), raw, recipients=[SUPPORT], desk=core.desk
            )
        return result.ticket_number

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(receive, mails))
    assert sorted(numbers) == list(range(1, 9))
    assert core.tickets() == list(range(1, 9))
