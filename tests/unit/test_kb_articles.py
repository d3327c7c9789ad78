"""Knowledge-base articles: front matter, names, the text searched, and queries made safe."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from bot.checks import _knowledge_base
from bot.config import KbPolicy, Policy
from bot.core.articles import (
    Article,
    ArticleRefused,
    article_file,
    parse_article,
    plain_text,
    slug_of,
)
from bot.core.kb import KnowledgeBase, SaveRefused
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


def test_saving_never_writes_outside_the_folder_and_check_names_skipped_files(tmp_path):
    folder = tmp_path / "kb"
    kb = KnowledgeBase(KbPolicy(path=folder))
    engine = create_engine("sqlite://")  # never reached: refused before any write
    article = Article("Escape", (), True, "en", "x")
    for slug in ("../outside", "a/b", "", "UPPER"):
        with pytest.raises(SaveRefused):
            kb.save(engine, slug, article)
    assert not (tmp_path / "outside.md").exists()
    assert not folder.exists() or not list(folder.iterdir())
    (folder).mkdir(exist_ok=True)
    (folder / "ok.md").write_bytes(GOOD)
    (folder / "Bad Name.md").write_bytes(GOOD)
    (folder / "broken.md").write_bytes(b"---\ntitle: T\npubic: no\n---\n")
    (folder / ".draft.md").write_bytes(b"ignored")
    outcome = _knowledge_base(Policy(kb=KbPolicy(path=folder)))
    assert outcome.status == "error"
    assert "2 file(s) skipped" in outcome.detail
    assert "broken.md: unknown front matter key(s) ['pubic']" in outcome.detail
    assert "Bad Name.md: name it with a-z, 0-9 and hyphens only, such as bad-name.md" in (
        outcome.detail
    )
    (folder / "broken.md").unlink()
    (folder / "Bad Name.md").unlink()
    assert _knowledge_base(Policy(kb=KbPolicy(path=folder))).detail == f"1 article(s) in {folder}"
    missing = _knowledge_base(Policy(kb=KbPolicy(path=tmp_path / "nowhere")))
    assert missing.status == "error" and "is not a folder" in missing.detail
