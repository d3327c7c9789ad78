"""Where a signature starts in the unquoted block at the end of a reply."""

from __future__ import annotations

import re

# Signature starts. "-- " (the standard delimiter) counts anywhere; the others only after
# a blank line, as in github/email_reply_parser, so that prose is not mistaken for them.
_DELIMITER = re.compile(r"^--\s*$")
_LOOSE_SIGNATURE = re.compile(r"^\s*+--\s*+\w")  # "--Ann", "-- Ann Smith"
# A rule of dashes, underscores or equals signs is a signature's only over contact
# details (a mailing list's footer, a company's address block) or a device's sign-off;
# over anything else it is a divider the customer typed ("---" above their device details).
_RULE = re.compile(r"^\s*+(?:-{3,}+|_{3,}+|={3,}+)\s*+$")
# Contact details: an address, a link, a phone number as signatures write one ("+44 ...",
# "Tel: ...", "(020) 7946"), so that a date or an order number is not taken for one.
_CONTACT = re.compile(
    r"@\w|https?://|\bwww\.|\+\d|\b(?:tel|phone|mobile|mob|fax|cell)\b|\(\d{2,5}\)\s?\d",
    re.IGNORECASE,
)
_MAX_FOOTER_LINES = 8
# A carrier's or service's line in such a footer ("Sent via Bell Mobility's Text Messaging
# service.", "Envoyé par le service de messagerie texte ...").
_SENT_BY = re.compile(
    r"^\s*+(?:sent|envoyé|enviado|gesendet|inviato|verzonden|skickat|sendt)\s++"
    r"(?:via|from|with|using|by|par|de|depuis|desde|por|von|mit|über|da|con|met|vanaf|"
    r"från|fra|med)\b",
    re.IGNORECASE,
)
_NAME_SIGNATURE = re.compile(r"^-\w")  # "-Abhishek"
_MOBILE_SIGNATURE = re.compile(
    r"^\s*+(?:sent from|sent with|get outlook for|envoyé de|envoyé depuis|von meinem|"
    r"gesendet von|enviado desde|enviado do|inviato da|verzonden (?:met|vanaf)|"
    r"skickat från|sendt fra|lähetetty|wysłane z|отправлено с)"  # noqa: RUF001
    r"(?:\s+[\w'\u2019&+-]+){1,6}\s*$",
    re.IGNORECASE,
)


def signature_start(lines: list[str], quoted: list[bool], end: int) -> int | None:
    """The lowest signature start in the unquoted block that ends at `end`."""
    index = end - 1
    while index >= 0 and not quoted[index]:
        line = lines[index]
        after_blank = index > 0 and not lines[index - 1].strip()
        if _DELIMITER.match(line):
            return index
        if after_blank and (
            _LOOSE_SIGNATURE.match(line)
            or (_RULE.match(line) and _is_footer(lines, index + 1, end))
            or _MOBILE_SIGNATURE.match(line)
            or (_NAME_SIGNATURE.match(line) and not _starts_list(lines, index + 1))
        ):
            return index
        index -= 1
    return None


def _starts_list(lines: list[str], index: int) -> bool:
    return index < len(lines) and lines[index].lstrip().startswith("-")


def _is_footer(lines: list[str], first: int, end: int) -> bool:
    """Whether lines[first:end], under a rule, are a signature or a list's footer: a few
    lines with contact details or a device's sign-off."""
    if not 0 < end - first <= _MAX_FOOTER_LINES:
        return False
    return any(
        _CONTACT.search(line) or _MOBILE_SIGNATURE.match(line) or _SENT_BY.match(line)
        for line in lines[first:end]
    )
