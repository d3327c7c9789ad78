"""The public help centre under /help/: plain server-rendered HTML, no JavaScript.

Articles are Markdown written by the team, but a page served under the shop's name must stay
safe whatever a file says: raw HTML in Markdown is shown as text, and a link or image whose
address is anything but http(s), mailto or a relative path is not made a link at all (no
`javascript:`, `data:` or `vbscript:`). The Content-Security-Policy allows no script either.
Links within the help centre are relative, so it works behind a proxy's path prefix too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

from bot.core.kb import MARK_END, MARK_START, Hit, Stored

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    # Short: an edited article shows within a minute, and a busy page is still served cheaply.
    "Cache-Control": "public, max-age=60",
}
SAFE_SCHEMES = ("http", "https", "mailto")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
QUERY_LIMIT = 200


@dataclass(frozen=True)
class Centre:
    name: str  # the shop's name (kb.name)
    colour: str  # the shop's colour (chat.color), "#rrggbb"


def safe_link(url: str) -> bool:
    """http(s), mailto, or an address without a scheme (relative, a fragment)."""
    # Browsers ignore whitespace and control characters inside a scheme ("java\tscript:").
    squeezed = "".join(c for c in url if c > " " and c != "\x7f")
    scheme = _SCHEME.match(squeezed)
    return scheme is None or scheme.group(1).lower() in SAFE_SCHEMES


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.validateLink = safe_link

    def link_open(renderer, tokens, index, options, env):
        tokens[index].attrSet("rel", "nofollow noopener noreferrer")
        return renderer.renderToken(tokens, index, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MARKDOWN = _renderer()


def render_markdown(markdown: str) -> str:
    return _MARKDOWN.render(markdown)


def highlighted(snippet: str) -> str:
    """A search snippet as HTML: escaped, matched words in <mark>."""
    escaped = html.escape(snippet)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def index_page(centre: Centre, articles: list[Stored]) -> str:
    if articles:
        items = "".join(
            f'<li><a href="{html.escape(a.slug)}">{html.escape(a.title)}</a></li>\n'
            for a in articles
        )
        listing = f'<h2 id="all">All articles</h2>\n<ul class="articles">\n{items}</ul>\n'
    else:
        listing = "<p>There are no articles yet.</p>\n"
    return _document(centre, centre.name, "", f"<h1>How can we help?</h1>\n{listing}")


def results_page(centre: Centre, query: str, hits: list[Hit]) -> str:
    shown = query[:QUERY_LIMIT]
    if hits:
        items = "".join(
            f'<li><a href="{html.escape(hit.slug)}">{html.escape(hit.title)}</a>'
            f"<p>{highlighted(hit.snippet)}</p></li>\n"
            for hit in hits
        )
        found = f'<ol class="results">\n{items}</ol>\n'
        heading = f"{len(hits)} article{'s' if len(hits) != 1 else ''} for “{shown}”"
    else:
        found = '<p>Try other words, or <a href="./">see every article</a>.</p>\n'
        heading = f"Nothing found for “{shown}”"
    return _document(
        centre,
        f"Search: {shown}",
        query,
        f'<h1 aria-live="polite">{html.escape(heading)}</h1>\n{found}',
    )


def article_page(centre: Centre, article: Stored) -> str:
    tags = ""
    if article.tags:
        tags = (
            '<p class="tags">Topics: '
            + ", ".join(f'<span class="tag">{html.escape(t)}</span>' for t in article.tags)
            + "</p>\n"
        )
    body = (
        f'<article lang="{html.escape(article.language or "en")}">\n'
        f"<h1>{html.escape(article.title)}</h1>\n{tags}{render_markdown(article.body)}</article>\n"
        '<p class="back"><a href="./">← All articles</a></p>\n'
    )
    return _document(centre, article.title, "", body)


def not_found_page(centre: Centre) -> str:
    return _document(
        centre,
        "Not found",
        "",
        '<h1>We could not find that article</h1>\n<p>It may have moved. <a href="./">See every '
        "article</a>, or search above.</p>\n",
    )


def _document(centre: Centre, title: str, query: str, main: str) -> str:
    name = html.escape(centre.name)
    whole = title if title == centre.name else f"{title} \N{EN DASH} {centre.name}"
    page_title = html.escape(whole)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{page_title}</title><style>{_style(centre.colour)}</style></head>\n"
        '<body><a class="skip" href="#main">Skip to content</a>\n'
        f'<header class="top"><a href="./">{name}</a></header>\n'
        '<main id="main">\n'
        '<form role="search" method="get" action="./" accept-charset="utf-8">'
        '<label for="q">Search the help centre</label> '
        f'<input id="q" name="q" type="search" maxlength="{QUERY_LIMIT}" '
        f'value="{html.escape(query[:QUERY_LIMIT])}"> <button type="submit">Search</button>'
        "</form>\n"
        f"{main}</main></body></html>\n"
    )


def _style(colour: str) -> str:
    on_colour = "#ffffff" if _contrast(colour, "#ffffff") >= 4.5 else "#111111"
    # Links on white in the shop's colour when it is dark enough to read, else in near-black.
    link = colour if _contrast(colour, "#ffffff") >= 4.5 else "#1a1a1a"
    return (
        "body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;line-height:1.5}"
        f".top{{background:{colour};padding:1em}}"
        f".top a{{color:{on_colour};font-weight:bold;font-size:1.3em;text-decoration:none}}"
        "main{max-width:44em;margin:0 auto;padding:1em}"
        f"a{{color:{link}}}a:focus,input:focus,button:focus{{outline:3px solid #ffbf47}}"
        ".skip{position:absolute;left:-999em}.skip:focus{left:1em;top:1em;background:#fff}"
        "form{margin:1em 0}label{display:block;font-weight:bold}"
        "input{font-size:1em;padding:.4em;width:min(30em,70%)}"
        f"button{{font-size:1em;padding:.4em .8em;background:{colour};color:{on_colour};"
        "border:0}mark{background:#fff1a8}.results li{margin:.8em 0}.results p{margin:.2em 0}"
        ".tags{color:#555}pre{overflow:auto;background:#f4f4f4;padding:.6em}"
        "img{max-width:100%}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.3em}"
    )


def _contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
