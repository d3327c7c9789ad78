"""Acknowledgements decided as mail opens tickets: which new tickets get one, once per sender
per period, and the promise of an answer counted in business hours."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.core import acknowledgements
from bot.core import outbox as kinds
from bot.core.acknowledgements import acknowledge, reply_by
from bot.core.tickets import set_priority
from bot.storage.models import Acknowledgement, Message, Priority, Ticket, TicketEvent, utcnow
from tests.core.builders import (
    ON_BOTH_DATABASES,
    SUPPORT,
    desk_of,
    email,
    message_id_of,
    policy,
)

NEW_YORK = ZoneInfo("America/New_York")
# Friday 27 November 2026, 17:00 in New York: an hour before the weekend.
FRIDAY_EVENING = datetime(2026, 11, 27, 17, 0, tzinfo=NEW_YORK)
RETURNS = "returns@shop.example"
WEEKDAYS = {"timezone": "America/New_York", "business_hours": {"mon-fri": "09:00-18:00"}}
FOUR_HOURS = {"normal": {"first_response": "4h"}, "urgent": {"first_response": "30m"}}


def acknowledging(**more):
    return policy(acknowledgement={"once_per": "1d"}, sla=FOUR_HOURS, **WEEKDAYS, **more)


def acknowledged(core) -> list[int | None]:
    """The tickets (by number) of the acknowledgement rows recorded since the last look."""
    return [number for kind, number in core.outbox() if kind == kinds.EMAIL_ACKNOWLEDGEMENT]


def skipped_because(core, number: int) -> list[str]:
    ticket = core.ticket(number)
    events = core.session.exec(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == acknowledgements.SKIPPED
        )
    )
    return [event.data["reason"] for event in events]


def test_a_new_ticket_on_friday_evening_promises_an_answer_on_monday(core, time_machine):
    time_machine.move_to(FRIDAY_EVENING, tick=False)
    core.use(acknowledging())
    core.receive(email("Where is my parcel?"))

    assert acknowledged(core) == [1]
    [row] = core.outbox_rows(kinds.EMAIL_ACKNOWLEDGEMENT)
    ticket = core.ticket(1)
    assert row.message_id == core.messages(ticket)[0].id
    assert row.payload["mail_id"].endswith("@shop.example")
    # One business hour on Friday (17:00-18:00), three on Monday from 09:00.
    assert reply_by(core.session, ticket) == datetime(2026, 11, 30, 12, 0, tzinfo=NEW_YORK)


def test_a_holiday_on_monday_moves_the_promise_to_tuesday(core, time_machine):
    time_machine.move_to(FRIDAY_EVENING, tick=False)
    core.use(acknowledging(holidays=["2026-11-30"]))
    core.receive(email())

    assert reply_by(core.session, core.ticket(1)) == datetime(2026, 12, 1, 12, tzinfo=NEW_YORK)


def test_the_promise_follows_the_tickets_priority(core, time_machine):
    time_machine.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK), tick=False)
    core.use(acknowledging())
    core.receive(email())
    ticket = core.ticket(1)
    assert reply_by(core.session, ticket) == datetime(2026, 11, 24, 14, tzinfo=NEW_YORK)

    set_priority(core.session, core.desk, ticket, Priority.URGENT, actor="U0AGENT1")
    assert reply_by(core.session, ticket) == datetime(2026, 11, 24, 10, 30, tzinfo=NEW_YORK)


def test_without_a_first_response_target_there_is_no_promise(core):
    core.use(policy(acknowledgement=True, sla={}))
    core.receive(email())
    assert acknowledged(core) == [1]
    assert reply_by(core.session, core.ticket(1)) is None


def test_one_acknowledgement_per_sender_per_period(core, time_machine):
    time_machine.move_to(FRIDAY_EVENING, tick=False)
    core.use(acknowledging())
    core.receive(email(subject="First question"))
    time_machine.move_to(FRIDAY_EVENING + timedelta(hours=23), tick=False)
    core.receive(email(subject="Second question"))
    core.receive(email(subject="Someone else's", sender="Ann <ann@customer.example>"))
    assert acknowledged(core) == [1, 3]
    assert skipped_because(core, 2) == ["this sender was acknowledged recently"]

    time_machine.move_to(FRIDAY_EVENING + timedelta(days=1), tick=False)
    core.receive(email(subject="A day later", sender="JANE <Jane@Customer.example>"))
    assert acknowledged(core) == [4]


def test_mail_through_a_list_opens_a_ticket_without_an_acknowledgement(core):
    core.use(acknowledging())
    list_headers = [
        ("List-Id", "Shop customers <customers.lists.example>"),
        ("List-Unsubscribe", "<mailto:leave@lists.example>"),
        ("Precedence", "list"),
    ]
    for number, header in enumerate(list_headers, start=1):
        sender = f"Person {number} <person{number}@customer.example>"
        assert core.receive(email(sender=sender, headers=(header,))).created
        assert skipped_because(core, number) == [f"mailing list ({header[0]}: {header[1]})"]
    assert acknowledged(core) == []


def test_machine_mail_and_follow_ups_get_none(core):
    core.use(acknowledging())
    auto = ("Auto-Submitted", "auto-replied")
    assert core.receive(email(headers=(auto,))).created is False
    bounce = email(sender="Mail Delivery System <MAILER-DAEMON@mx.customer.example>")
    assert core.receive(bounce).created is False
    null_sender = email(sender="Ann <ann@customer.example>", headers=(("Return-Path", "<>"),))
    assert core.receive(null_sender).created is False
    own = email(sender=f"Support <{SUPPORT}>")
    assert core.receive(own).ignored.startswith("loop")

    first = email(subject="A question")
    core.receive(first)
    assert acknowledged(core) == [1]
    core.receive(email("More detail", in_reply_to=message_id_of(first)))
    assert core.tickets() == [1]
    assert acknowledged(core) == []


def test_old_mail_imported_or_from_a_backlog_gets_none(core, time_machine):
    time_machine.move_to(FRIDAY_EVENING, tick=False)
    core.use(acknowledging())
    old = ("Date", "Mon, 23 Nov 2026 10:00:00 -0500")
    core.receive(email(headers=(old,)))
    hours_ago = ("Date", "Fri, 27 Nov 2026 09:00:00 -0500")
    core.receive(email(sender="Ann <ann@customer.example>", headers=(hours_ago,)))
    assert acknowledged(core) == [2]
    assert skipped_because(core, 1) == ["old mail, written 2026-11-23 15:00 UTC"]


def test_each_inbox_acknowledges_by_its_own_policy(core):
    inboxes = [
        {"address": RETURNS, "channel": "C0RETURNS", "acknowledgement": {"once_per": "1h"}},
        {"address": "quiet@shop.example", "channel": "C0QUIET", "acknowledgement": False},
    ]
    core.use(policy(inboxes=inboxes))  # no top-level section: the support address is silent
    core.receive(email(subject="To support"), recipients=(SUPPORT,))
    core.receive(email(subject="To returns", to=RETURNS), recipients=(RETURNS,))
    core.receive(email(subject="To quiet", sender="b@x.example", to="quiet@shop.example"))
    assert acknowledged(core) == [2]
    assert (
        core.outbox_rows(kinds.EMAIL_ACKNOWLEDGEMENT)[0]
        .payload["mail_id"]
        .endswith("@shop.example")
    )


def test_the_template_leaves_out_what_it_does_not_know():
    template = (
        "Hi {{customer.first_name}}, ticket #{{ticket.number}}; we'll reply by "
        "{{ticket.reply_by}}.\n\n{{order.summary}}\n\nThanks!"
    )
    text = acknowledgements.render(
        template, {"customer.first_name": "", "ticket.number": "7", "ticket.reply_by": None}
    )
    assert text == "Hi there, ticket #7; we'll reply by as soon as we can.\n\nThanks!\n"
    with_order = acknowledgements.render(
        template, {"ticket.number": "7", "order.summary": "Order #1001: paid, fulfilled"}
    )
    assert "\n\nOrder #1001: paid, fulfilled\n\nThanks!" in with_order
    # An order nobody looked up never gets a status in its customer's mail.
    assert acknowledgements.render("{{order.status}}.", {}) == ".\n"


@ON_BOTH_DATABASES
def test_two_mails_of_one_sender_stored_at_once_claim_one_acknowledgement(core):
    """Two transactions claim for one sender at once: the second waits for the first's row
    (PostgreSQL's row lock, SQLite's write lock), then finds the claim taken."""
    core.use(policy(acknowledgement=False))
    core.receive(email(subject="One"))
    core.receive(email(subject="Two"))
    desk = desk_of(acknowledging())
    outcomes: list[bool] = []

    def claim(number: int, session: Session) -> None:
        ticket = session.exec(select(Ticket).where(Ticket.number == number)).one()
        first_message = session.exec(select(Message).where(Message.ticket_id == ticket.id)).first()
        outcomes.append(
            acknowledge(session, desk, ticket, first_message, mailing_list=None, now=utcnow())
        )

    with Session(core.engine) as first, Session(core.engine) as second:
        claim(1, first)  # not committed yet
        waiter = threading.Thread(target=lambda: (claim(2, second), second.commit()))
        waiter.start()
        waiter.join(0.5)  # most likely waiting now; either way it must find one claim
        first.commit()
        waiter.join()
    assert sorted(outcomes) == [False, True]
    assert len(core.outbox_rows(kinds.EMAIL_ACKNOWLEDGEMENT)) == 1
    core.session.expire_all()
    assert len(core.session.exec(select(Acknowledgement)).all()) == 1
