"""Knowledge-base articles: front matter, names, the text searched, and queries made safe."""

from __future__ import annotations

import pytest

from bot.core.articles import (
    Article,
    ArticleRefused,
    article_file,
    parse_article,
    plain_text,
    slug_of,
)
from bot.storage.kb_search import MARK_START, MAX_TERMS, search_terms

GOOD = b"""---
title: Returns and refunds
tags: [returns, refund]
---
You can return **anything** within [30 days](https://shop.example/returns).
"""


def test_a_good_article_is_read_with_its_front_matter():
    article = parse_article(GOOD)
    assert article.title == "Returns and refunds"
    assert article.tags == ("returns", "refund")
    assert article.public is True
    assert article.language == "en"  # told from the text
    assert article.body.startswith("You can return **anything**")
    assert article.plain == "You can return anything within 30 days ."


def test_private_and_language_are_read_and_written_back():
    article = parse_article(b"---\ntitle: Intern\npublic: false\nlanguage: DE\ntags: a, b\n---\nx")
    assert (article.public, article.language, article.tags) == (False, "de", ("a", "b"))
    assert parse_article(article_file(article).encode()) == article


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"just text", "no front matter"),
        (b"---\ntitle: [unclosed\n---\nx", "not valid YAML (front matter line 2)"),
        (b"---\n- a list\n---\nx", "must be keys and values"),
        (b"---\ntags: [a]\n---\nx", "title is missing"),
        (b"---\ntitle: '   '\n---\nx", "title is missing"),
        (b"---\ntitle: T\npubic: false\n---\nx", "unknown front matter key(s) ['pubic']"),
        (b"---\ntitle: T\npublic: maybe\n---\nx", "public: expected true or false"),
        (b"---\ntitle: T\nlanguage: english!\n---\nx", "language: expected an ISO 639-1"),
        (b"---\ntitle: T\ntags: {a: 1}\n---\nx", "tags: expected a list"),
        (b"---\ntitle: T\n---\n\xff\xfe", "not UTF-8"),
        (b"---\ntitle: T\n---\n" + b"x" * 300_000, "over 256 KB"),
        (b"---\ntitle: " + b"t" * 201 + b"\n---\nx", "title is over 200 characters"),
    ],
)
def test_broken_front_matter_is_refused_with_one_line_saying_why(raw, reason):
    with pytest.raises(ArticleRefused) as refused:
        parse_article(raw)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


def test_names_become_url_safe_slugs():
    assert slug_of("Returns & Refunds (2026)") == "returns-refunds-2026"
    assert slug_of("Crème brûlée") == "creme-brulee"
    assert slug_of("☃☃") == ""
    assert len(slug_of("a" * 500)) == 70


def test_the_searched_text_has_no_markup_and_no_snippet_markers():
    markdown = "# Head\n\n<script>x</script> [link](javascript:y) `code`\n\n```\nblock\n```\n"
    text = plain_text(markdown + MARK_START)
    # Raw HTML and a link refused for its scheme stay words, as the help centre shows them.
    assert text == "Head <script>x</script> [link](javascript:y) code block"


def test_a_query_of_symbols_or_of_5000_characters_becomes_a_few_words():
    assert search_terms("\"'); DROP TABLE kb; -- * OR NEAR( ^ & | ! :*") == [
        "drop",
        "table",
        "kb",
        "or",
        "near",
    ]
    assert search_terms("&|!:*()'\"<>-+~^$") == []
    assert search_terms("___ __init__") == ["init"]
    long = search_terms("word " * 1000 + "".join(f"w{n} " for n in range(1000)))
    assert long[0] == "word" and len(long) <= MAX_TERMS
    assert all(len(term) <= 40 for term in search_terms("x" * 5000))


def test_an_article_made_in_slack_round_trips_through_its_file():
    article = Article("Größen: Tabelle", ("size", "fit"), True, "de", "| a | b |\n|---|---|")
    assert parse_article(article_file(article).encode()) == article
