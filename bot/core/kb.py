"""The knowledge base: the folder of Markdown articles (`kb.path`) and its index in the database.

The files are the articles; the `kb_articles` table is what search, Slack and the help centre
read. `refresh` keeps the table in step: called by whatever is about to read it, it lists the
folder at most once per `kb.rescan_every` (a directory listing and a `stat` per file, no
reading), and when the listing differs from the last one it compares each file's time and size
with the table's and re-reads only the files that changed, removing the rows of files gone.
Several processes may refresh at once: rows are upserted by slug, so they agree.

`save` is the Slack side's way in: the file is written atomically (a hidden temporary file in
the folder, synced, then renamed over the article) and its row upserted with the new file's
time and size, so the next scan finds nothing to re-read.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.config import KbPolicy
from bot.core.articles import (
    SLUG,
    SLUG_LIMIT,
    Article,
    ArticleRefused,
    article_file,
    parse_article,
    slug_of,
    told_language,
)
from bot.core.attachments import write_atomically
from bot.storage.db import transaction

# Re-exported for views, which read search hits through the core: the snippet's markers.
from bot.storage.kb_search import MARK_END as MARK_END
from bot.storage.kb_search import MARK_START as MARK_START
from bot.storage.kb_search import Hit, search
from bot.storage.models import KbArticle, utcnow

log = logging.getLogger(__name__)

SUFFIX = ".md"
UPSERT_BATCH = 500


@dataclass(frozen=True)
class Stored:
    """An article as the index holds it, for a page or a modal."""

    slug: str
    title: str
    tags: tuple[str, ...]
    public: bool
    language: str
    body: str
    file_mtime_ns: int


class SaveRefused(ValueError):
    """Why an article from Slack was not saved; `field` names the modal input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class KnowledgeBase:
    def __init__(self, policy: KbPolicy):
        self.path = Path(policy.path)
        self.name = policy.name
        self._every = policy.rescan_every.total_seconds()
        self._lock = threading.Lock()
        self._scanned_at = float("-inf")
        self._listing: dict[str, tuple[str, int, int]] | None = None
        self.problems: dict[str, str] = {}  # file name: why it was skipped, as last scanned

    def refresh(self, engine: Engine) -> None:
        """Brings the index up to date with the folder, unless it was looked at just now or
        another thread is doing it (that thread's answer is as fresh)."""
        if time.monotonic() - self._scanned_at < self._every:
            return
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._scanned_at = time.monotonic()
            self._sync(engine)
        except Exception:
            log.exception("knowledge base: could not read %s", self.path)
        finally:
            self._lock.release()

    def sync(self, engine: Engine) -> None:
        """Refreshes now, whatever the time since the last look, waiting for a refresh under
        way to end first (the benchmark times it so)."""
        with self._lock:
            self._scanned_at = time.monotonic()
            self._sync(engine)

    def _sync(self, engine: Engine) -> None:
        listing, problems = folder_listing(self.path)
        if listing == self._listing:
            return
        with transaction(engine) as session:
            known = {
                slug: (mtime, size)
                for slug, mtime, size in session.execute(
                    select(KbArticle.slug, KbArticle.file_mtime_ns, KbArticle.file_size)
                )
            }
            gone = set(known) - set(listing)
            changed: list[dict] = []
            for slug, (name, mtime, size) in listing.items():
                if known.get(slug) == (mtime, size):
                    continue
                try:
                    article = parse_article((self.path / name).read_bytes())
                except ArticleRefused as refused:
                    problems[name] = str(refused)
                    gone.add(slug)
                    continue
                except OSError as exc:  # deleted or unreadable since it was listed
                    problems[name] = f"could not be read: {exc.strerror}"
                    gone.add(slug)
                    continue
                changed.append(_row(slug, article, mtime, size))
            for start in range(0, len(changed), UPSERT_BATCH):
                _upsert(session, changed[start : start + UPSERT_BATCH])
            gone &= set(known)
            if gone:
                session.execute(delete(KbArticle).where(KbArticle.slug.in_(gone)))
        for name, reason in problems.items():
            if self.problems.get(name) != reason:
                log.warning("knowledge base: skipped %s: %s", self.path / name, reason)
        self.problems = problems
        self._listing = listing

    def save(
        self,
        engine: Engine,
        slug: str | None,
        article: Article,
        *,
        seen_mtime_ns: int | None = None,
    ) -> str:
        """Writes the article's file and its row; returns its slug. `slug` None: a new one,
        named after its title. `seen_mtime_ns`: the file as the editor saw it, refused when
        it has changed since (someone edited the file meanwhile)."""
        if not article.title.strip():
            raise SaveRefused("title", "Give the article a title.")
        if slug is not None and (not slug or slug_of(slug) != slug):
            # The form's metadata names the file: never a path out of the folder.
            raise SaveRefused("title", "This article's name is not one the helpdesk writes.")
        self.path.mkdir(parents=True, exist_ok=True)
        if slug is None:
            slug = self._free_slug(article.title)
        target = self.path / f"{slug}{SUFFIX}"
        if seen_mtime_ns is not None:
            now = _mtime_ns(target)
            if now != seen_mtime_ns:
                raise SaveRefused(
                    "body",
                    "Someone changed this article since you opened it; close this form and "
                    "open the article again.",
                )
        if not article.language:
            article = replace(article, language=told_language(article.title, article.body))
        content = article_file(article).encode()
        try:
            parse_article(content)
        except ArticleRefused as refused:
            raise SaveRefused("body", f"This article can't be saved: {refused}.") from None
        write_atomically(target, content, f".{target.stem}.")
        stat = target.stat()
        with transaction(engine) as session:
            _upsert(session, [_row(slug, article, stat.st_mtime_ns, stat.st_size)])
        log.info("knowledge base: saved %s", target)
        return slug

    def _free_slug(self, title: str) -> str:
        base = slug_of(title) or "article"
        slug, n = base, 1
        while (self.path / f"{slug}{SUFFIX}").exists():
            n += 1
            slug = f"{base[: SLUG_LIMIT - len(str(n)) - 1]}-{n}"
        return slug


def folder_listing(path: Path) -> tuple[dict[str, tuple[str, int, int]], dict[str, str]]:
    """The articles' files by slug (file name, mtime in ns, size), and the files refused for
    their names. A missing folder is an empty knowledge base."""
    listing: dict[str, tuple[str, int, int]] = {}
    problems: dict[str, str] = {}
    try:
        entries = list(os.scandir(path))
    except FileNotFoundError:
        return listing, problems
    # Run on every refresh over every file: a compiled pattern, and a `stat` per article only.
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
            continue
        if not entry.is_file():
            continue
        slug = entry.name.removesuffix(SUFFIX)
        if len(slug) > SLUG_LIMIT or not SLUG.fullmatch(slug):
            example = f"{slug_of(slug) or 'returns'}{SUFFIX}"
            problems[entry.name] = f"name it with a-z, 0-9 and hyphens only, such as {example}"
            continue
        stat = entry.stat()
        listing[slug] = (entry.name, stat.st_mtime_ns, stat.st_size)
    return listing, problems


def folder_problems(path: Path) -> dict[str, str]:
    """Every file in the folder that is not an article, and why: for `helpdesk check`."""
    listing, problems = folder_listing(path)
    for name, _, _ in listing.values():
        try:
            parse_article((path / name).read_bytes())
        except ArticleRefused as refused:
            problems[name] = str(refused)
        except OSError as exc:
            problems[name] = f"could not be read: {exc.strerror}"
    return dict(sorted(problems.items()))


def _upsert(session: Session, rows: list[dict]) -> None:
    """Inserts or replaces articles' rows by slug, one statement for them all."""
    if not rows:
        return
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    insert = dialect.insert(KbArticle.__table__)
    replaced = {key: insert.excluded[key] for key in rows[0] if key != "slug"}
    session.execute(insert.on_conflict_do_update(index_elements=["slug"], set_=replaced), rows)


def _row(slug: str, article: Article, mtime_ns: int, size: int) -> dict:
    return {
        "slug": slug,
        "title": article.title,
        "tags": ", ".join(article.tags),
        "body": article.body,
        "plain": article.plain,
        "language": article.language,
        "public": article.public,
        "file_mtime_ns": mtime_ns,
        "file_size": size,
        "updated_at": utcnow(),
    }


def _mtime_ns(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def stored(session: Session, slug: str, *, public_only: bool) -> Stored | None:
    row = session.execute(select(KbArticle).where(KbArticle.slug == slug)).scalar_one_or_none()
    if row is None or (public_only and not row.public):
        return None
    return _stored(row)


def listed(session: Session, *, public_only: bool, limit: int = 1000) -> list[Stored]:
    query = select(KbArticle).order_by(KbArticle.title).limit(limit)
    if public_only:
        query = query.where(KbArticle.public)
    return [_stored(row) for row in session.execute(query).scalars()]


def _stored(row: KbArticle) -> Stored:
    tags = tuple(tag for tag in row.tags.split(", ") if tag)
    return Stored(row.slug, row.title, tags, row.public, row.language, row.body, row.file_mtime_ns)


def search_articles(
    session: Session, query: str, *, public_only: bool, limit: int = 10
) -> list[Hit]:
    """The articles best matching `query`, best first (see bot/storage/kb_search.py)."""
    return search(session, query, public_only=public_only, limit=limit)


def help_centre_url(public_url: str) -> str:
    """The help centre's address for customers, under HELPDESK_PUBLIC_URL."""
    return f"{public_url.rstrip('/')}/help/"


def article_url(public_url: str, slug: str) -> str:
    return f"{help_centre_url(public_url)}{slug}"
