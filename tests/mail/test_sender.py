"""Who sent a message: the From variants an attacker would try, and the ones mailers really
send. The sender is always the real (angle) address; what looks like an address elsewhere
is display name, or no address at all."""

from __future__ import annotations

import pytest

from bot.mail.headers import Address, is_usable
from bot.mail.parse import parse_email
from bot.mail.sender import MODERN_PARSER_LIMIT, read_from

ANN = "ann@cust.example"
ATTACKER = "attacker@evil.example"


def sender_of(*from_values: str):
    headers = "".join(f"From: {value}\r\n" for value in from_values)
    return parse_email(f"{headers}Subject: x\r\n\r\nbody\r\n".encode())


@pytest.mark.parametrize(
    ("value", "address", "name"),
    [
        # A display name that is an address, unquoted: the modern parser reads the first
        # addr-spec and calls the rest invalid; the scanner takes the angle address.
        (f"{ANN} <{ATTACKER}>", ATTACKER, ANN),
        (f'"{ANN}" <{ATTACKER}>', ATTACKER, ANN),
        (f'"{ANN} <{ANN}>" <{ATTACKER}>', ATTACKER, f"{ANN} <{ANN}>"),
        (f'"Ann \\"x\\" <{ANN}>" <{ATTACKER}>', ATTACKER, f'Ann "x" <{ANN}>'),
        # Encoded words hiding "@", "<" and ">": decoded, they stay display name.
        (f"=?utf-8?q?ann=40cust.example_=3Cann=40cust.example=3E?= <{ATTACKER}>", ATTACKER,
         f"{ANN} <{ANN}>"),
        (f"=?utf-8?b?QW5uIDxhbm5AY3VzdC5leGFtcGxlPg==?= <{ATTACKER}>", ATTACKER, f"Ann <{ANN}>"),
        # The old parser took the undecoded "=?utf-8?q?a@b?=" for the address: a reply went
        # to a garbled address.
        ("=?utf-8?q?a@b?= <c@d.example>", "c@d.example", "a@b"),
        (f'"=?utf-8?q?ann=40cust.example?=" <{ATTACKER}>', ATTACKER, ANN),
        # Comments are not addresses.
        (f"{ATTACKER} ({ANN})", ATTACKER, ""),
        (f"{ANN} (Ann) <{ATTACKER}>", ATTACKER, ANN),
        # A later angle address wins over an earlier one in the same mailbox.
        (f"{ANN} <{ANN}> <{ATTACKER}>", ATTACKER, ANN),
        # What mailers really send.
        ("Jane Doe <jane@customer.example>", "jane@customer.example", "Jane Doe"),
        ("=?iso-8859-1?q?J=F6rg?= <j@x.example>", "j@x.example", "Jörg"),
        ("=?utf-8?q?Ann?=<ann@x.example>", "ann@x.example", "Ann"),
        ("Ann <ann@cust.example", ANN, "Ann"),  # missing ">"
        ("<@relay.example:real@x.example>", "real@x.example", ""),  # obsolete route
        ("JANE@Customer.Example", "JANE@Customer.Example", ""),
    ],
)  # fmt: skip
def test_the_sender_is_the_real_address(value, address, name):
    mail = sender_of(value)
    assert mail.sender is not None
    assert (mail.sender.address, mail.sender.name) == (address, name)
    assert mail.sender_ambiguous is None


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?ann=40cust.example?=",  # an encoded word is never an address
        "=?utf-8?b?YW5uQGN1c3QuZXhhbXBsZQ==?=@evil.example",
        "=?utf-8?q?Ann?= =?utf-8?q?_x@y.example?=",
        f"{ANN}@evil.example",  # an unquoted "@" in the local part
        "=?utf-8?q?Ann_=3Cann=40cust.example=3E?=",
        "undisclosed-recipients:;",
        "",
    ],
)
def test_no_address_means_no_sender(value):
    assert sender_of(value).sender is None


@pytest.mark.parametrize(
    ("values", "first", "why"),
    [
        ([f"{ATTACKER}, {ANN}"], ATTACKER, "From names 2 addresses"),
        ([f"{ANN}, {ATTACKER}"], ANN, "From names 2 addresses"),
        ([f"{ANN} <{ATTACKER}>, bob@x.example"], ATTACKER, "From names 2 addresses"),
        ([f"Friends: {ANN};"], ANN, "From uses group syntax"),
        ([f"Friends: {ANN}, {ATTACKER};"], ANN, "From names 2 addresses"),
        ([ANN, ATTACKER], ANN, "2 From headers"),
    ],
)
def test_several_senders_are_ambiguous(values, first, why):
    mail = sender_of(*values)
    assert mail.sender.address == first
    assert mail.sender_ambiguous == why


def test_a_huge_from_header_is_scanned_in_linear_time():
    value = '"x" ' * MODERN_PARSER_LIMIT + f"<{ATTACKER}>"
    assert read_from([value]).sender.address == ATTACKER


def test_every_from_mailbox_is_kept_for_the_loop_guard():
    mail = sender_of(f"{ATTACKER}, support@shop.example")
    assert [m.address for m in mail.from_mailboxes] == [ATTACKER, "support@shop.example"]


@pytest.mark.parametrize(
    ("address", "usable"),
    [
        ("jane@customer.example", True),
        ('"john doe"@x.example', True),
        ('"ann@cust.example"@evil.example', True),
        ("jane@customer.example>", False),
        ("=?utf-8?q?x?=@evil.example", False),
        ("ann doe@x.example", False),
        ("a@b@evil.example", False),
        ("jane@cust omer.example", False),
        ("jane@", False),
        ("@x.example", False),
    ],
)
def test_a_garbled_address_is_not_usable(address, usable):
    assert is_usable(address) is usable


def test_a_bare_address_after_a_name_is_taken_only_when_it_is_the_only_one():
    assert sender_of("Big Bug bb@bug.com").sender == Address(name="Big Bug", address="bb@bug.com")
    assert sender_of(f"{ATTACKER} {ANN}").sender is None


def test_sender_and_reply_to_never_replace_from():
    """Sender (a secretary, a list) and Reply-To are ignored: the customer is the From."""
    raw = (
        f"From: {ATTACKER}\r\nSender: Ann <{ANN}>\r\nReply-To: Ann <{ANN}>\r\n"
        "Subject: [#1]\r\n\r\nbody\r\n"
    ).encode()
    mail = parse_email(raw)
    assert mail.sender.address == ATTACKER and mail.sender_ambiguous is None
