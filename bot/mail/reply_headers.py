"""Recognising the lines where earlier mail begins: reply headers, Outlook header blocks,
"Original Message" and forward separators. Each test looks at a few lines around an index,
so callers stay linear in the message size.
"""

from __future__ import annotations

import re

# A reply header ("On Tue, 1 Mar 2011, Ann <ann@x.org> wrote:") is at most a few lines
# long; its words in the languages mail clients write it in.
_MAX_HEADER_LINES = 4
MAX_HEADER_LENGTH = 500
_WROTE = re.compile(
    r"\b(?:wrote|writes|a écrit|écrit|escribió|escribio|ha escrit|va escriure|ha scritto|"
    r"scrisse|escreveu|schrieb|geschrieben|schreef|geschreven|napisał|napisała|napisal|pisze|"
    r"skrev|kirjoitti|napsal|napsala|napísal|írta|написал|написала|написав|yazdı|έγραψε|"  # noqa: RUF001
    r"a scris|napisao|menulis|đã viết|كتب)|写道|寫道|작성|のメッセージ|書きました",
    re.IGNORECASE,
)
# Gmail's header without a verb: "2014-03-20 8:48 GMT+01:00 Ann <ann@x.org>:", a time
# somewhere before an address that ends the line.
_ENDS_WITH_ADDRESS = re.compile(r"@[^\s<>@]+>?\s*[:\uff1a]$")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_DIGIT = re.compile(r"\d")
# How multi-line reply headers begin: a word like "On"/"Le"/"Am", or a date.
HEADER_OPENER = re.compile(
    r"^[-*\s]*+(?:(?:on|le|el|il|am|op|em|pe|på|den|dne|dňa|dnia|w dniu)\b|\d|在)",
    re.IGNORECASE,
)
# Labels may be bold ("*From:*" in text made from HTML) and French puts a space before
# the colon ("De :"). Possessive quantifiers (*+, ++) here and below keep the engine from
# retrying every split of a long run of spaces or stars against every label.
_FROM_LABEL = re.compile(
    r"^\s*+(?:[*_]++\s*+)?+(?:from|de|von|van|da|fra|från|od|от|від|lähettäjä|feladó|kimden|afzender|"
    r"expéditeur|remitente|发件人|寄件者|差出人|보낸 사람)\s*(?:[*_]+\s*)?[:\uff1a]",
    re.IGNORECASE,
)
_OTHER_LABEL = re.compile(
    r"^\s*+(?:[*_]++\s*+)?+(?:sent|date|to|cc|subject|envoyé(?: le)?|à|a|objet|gesendet|datum|an|"
    r"betreff|verzonden|aan|onderwerp|inviato|data|oggetto|enviado(?: el)?|enviada|para|"
    r"asunto|fecha|assunto|wysłano|do|temat|sendt|til|emne|skickat|till|ämne|отправлено|"
    r"кому|тема|发送时间|日期|收件人|主题|送信日時|宛先|件名|보낸 날짜|받는 사람|제목|"
    r"message du|copie à)\s*(?:[*_]+\s*)?[:\uff1a]",
    re.IGNORECASE,
)
_OUTLOOK_BLOCK_LINES = 6
ORIGINAL_MESSAGE = re.compile(
    r"^\s*+[-_=*]{2,}+\s*+(?:original message|forwarded message|original|"
    r"ursprüngliche nachricht|weitergeleitete nachricht|message d'origine|message transféré|"
    r"mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato|"
    r"oorspronkelijk bericht|doorgestuurd bericht|ursprungligt meddelande|"
    r"opprinnelig melding|oprindelig meddelelse|alkuperäinen viesti|wiadomość oryginalna|"
    r"původní zpráva|исходное сообщение|пересылаемое сообщение|mensagem original|"
    r"mensagem encaminhada)\s*[-_=*]{2,}\s*$"
    r"|^\s*+(?:begin forwarded message|début du message réexpédié|"
    r"anfang der weitergeleiteten nachricht|inicio del mensaje reenviado)\s*[:\uff1a]\s*$",
    re.IGNORECASE,
)
SEPARATOR = re.compile(r"^\s*+(?:-{3,}|_{3,}|={3,}|\*{3,})\s*$")
GMAIL_WRAPPED_ADDRESS = re.compile(r"<[^<>\s]+@[^<>\s]+$")


def is_blank(line: str) -> bool:
    return not line.strip()


def _is_reply_header(candidate: str) -> bool:
    candidate = candidate.strip()
    if len(candidate) > MAX_HEADER_LENGTH or not candidate.endswith((":", "\uff1a")):
        return False
    if _WROTE.search(candidate):
        return "@" in candidate or _DIGIT.search(candidate) is not None
    address = _ENDS_WITH_ADDRESS.search(candidate)
    return bool(address and _TIME.search(candidate, 0, address.start()))


def _ends_with_colon(line: str) -> bool:
    return line.rstrip().endswith((":", "\uff1a"))


def _header_lines(lines: list[str], first: int, last: int) -> bool:
    """Whether lines[first..last] (inclusive) are one reply header.

    Only its last line ends with a colon; its first line is an opener unless it is a
    single line: without that rule "Thanks,\nOn ... wrote:" would swallow "Thanks,".
    """
    span = lines[first : last + 1]
    if not _ends_with_colon(span[-1]) or any(_ends_with_colon(line) for line in span[:-1]):
        return False
    if any(is_blank(line) or line.lstrip().startswith(">") for line in span):
        return False
    if len(span) > 1 and not HEADER_OPENER.match(span[0]):
        return False
    return _is_reply_header(" ".join(line.strip() for line in span))


def header_starting_at(lines: list[str], first: int) -> int | None:
    """The index after a reply header that starts at `first`, if one does."""
    for last in range(first, min(first + _MAX_HEADER_LINES, len(lines))):
        if _ends_with_colon(lines[last]):
            return last + 1 if _header_lines(lines, first, last) else None
    return None


def header_ending_at(lines: list[str], last: int) -> int | None:
    """The first line of a reply header that ends at `last`, preferring one with an opener."""
    matches = []
    for first in range(last, max(last - _MAX_HEADER_LINES, -1), -1):
        if first < last and _ends_with_colon(lines[first]):
            break
        if _header_lines(lines, first, last):
            matches.append(first)
    openers = [first for first in matches if HEADER_OPENER.match(lines[first])]
    return (openers or matches or [None])[0]


def is_outlook_block(lines: list[str], first: int) -> bool:
    if not _FROM_LABEL.match(lines[first]):
        return False
    window = lines[first + 1 : first + _OUTLOOK_BLOCK_LINES]
    if any(_OTHER_LABEL.match(line) for line in window):
        return True
    # A lone "From: Ann <ann@x.org>" counts when it opens a paragraph.
    opens_paragraph = first == 0 or is_blank(lines[first - 1]) or SEPARATOR.match(lines[first - 1])
    return bool(opens_paragraph and "@" in lines[first])
