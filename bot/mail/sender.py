"""Who sent a message: the From header, read the way an attacker can't bend.

The address is the angle address (or bare addr-spec) of the *decoded* header as the standard
library's modern parser (`email.headerregistry`) reads it, so encoded words, quoted strings and
comments stay in the display name however much they look like an address. Where that parser
gives up on a header (its `InvalidHeaderDefect`s, e.g. `ann@cust.example <x@evil.example>`,
an unquoted "@" in the display name, which it reads as the address `ann@cust.example`), a
small scanner takes over: the last angle address outside quotes and comments is the address,
everything before it the display name.

RFC 5322 allows one From field; several mailboxes need a Sender field and are almost only
seen in forgeries. More than one From field, more than one mailbox or group syntax make the
sender *ambiguous*: the first mailbox is still shown, but the message is treated like one
whose sender failed authentication (see bot/core/intake.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import errors
from email.policy import default as modern

from bot.mail.decoding import decode_words, one_line
from bot.mail.headers import Address, is_usable

# The modern parser is quadratic in the header's length (see bot/mail/parse.py); a From
# longer than this is junk and goes straight to the linear scanner.
MODERN_PARSER_LIMIT = 2000


@dataclass(frozen=True)
class FromField:
    mailboxes: list[Address]  # every mailbox the From field(s) name, usable or not
    ambiguous: str | None = None  # why the sender is ambiguous; None for one plain mailbox

    @property
    def sender(self) -> Address | None:
        """The first usable mailbox."""
        return next((m for m in self.mailboxes if is_usable(m.address)), None)


def read_from(values: list[str]) -> FromField:
    """`values`: every From header, raw (undecoded), in order."""
    if not values:
        return FromField([])
    mailboxes, grouped = read_mailboxes(values[0])
    if len(values) > 1:
        ambiguous = f"{len(values)} From headers"
    elif len(mailboxes) > 1:
        ambiguous = f"From names {len(mailboxes)} addresses"
    elif grouped:
        ambiguous = "From uses group syntax"
    else:
        ambiguous = None
    return FromField(mailboxes, ambiguous)


def read_mailboxes(value: str) -> tuple[list[Address], bool]:
    """The mailboxes of one address header, and whether it used group syntax."""
    if len(value) <= MODERN_PARSER_LIMIT:
        try:
            header = modern.header_factory("From", value)
        except Exception:  # the parser has raised on odd input before: scan instead
            header = None
        if header is not None and not any(
            isinstance(defect, errors.InvalidHeaderDefect) for defect in header.defects
        ):
            grouped = any(group.display_name is not None for group in header.groups)
            return [_modern_mailbox(a) for a in header.addresses], grouped
    return _scan(value)


def _modern_mailbox(address) -> Address:
    # Without a domain there is no address: an encoded word alone in the field comes back as
    # the quoted local part '"ann@cust.example"', whose addr_spec contains an "@".
    spec = address.addr_spec if address.domain else ""
    name = address.display_name or ("" if address.domain else address.username)
    return Address(name=one_line(name), address=one_line(spec))


def _scan(value: str) -> tuple[list[Address], bool]:
    """A linear reading of what the modern parser rejects: top-level commas separate
    mailboxes, the last top-level `<…>` of each is its address."""
    mailboxes: list[Address] = []
    grouped = False
    for piece in _top_level_split(value):
        phrase, angle = piece.phrase.strip(), piece.angle
        if piece.group_name:
            grouped = True
        if angle is not None:
            address = angle.rpartition(":")[2].strip()  # drops an obsolete route "@a,@b:"
            name = phrase
        else:
            address, name = _bare_address(phrase, piece.comment)
        name = one_line(decode_words(name.strip()))
        if name or address:
            mailboxes.append(Address(name=name, address=one_line(address)))
    return mailboxes, grouped


def _bare_address(phrase: str, comment: str) -> tuple[str, str]:
    """`Big Bug bb@bug.com`, no angle brackets: the address is the last word when it is the
    only one with an "@"; with two, which one is meant is anyone's guess, so neither is."""
    *words, last = phrase.split() or [""]
    if words and "@" in last and not any("@" in word for word in words):
        return last, " ".join(words)
    return phrase, comment


class _Piece:
    """One address of a header being scanned. Its parts grow a character at a time in lists:
    `+=` on a string attribute copies it each time, and a megabyte of `(` took 15 s."""

    def __init__(self, group_name: bool = False):
        self.group_name = group_name
        self._phrase: list[str] = []  # outside quotes' delimiters, comments and the angle
        self._angle: list[str] | None = None
        self._comment: list[str] = []
        self.phrase_has_at = False

    @property
    def phrase(self) -> str:
        return "".join(self._phrase)

    @property
    def angle(self) -> str | None:
        return None if self._angle is None else "".join(self._angle)

    @property
    def comment(self) -> str:
        return "".join(self._comment)

    def open_angle(self) -> None:
        self._angle = []  # a later angle address replaces an earlier one

    def add(self, char: str, in_angle: bool, depth: int) -> None:
        if depth:
            self._comment.append(char)
        elif in_angle:
            self._angle.append(char)
        else:
            self._phrase.append(char)
            self.phrase_has_at = self.phrase_has_at or char == "@"

    def counts(self) -> bool:
        return bool(self.phrase.strip() or self.angle)


def _top_level_split(value: str) -> list[_Piece]:
    pieces = [_Piece()]
    quoted = escaped = False
    depth = 0  # comment nesting
    in_angle = False
    for char in value:
        piece = pieces[-1]
        if escaped:
            escaped = False
            piece.add(char, in_angle, depth)
        elif char == "\\" and (quoted or depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
            if quoted:
                piece.add(char, in_angle, depth)
        elif char == "(":
            depth += 1
            if depth > 1:
                piece.add(char, in_angle, depth)
        elif char == ")" and depth:
            depth -= 1
            if depth:
                piece.add(char, in_angle, depth)
        elif depth:
            piece.add(char, in_angle, depth)
        elif char == '"':
            quoted = True
        elif char == "<" and not in_angle:
            in_angle = True
            piece.open_angle()
        elif char == ">" and in_angle:
            in_angle = False
        elif in_angle:
            piece.add(char, in_angle, depth)
        elif char == ":" and not piece.phrase_has_at:
            pieces[-1] = _Piece(group_name=True)  # "Group name:" starts the member list
        elif char in ",;":
            pieces.append(_Piece(group_name=piece.group_name))
        else:
            piece.add(char, in_angle, depth)
    return [p for p in pieces if p.counts()]
