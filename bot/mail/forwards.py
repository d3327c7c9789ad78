"""How a forwarded mail inside a customer's message is shown.

For a helpdesk the forwarded mail is the point (the order confirmation, the carrier's
notice), so it is kept, under one marker whatever the client or language wrote: the
forwarded header block condensed to who sent it, when and with which subject (recipient
lines are noise; the customer is the recipient), then its body. iOS Mail quotes what it
forwards with "> "; that one level is taken off so the forwarded mail reads as a mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.mail.reply_headers import ORIGINAL_MESSAGE, SEPARATOR, is_blank

MARKER = "---------- Forwarded message ----------"
# The separators that name a forward, as clients write them (reply_headers.ORIGINAL_MESSAGE
# matches these and a reply's "-----Original Message-----" alike; a forward is tested first).
FORWARD_SEPARATOR = re.compile(
    r"^\s*+[-_=*\u2010-\u2015]{2,}+\s*+(?:forwarded message|weitergeleitete nachricht|"
    r"message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht|"
    r"videresendt meddelelse|vidarebefordrat meddelande|välitetty viesti|"
    r"przekazana wiadomość|přeposlaná zpráva|пересылаемое сообщение|mensagem encaminhada|"
    r"转发邮件信息|已转发邮件|轉寄郵件)\s*[-_=*\u2010-\u2015]{2,}\s*$"
    r"|^\s*+(?:begin forwarded message|début du message réexpédié|"
    r"anfang der weitergeleiteten nachricht|inicio del mensaje reenviado|"
    r"inizio messaggio inoltrato|begin doorgestuurd bericht)\s*[:\uff1a]\s*$",
    re.IGNORECASE,
)
# "From: …", "De : …", "*Subject:* …": a label of up to three words, then a colon.
_LABEL = re.compile(
    r"^\s*+[*_]*+([^\W\d_][\w.'\u2019-]*+(?: [\w.'\u2019-]++){0,2}?)[*_]*+\s*+[:\uff1a]"
)
_RECIPIENT_LABELS = frozenset(
    {
        "to", "cc", "bcc", "reply-to", "an", "kopie", "à", "a", "pour", "copie à", "para",
        "cco", "aan", "til", "till", "do", "dw", "kopia", "komu", "címzett",
        "másolat", "vastaanottaja", "kopio", "al\u0131c\u0131", "bilgi", "destinataire",
        "destinatario", "destinatari", "кому", "копия", "收件人", "抄送", "宛先", "받는 사람",
        "참조",
    }
)  # fmt: skip
_MAX_HEADER_LINES = 20
_SPACES = re.compile(r"\s+")


def forwarded_mail(lines: list[str], start: int, shown_body: Callable[[list[str]], str]) -> str:
    """The forwarded mail that starts at lines[start] (its separator or header block), as
    shown: the marker, its sender/date/subject lines, and `shown_body` of its body lines."""
    index = start
    while index < len(lines) and (is_blank(lines[index]) or _is_separator(lines[index])):
        index += 1
    rest = _unquoted(lines, index)
    headers, body_start = _headers(rest)
    body = rest[body_start:]
    shown = shown_body(body) or "\n".join(line.rstrip() for line in body).strip()
    return "\n\n".join(part for part in ("\n".join([MARKER, *headers]), shown) if part)


def _is_separator(line: str) -> bool:
    return bool(
        FORWARD_SEPARATOR.match(line) or ORIGINAL_MESSAGE.match(line) or SEPARATOR.match(line)
    )


def _unquoted(lines: list[str], index: int) -> list[str]:
    """lines[index:], with one level of "> " taken off a forward that is all quoted."""
    if index >= len(lines) or not lines[index].lstrip().startswith(">"):
        return lines[index:]
    end = index
    while end < len(lines) and (lines[end].lstrip().startswith(">") or is_blank(lines[end])):
        end += 1
    unquoted = [_without_one_level(line) for line in lines[index:end]]
    return unquoted + lines[end:]


def _without_one_level(line: str) -> str:
    stripped = line.lstrip()
    if not stripped.startswith(">"):
        return line
    stripped = stripped[1:]
    return stripped[1:] if stripped.startswith(" ") else stripped


def _headers(lines: list[str]) -> tuple[list[str], int]:
    """The header lines worth showing, and where the body starts."""
    shown: list[str] = []
    index = 0
    recipient = False
    while index < min(len(lines), _MAX_HEADER_LINES) and not is_blank(lines[index]):
        line = lines[index]
        label = _LABEL.match(line)
        if label:
            recipient = label[1].lower() in _RECIPIENT_LABELS
            if not recipient:
                shown.append(_SPACES.sub(" ", line.strip()))
        elif recipient and _continues_recipients(lines[index - 1], line):
            pass  # a recipient list wrapped over lines
        elif shown and not recipient and line[:1].isspace():
            shown[-1] += " " + _SPACES.sub(" ", line.strip())  # a folded value
        else:
            break  # neither a header line nor a wrapped one: the body starts here
        index += 1
    if index == 0:
        return [], 0
    while index < len(lines) and is_blank(lines[index]):
        index += 1
    return shown, index


def _continues_recipients(above: str, line: str) -> bool:
    return line[:1].isspace() or "@" in line or above.rstrip().endswith((",", ";"))
