"""The help centre's pages: hostile Markdown rendered safely, everything escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.core.kb import MARK_END, MARK_START, Hit, Stored
from bot.views.help_centre import (
    HEADERS,
    Centre,
    article_page,
    highlighted,
    render_markdown,
    results_page,
    safe_link,
)

CENTRE = Centre("Acme <Shop>", "#1f6feb")


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](<java\tscript:alert(1)>)",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](data:image/svg+xml;base64,PHN2Zz4=)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        '[x](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    ],
)
def test_hostile_markdown_renders_no_script_and_no_unsafe_link(markdown):
    tags = Elements()
    tags.feed(render_markdown(markdown))
    assert {name for name, _ in tags.seen} <= {"p", "a", "img"}
    for _, attributes in tags.seen:
        assert not [name for name, _ in attributes if name.startswith("on")]
        for name, value in attributes:
            if name in ("href", "src"):
                assert safe_link(value), value
                assert not re.match(r"\s*(javascript|vbscript|data):", value, re.I)


class Elements(HTMLParser):
    """Every element a browser would make of the page, with its attributes."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, attrs))


def test_ordinary_markdown_keeps_its_links_headings_and_tables():
    rendered = render_markdown(
        "## Sizes\n\nSee [returns](returns) or [mail us](mailto:help@shop.example) or "
        "[our blog](https://shop.example/blog).\n\n| S | M |\n|---|---|\n| 1 | 2 |\n"
    )
    assert "<h2>Sizes</h2>" in rendered and "<table>" in rendered
    assert '<a href="returns" rel="nofollow noopener noreferrer">returns</a>' in rendered
    assert 'href="mailto:help@shop.example"' in rendered
    assert 'href="https://shop.example/blog"' in rendered


def test_an_article_page_escapes_its_title_tags_and_the_shop_name():
    article = Stored("x", "<b>Bold</b> & co", ("<i>tag</i>",), True, "en", "Body", 1)
    page = article_page(CENTRE, article)
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in page
    assert "&lt;i&gt;tag&lt;/i&gt;" in page
    assert "Acme &lt;Shop&gt;" in page and "<Shop>" not in page
    assert "<script" not in page
    assert '<label for="q">' in page and 'lang="en"' in page


def test_search_results_quote_the_query_and_highlight_escaped_snippets():
    hit = Hit("returns", "Returns", f"a <b> {MARK_START}refund{MARK_END} c", True)
    page = results_page(CENTRE, '"><script>alert(1)</script>', [hit])
    assert "<script>alert(1)" not in page
    assert "a &lt;b&gt; <mark>refund</mark> c" in page
    assert highlighted(f"{MARK_START}x{MARK_END}") == "<mark>x</mark>"


def test_pages_forbid_scripts_and_are_readable_on_the_shops_colour():
    assert "script-src" not in HEADERS["Content-Security-Policy"]
    assert HEADERS["Content-Security-Policy"].startswith("default-src 'none'")
    light = article_page(Centre("Shop", "#ffe066"), Stored("x", "T", (), True, "", "B", 1))
    assert ".top a{color:#111111" in light
    dark = article_page(Centre("Shop", "#1a237e"), Stored("x", "T", (), True, "", "B", 1))
    assert ".top a{color:#ffffff" in dark
