"""Readable plain text from the HTML part of an email.

Quoted history is kept, rendered with "> " prefixes the way mail clients quote plain text,
so that `quotes.visible_reply` strips it exactly as it strips plain-text quotes.

The markup is split by one regular expression rather than `html.parser.HTMLParser`: on
this Python (3.11.7) HTMLParser rescans to the end of the input for every unterminated
tag, so 40 KB of `<a x="` took 3.7 s and a hostile megabyte would take most of an hour.
Here every search starts where the previous one stopped, which keeps the work linear.
"""

from __future__ import annotations

import re
from html import unescape

# An attribute value containing ">" ends its tag early (the rest shows as text); mail
# HTML practically never has one, and the single pass depends on [^<>].
_MARKUP = re.compile(
    r"<(?:"
    r"(?P<comment>!--)"
    r"|(?P<close>/)?(?P<tag>[a-zA-Z][^\s/<>]*)(?P<attrs>[^<>]*)>"
    r"|[!?/][^<>]*>"  # doctype, processing instructions, stray "</ >"
    r")"
)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
# Elements whose content is never shown. Their text is skipped up to the closing tag.
_RAW_HIDDEN = frozenset({"script", "style", "title", "template"})
# <head> holds Outlook's <xml> and <o:...> junk. As in browsers, an unclosed <head> ends
# at the first tag that cannot be in it.
_HEAD = "head"
_HEAD_CONTENT = frozenset({"meta", "link", "base", "noscript", "xml", *_RAW_HIDDEN})
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "hr", "dl"})
_LINES = frozenset(
    {
        "div", "tr", "dt", "dd", "li", "section", "article", "header", "footer", "nav",
        "aside", "main", "form", "fieldset", "center", "caption", "figure", "figcaption",
        "details", "summary", "address",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_LISTS = frozenset({"ul", "ol"})
_WHITESPACE = re.compile(r"[ \t\n\r\f\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_NO_URL_SCHEMES = ("#", "javascript:", "data:", "cid:")
# Prefixes repeat per nesting level on every line; capping them keeps hostile nesting from
# turning linear input into quadratic output. Deeper levels look like the deepest shown.
_MAX_NESTING_SHOWN = 10


# What clients put around the history of a reply: Gmail's header div, Thunderbird's, the
# cite type of Apple Mail, Thunderbird and Roundcube, the quote containers of Yahoo, Proton,
# Tutanota, Zimbra, Zoho and Front, Outlook for Mac's attribution. A <blockquote> in mail
# with none of them is a quote the sender made (a product page, a policy), not history.
# (Outlook's divRplyFwdMsg is not one: Outlook's history is no blockquote, and its header
# block is cut as text.)
_HISTORY_MARKS = re.compile(
    r"gmail_attr|moz-cite-prefix|yahoo_quoted|protonmail_quote|tutanota_quote|zwchr|"
    r"__QUOTED_TEXT__|zmail_extra|front-blockquote|MAC_OUTLOOK_ATTRIBUTION|"
    r"type\s*=\s*[\"']?cite\b",
    re.IGNORECASE,
)
_BLOCKQUOTE = re.compile(r"<blockquote\b", re.IGNORECASE)


def blockquotes_are_history(html: str | None) -> bool:
    """Whether the ">" quotes of this mail's text can be read as a reply's history: true
    unless its HTML has a <blockquote> and nothing that marks one as a reply's."""
    return not html or not _BLOCKQUOTE.search(html) or _HISTORY_MARKS.search(html) is not None


def html_to_text(html: str) -> str:
    """Plain text of an HTML document; linear time, never raises, whatever the markup."""
    converter = _Converter()
    position = 0
    while markup := _MARKUP.search(html, position):
        converter.data(html[position : markup.start()])
        position = markup.end()
        if markup["comment"]:
            end = html.find("-->", position)
            position = len(html) if end < 0 else end + 3
            continue
        tag = (markup["tag"] or "").lower()
        if not tag:
            continue
        if markup["close"]:
            converter.end(tag)
        elif tag in _RAW_HIDDEN:
            closing = re.compile(rf"</{re.escape(tag)}\s*>", re.IGNORECASE).search(html, position)
            position = closing.end() if closing else len(html)
        else:
            converter.start(tag, markup["attrs"])
    converter.data(html[position:])
    return converter.text()


class _Converter:
    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._newlines = 0  # newlines at the end of the output so far
        self._line_start = True
        self._in_head = False
        self._pre = 0
        self._quote_depth = 0
        self._lists: list[int] = []  # per open list: the next number, or 0 for bullets
        self._link: tuple[str, int] | None = None  # href, and where the link text starts

    def text(self) -> str:
        lines = "".join(self._pieces).split("\n")
        text = "\n".join(line.rstrip(" \t") for line in lines)
        return _BLANK_LINES.sub("\n\n", text).strip("\n").rstrip()

    def start(self, tag: str, attrs: str) -> None:
        if tag == _HEAD:
            self._in_head = True
        elif self._in_head and tag not in _HEAD_CONTENT and ":" not in tag:  # not <o:...>
            self._in_head = False
        if self._in_head:
            return
        if tag == "br":
            self._break_line()
        elif tag == "blockquote":
            self._block(2)
            self._quote_depth += 1
        elif tag in _LISTS:
            self._block(1 if self._lists else 2)
            self._lists.append(1 if tag == "ol" else 0)
        elif tag == "li":
            self._list_item()
        elif tag in _CELLS:
            if not self._line_start:
                self._write(" ")
        elif tag == "a":
            self._link = (_href(attrs), len(self._pieces))
        elif tag in _PARAGRAPHS:
            self._block(2)
            if tag == "pre":
                self._pre += 1
        elif tag in _LINES:
            self._block(1)

    def end(self, tag: str) -> None:
        if tag == _HEAD:
            self._in_head = False
        if self._in_head:
            return
        if tag == "blockquote" and self._quote_depth:
            self._block(2)
            self._quote_depth -= 1
        elif tag in _LISTS and self._lists:
            self._lists.pop()
            self._block(1 if self._lists else 2)
        elif tag == "a" and self._link:
            self._end_link(*self._link)
        elif tag in _PARAGRAPHS:
            self._block(2)
            if tag == "pre" and self._pre:
                self._pre -= 1
        elif tag in _LINES:
            self._block(1)

    def data(self, raw: str) -> None:
        if self._in_head or not raw:
            return
        text = unescape(raw)
        if self._pre:
            for number, line in enumerate(text.split("\n")):
                if number:
                    self._break_line()
                if line:
                    self._write(line)
            return
        text = _WHITESPACE.sub(" ", text)
        if self._line_start or self._pieces[-1].endswith(" "):
            text = text.lstrip(" ")
        if text:
            self._write(text)

    def _write(self, text: str) -> None:
        if self._line_start:
            self._pieces.append("> " * min(self._quote_depth, _MAX_NESTING_SHOWN))
        self._pieces.append(text)
        self._line_start = False
        self._newlines = 0

    def _break_line(self) -> None:
        self._pieces.append("\n")
        self._newlines += 1
        self._line_start = True

    def _block(self, newlines: int) -> None:
        """Ends the current line and leaves `newlines - 1` blank lines, except at the top."""
        if not self._pieces:
            return
        while self._newlines < newlines:
            self._break_line()

    def _list_item(self) -> None:
        self._block(1)
        indent = "  " * min(len(self._lists) - 1, _MAX_NESTING_SHOWN)
        if self._lists and self._lists[-1]:
            self._write(f"{indent}{self._lists[-1]}. ")
            self._lists[-1] += 1
        else:
            self._write(f"{indent}- ")

    def _end_link(self, href: str, text_start: int) -> None:
        self._link = None
        label = "".join(self._pieces[text_start:]).strip()
        if not label or not href or href.lower().startswith(_NO_URL_SCHEMES):
            return
        bare = href.split(":", 1)[1].lstrip("/") if ":" in href else href
        if label.rstrip("/") in (href.rstrip("/"), bare.rstrip("/")):
            return
        self._write(f" ({href})")


def _href(attrs: str) -> str:
    found = _HREF.search(attrs)
    if not found:
        return ""
    return unescape(next(group for group in found.groups() if group is not None)).strip()
