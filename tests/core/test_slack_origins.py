"""Tickets made from Slack messages: one per message, the links queued both ways, and the
answers of a ticket whose requester is a Slack user going to its thread, never by email.

The shortcut, reactions and Slack Connect channels end to end: tests/e2e/test_make_ticket.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core import outbox, privacy
from bot.core.attachments import FileStore
from bot.core.replies import ReplyRefused, SharedFile, record_delivery, retry_reply
from bot.core.slack_origins import AlreadyATicket, SlackMessage, add_thread_message, make_ticket
from bot.storage.models import Customer, Delivery, Priority, Source, TicketOrigin
from tests.core.builders import AGENT, ON_BOTH_DATABASES, policy

CALL = SlackMessage("C0TEAM", "1800000000.000100", "U0KIM", "Kim", "Jane called\nabout 1001")


def made(core, message: SlackMessage = CALL, **options):
    ticket = make_ticket(core.session, core.desk, message, actor=AGENT.user_id, **options)
    core.session.commit()
    return ticket


@ON_BOTH_DATABASES
def test_one_message_makes_one_ticket_whoever_asks_again(core):
    ticket = made(core, priority=Priority.HIGH, requester_email="jane@customer.example")
    assert (ticket.number, ticket.subject, ticket.source) == (1, "Jane called", Source.SLACK)
    assert ticket.priority == Priority.HIGH
    assert core.outbox()[-2:] == [(outbox.SLACK_ORIGIN_NOTE, 1), (outbox.SLACK_ORIGIN_REPLY, 1)]
    with pytest.raises(AlreadyATicket) as again:
        made(core)
    assert again.value.ticket.number == 1
    core.session.rollback()
    # Two requests at once both passed the look: the unique key refuses the second.
    core.session.add(TicketOrigin(ticket_id=ticket.id, channel=CALL.channel, ts=CALL.ts,
                                  author="U0KIM"))  # fmt: skip
    with pytest.raises(IntegrityError):
        core.session.flush()
    core.session.rollback()
    assert core.tickets() == [1]


def test_a_requesters_email_is_answered_by_email(core):
    ticket = made(core, requester_email="jane@customer.example")
    core.outbox()
    assert core.reply(ticket, "On its way.").source == Source.EMAIL
    assert core.outbox() == [(outbox.EMAIL_SEND, 1), (outbox.SLACK_POST_MESSAGE, 1)]


def test_a_slack_users_ticket_is_answered_in_its_thread_which_their_replies_join(core):
    core.use(policy(connect_channels=["C0SHARED"]))
    shared = SlackMessage("C0SHARED", "1800000000.000200", "U0BUYER", "Bo", "40 vases?")
    ticket = made(core, shared)
    assert core.outbox_rows(outbox.SLACK_ORIGIN_REPLY)[-1].payload == {"shared": True}
    core.outbox()

    later = SlackMessage("C0SHARED", "1800000000.000300", "U0BUYER", "Bo", "And 10 bowls")
    for _ in range(2):  # a redelivered event adds nothing
        add_thread_message(core.session, core.desk, later, shared.ts)
        core.session.commit()
    elsewhere = SlackMessage("C0SHARED", "1800000000.000400", "U0BUYER", "Bo", "Hi")
    assert add_thread_message(core.session, core.desk, elsewhere, "1700000000.000000") is None
    assert [m.body for m in core.messages(ticket)] == ["40 vases?", "And 10 bowls"]
    core.outbox()

    answer = core.reply(ticket, "Both ship Thursday.")
    assert (answer.source, answer.email_message_id) == (Source.SLACK, None)
    assert core.outbox() == [(outbox.SLACK_THREAD_REPLY, 1), (outbox.SLACK_POST_MESSAGE, 1)]
    with pytest.raises(ReplyRefused, match="text only"):
        core.reply(ticket, "Here", files=(SharedFile("F0A", "a.pdf", 10, "application/pdf"),))


def test_a_thread_of_a_ticket_answered_by_email_takes_no_slack_replies(core):
    made(core, requester_email="jane@customer.example")
    later = SlackMessage("C0TEAM", "1800000000.000500", "U0KIM", "Kim", "She called again")
    assert add_thread_message(core.session, core.desk, later, CALL.ts) is None


def test_an_answer_the_slack_thread_refused_is_sent_there_again_on_retry(core):
    ticket = made(core)  # Kim's own request: answered in the message's thread
    core.outbox()
    answer = core.reply(ticket, "Done, Kim.")
    core.outbox()
    record_delivery(core.session, answer, "Slack error: is_archived")
    core.session.commit()
    assert answer.delivery == Delivery.FAILED
    core.outbox()
    assert retry_reply(core.session, answer, AGENT.user_id)
    core.session.commit()
    assert core.outbox() == [(outbox.SLACK_THREAD_REPLY, 1), (outbox.SLACK_UPDATE_MESSAGE, 1)]


def test_erasing_the_customer_replaces_the_posts_in_their_channel(core, tmp_path):
    ticket = made(core, requester_email="jane@customer.example")
    core.outbox()
    for row in core.outbox_rows(outbox.SLACK_ORIGIN_REPLY):
        row.result = {"ts": "1800000000.000900"}  # as the worker records the post
    core.session.commit()
    customer = core.session.get(Customer, ticket.customer_id)
    privacy.erase(core.session, customer, FileStore(tmp_path), actor="U0ADMIN")
    core.session.commit()
    erased = [row.payload for row in core.outbox_rows(outbox.SLACK_ERASE)]
    assert {"channel": CALL.channel, "ts": "1800000000.000900"} in erased
