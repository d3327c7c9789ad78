"""A knowledge-base article as a Markdown file: YAML front matter, then the Markdown.

```
---
title: Returns and refunds
tags: [returns, refund]
public: false        # optional: true unless it says so; a private article is never served
language: en         # optional: ISO 639-1; otherwise told from the text when it can be
---
Send it back within 30 days...
```

A file that can't be read as one (no front matter, broken YAML, no title, an unknown key,
too big) is refused with one line saying why: the knowledge base skips it and logs that line,
and `helpdesk check` names it. Unknown keys are refused rather than ignored, because a typo in
`public: false` would otherwise publish what was meant to be private.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml
from markdown_it import MarkdownIt

from bot.core.language import language_of
from bot.storage.kb_search import MARK_END, MARK_START

MAX_FILE_BYTES = 256 * 1024
TITLE_LIMIT = 200
SLUG_LIMIT = 70  # "edit:<slug>" fits a Slack option value (75)
MAX_TAGS = 20
TAG_LIMIT = 50
KEYS = ("title", "tags", "public", "language")
_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M
)
# libyaml's safe loader when PyYAML was built with it: ten times faster on 10,000 articles.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class ArticleRefused(ValueError):
    """Why a file is not an article, in one line for whoever wrote it."""


@dataclass(frozen=True)
class Article:
    title: str
    tags: tuple[str, ...]
    public: bool
    language: str  # ISO 639-1, or "" when neither written nor told from the text
    body: str  # the Markdown after the front matter

    @property
    def plain(self) -> str:
        return plain_text(self.body)


def parse_article(raw: bytes) -> Article:
    if len(raw) > MAX_FILE_BYTES:
        raise ArticleRefused(f"over {MAX_FILE_BYTES // 1024} KB")
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleRefused(f"not UTF-8 (byte {exc.start})") from None
    found = _FRONT_MATTER.match(source)
    if found is None:
        raise ArticleRefused("no front matter: start with a line '---', then 'title: …', '---'")
    try:
        meta = yaml.load(found.group(1), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (front matter line {where.line + 1})" if where else ""
        raise ArticleRefused(f"the front matter is not valid YAML{line}") from None
    if not isinstance(meta, dict):
        raise ArticleRefused("the front matter must be keys and values, such as 'title: …'")
    unknown = sorted(str(key) for key in meta if key not in KEYS)
    if unknown:
        raise ArticleRefused(f"unknown front matter key(s) {unknown}; known: {', '.join(KEYS)}")
    body = source[found.end() :].strip("\r\n")
    title = _title(meta.get("title"))
    public = meta.get("public", True)
    if not isinstance(public, bool):
        raise ArticleRefused(f"public: expected true or false, not {public!r}")
    language = meta.get("language")
    if language is None:
        language = told_language(title, body)
    elif not (isinstance(language, str) and _LANGUAGE.fullmatch(language.lower())):
        raise ArticleRefused(f"language: expected an ISO 639-1 code such as 'en', not {language!r}")
    return Article(title, _tags(meta.get("tags")), public, language.lower(), body)


def told_language(title: str, body: str) -> str:
    """The article's language as told from its words, or "" when it can't be."""
    return language_of(f"{title}\n{plain_text(body)}") or ""


def _title(value: object) -> str:
    if not isinstance(value, str | int | float) or not str(value).strip():
        raise ArticleRefused("title is missing: the front matter needs 'title: …'")
    title = " ".join(str(value).split())
    if len(title) > TITLE_LIMIT:
        raise ArticleRefused(f"title is over {TITLE_LIMIT} characters")
    return title


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(tag, str | int) for tag in value):
        raise ArticleRefused("tags: expected a list such as [returns, refund]")
    # Stored comma-separated, so a comma inside a tag is a space.
    cleaned = (" ".join(str(tag).replace(",", " ").split()) for tag in value)
    tags = tuple(dict.fromkeys(tag for tag in cleaned if tag))
    if len(tags) > MAX_TAGS or any(len(tag) > TAG_LIMIT for tag in tags):
        raise ArticleRefused(f"tags: at most {MAX_TAGS}, each up to {TAG_LIMIT} characters")
    return tags


def article_file(article: Article) -> str:
    """The file's text: front matter written by the helpdesk, then the Markdown."""
    meta: dict = {"title": article.title}
    if article.tags:
        meta["tags"] = list(article.tags)
    if not article.public:
        meta["public"] = False
    if article.language:
        meta["language"] = article.language
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=10_000)
    return f"---\n{front}---\n{article.body.strip()}\n"


# What slug_of returns: a file named otherwise is not an article.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slug_of(name: str) -> str:
    """A URL-safe name: lower-case ASCII letters, digits and hyphens ('' when none are left)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:SLUG_LIMIT].rstrip("-")


def plain_text(markdown: str) -> str:
    """The words of the Markdown, as search indexes and quotes them: no markup, no URLs."""
    words: list[str] = []
    for token in _PARSER.parse(markdown):
        if token.type == "inline":
            words += [child.content for child in token.children or () if child.content]
        elif token.type in ("code_block", "fence"):
            words.append(token.content)
    text = " ".join(words).replace(MARK_START, "").replace(MARK_END, "")
    return " ".join(text.split())


_PARSER = MarkdownIt("commonmark", {"html": False}).enable("table")
