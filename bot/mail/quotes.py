"""The new part of a reply: quoted history and signatures removed.

Two passes over the lines, both linear:

1. Top down, the first place where unquoted history starts cuts the text: an Outlook
   "From:/Sent:/To:" block, an "-----Original Message-----" or forward separator, or an
   "On <date>, <name> wrote:" header followed by unquoted text. Whatever is below is the
   previous mail, not the reply.
2. Bottom up, as github/email_reply_parser does: trailing ">" quoted blocks (with the reply
   header above them), signatures and blank lines are peeled off until the first line the
   sender wrote. Quoted blocks between the sender's own paragraphs (inline replies) stay.
"""

from __future__ import annotations

import re

# A reply header ("On Tue, 1 Mar 2011, Ann <ann@x.org> wrote:") is at most a few lines
# long; its words in the languages mail clients write it in.
_MAX_HEADER_LINES = 4
_MAX_HEADER_LENGTH = 500
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
_HEADER_OPENER = re.compile(
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
_ORIGINAL_MESSAGE = re.compile(
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
_SEPARATOR = re.compile(r"^\s*+(?:-{3,}|_{3,}|={3,}|\*{3,})\s*$")
_GMAIL_WRAPPED_ADDRESS = re.compile(r"<[^<>\s]+@[^<>\s]+$")

# Signature starts. "-- " (the standard delimiter) counts anywhere; the others only after
# a blank line, as in github/email_reply_parser, so that prose is not mistaken for them.
_DELIMITER = re.compile(r"^--\s*$")
_LOOSE_SIGNATURE = re.compile(r"^\s*+(?:--|__)|^={30,}\s*$")
_NAME_SIGNATURE = re.compile(r"^-\w")  # "-Abhishek"
_MOBILE_SIGNATURE = re.compile(
    r"^\s*+(?:sent from|sent with|get outlook for|envoyé de|envoyé depuis|von meinem|"
    r"gesendet von|enviado desde|enviado do|inviato da|verzonden (?:met|vanaf)|"
    r"skickat från|sendt fra|lähetetty|wysłane z|отправлено с)"  # noqa: RUF001
    r"(?:\s+[\w'\u2019&+-]+){1,6}\s*$",
    re.IGNORECASE,
)
# Nobody writes a reply this long; what follows is history (or an attack on our time:
# a line costs a few microseconds at worst, so this bounds the work at about a second).
_MAX_LINES = 100_000
# Mail clients re-wrap long quoted lines and leave the tail without its ">"; such a tail
# sits between two quoted lines, right below a line as long as the wrap width.
_WRAP_WIDTH = 60
_MAX_WRAPPED_TAIL = 2


def visible_reply(text: str) -> str:
    """What the sender wrote in this message, without quoted history or signature.

    When nothing would be left (a forward, or a mail that is all quote) the whole text is
    returned instead, stripped: an empty message helps nobody.
    """
    return strip_quoted_history(text) or "\n".join(_lines(text)).strip()


def strip_quoted_history(text: str) -> str:
    """The reply without history or signature; "" when the text holds nothing else."""
    lines = _lines(text)[:_MAX_LINES]
    lines = lines[: _history_start(lines)]
    quoted = _quoted_lines(lines)
    # Trailing spaces are invisible; format=flowed mail is full of them.
    return "\n".join(line.rstrip() for line in lines[: _reply_end(lines, quoted)]).strip()


def _lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        # Gmail wraps "...Ann <ann@x.org>:" after the address, leaving ">:" on its own.
        if line.strip() in (">:", ">\uff1a") and lines and _GMAIL_WRAPPED_ADDRESS.search(lines[-1]):
            lines[-1] = lines[-1].rstrip() + line.strip()
        else:
            lines.append(line)
    return lines


def _is_blank(line: str) -> bool:
    return not line.strip()


def _quoted_lines(lines: list[str]) -> list[bool]:
    quoted = [line.lstrip().startswith(">") for line in lines]
    index = 0
    while index < len(lines):
        if quoted[index] or _is_blank(lines[index]):
            index += 1
            continue
        tail_end = index
        while tail_end < len(lines) and not quoted[tail_end] and not _is_blank(lines[tail_end]):
            tail_end += 1
        wrapped_tail = (
            index > 0
            and quoted[index - 1]
            and len(lines[index - 1].rstrip()) >= _WRAP_WIDTH
            and tail_end < len(lines)
            and quoted[tail_end]
            and tail_end - index <= _MAX_WRAPPED_TAIL
        )
        if wrapped_tail:
            quoted[index:tail_end] = [True] * (tail_end - index)
        index = tail_end
    return quoted


def _is_reply_header(candidate: str) -> bool:
    candidate = candidate.strip()
    if len(candidate) > _MAX_HEADER_LENGTH or not candidate.endswith((":", "\uff1a")):
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
    if any(_is_blank(line) or line.lstrip().startswith(">") for line in span):
        return False
    if len(span) > 1 and not _HEADER_OPENER.match(span[0]):
        return False
    return _is_reply_header(" ".join(line.strip() for line in span))


def _header_starting_at(lines: list[str], first: int) -> int | None:
    """The index after a reply header that starts at `first`, if one does."""
    for last in range(first, min(first + _MAX_HEADER_LINES, len(lines))):
        if _ends_with_colon(lines[last]):
            return last + 1 if _header_lines(lines, first, last) else None
    return None


def _header_ending_at(lines: list[str], last: int) -> int | None:
    """The first line of a reply header that ends at `last`, preferring one with an opener."""
    matches = []
    for first in range(last, max(last - _MAX_HEADER_LINES, -1), -1):
        if first < last and _ends_with_colon(lines[first]):
            break
        if _header_lines(lines, first, last):
            matches.append(first)
    openers = [first for first in matches if _HEADER_OPENER.match(lines[first])]
    return (openers or matches or [None])[0]


def _is_outlook_block(lines: list[str], first: int) -> bool:
    if not _FROM_LABEL.match(lines[first]):
        return False
    window = lines[first + 1 : first + _OUTLOOK_BLOCK_LINES]
    if any(_OTHER_LABEL.match(line) for line in window):
        return True
    # A lone "From: Ann <ann@x.org>" counts when it opens a paragraph.
    opens_paragraph = (
        first == 0 or _is_blank(lines[first - 1]) or _SEPARATOR.match(lines[first - 1])
    )
    return bool(opens_paragraph and "@" in lines[first])


def _next_content_is_quoted(lines: list[str], index: int) -> bool:
    while index < len(lines) and _is_blank(lines[index]):
        index += 1
    return index < len(lines) and lines[index].lstrip().startswith(">")


def _history_start(lines: list[str]) -> int:
    """Where unquoted history begins (len(lines) when it does not)."""
    for index, line in enumerate(lines):
        if _is_blank(line) or line.lstrip().startswith(">") or len(line) > _MAX_HEADER_LENGTH:
            continue
        if _ORIGINAL_MESSAGE.match(line) or _is_outlook_block(lines, index):
            return _with_separators_above(lines, index)
        header_end = _header_starting_at(lines, index)
        if header_end is not None and not _next_content_is_quoted(lines, header_end):
            return _with_separators_above(lines, index)
    return len(lines)


def _with_separators_above(lines: list[str], index: int) -> int:
    """Moves a cut above the "____" or "-----" line Outlook draws over the history."""
    above = index
    while above > 0 and _is_blank(lines[above - 1]):
        above -= 1
    return above - 1 if above > 0 and _SEPARATOR.match(lines[above - 1]) else index


def _reply_end(lines: list[str], quoted: list[bool]) -> int:
    end = len(lines)
    while True:
        while end > 0 and _is_blank(lines[end - 1]):
            end -= 1
        if end == 0:
            return 0
        if quoted[end - 1]:
            while end > 0 and (quoted[end - 1] or _is_blank(lines[end - 1])):
                end -= 1
            if end > 0 and (header := _header_ending_at(lines, end - 1)) is not None:
                end = header
            continue
        signature = _signature_start(lines, quoted, end)
        if signature is None:
            return end
        end = signature


def _signature_start(lines: list[str], quoted: list[bool], end: int) -> int | None:
    """The lowest signature start in the unquoted block that ends at `end`."""
    index = end - 1
    while index >= 0 and not quoted[index]:
        line = lines[index]
        after_blank = index > 0 and _is_blank(lines[index - 1])
        if _DELIMITER.match(line):
            return index
        if after_blank and (
            _LOOSE_SIGNATURE.match(line)
            or _MOBILE_SIGNATURE.match(line)
            or (_NAME_SIGNATURE.match(line) and not _starts_list(lines, index + 1))
        ):
            return index
        index -= 1
    return None


def _starts_list(lines: list[str], index: int) -> bool:
    return index < len(lines) and lines[index].lstrip().startswith("-")
