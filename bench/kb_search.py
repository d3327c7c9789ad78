"""Knowledge-base search over 10,000 articles, on SQLite (FTS5) and PostgreSQL (tsvector).

The articles are Markdown files in a folder, read into the index as `helpdesk serve` reads
them (`KnowledgeBase.sync`): that first read is timed, then a rescan after a restart (every
file listed and compared with the index, none changed) and the rescan a running process makes
(the listing alone). Then queries as the help centre, `/helpdesk kb` and the Reply modal's
suggestions send them, each timed (median and p95 of their repetitions): a rare word, a common
one, two words, a customer's whole message, symbols, and 5,000 characters.

Baseline, in the same run: the naive search, `LIKE '%word%'` over title and text for every
word, without ranking. Each query's planted article must come first in the index's answer and
be among the baseline's (else `BROKEN`); the symbols must find nothing and not fail.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from statistics import median, quantiles

from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import both_databases, record, size, verdict
from bot.config import KbPolicy
from bot.core.kb import KnowledgeBase, search_articles
from bot.storage.db import make_engine
from bot.storage.kb_search import search_terms
from bot.storage.migrate import upgrade

ARTICLES = size("BENCH_KB_ARTICLES", 10_000, 500)
REPEATS = size("BENCH_KB_REPEATS", 20, 5)
WORDS_PER_ARTICLE = 150
PLANTED = 42  # the article each query is meant to find first


def vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "gu", "fe"]
    words = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(6_000)}
    return sorted(words)


def write_articles(folder: Path) -> dict[str, str]:
    """The folder's articles; returns the queries, by name, whose answer is article PLANTED."""
    rng = random.Random(7)
    words = vocabulary(rng)
    # Zipf-like: a few words in most articles, most words in few.
    weights = [1 / (rank + 1) for rank in range(len(words))]
    for n in range(ARTICLES):
        body = rng.choices(words, weights, k=WORDS_PER_ARTICLE)
        if n == PLANTED:
            body[10:10] = ["zebracrossing", "parcel", "refund"]
        lines = [" ".join(body[i : i + 15]) for i in range(0, len(body), 15)]
        (folder / f"article-{n}.md").write_text(
            f"---\ntitle: Article {n} {' '.join(body[:3])}\ntags: [bench]\nlanguage: en\n---\n"
            + "\n\n".join(lines)
            + "\n"
        )
    common = words[0]
    return {
        "rare word": "zebracrossing",
        "common word": common,
        "two words": "zebracrossing parcel",
        # No number in it: "Article 1234" is a title, and a quoted order number would match it.
        "customer's message": "Hi, my parcel never came, zebracrossing at the door and nobody "
        "there; can I get a refund? Thanks, Jane",
        "symbols": "\"'); DROP TABLE kb_articles; -- &|!:*()<>",
        "5,000 characters": ("zebracrossing " + "x" * 40 + " ") * 90 + "y" * 500,
    }


def naive(session: Session, query: str, limit: int = 10) -> list[str]:
    """What a search without an index would do: the same words in title or text, all of them,
    else any of them (as the index is asked), unranked."""
    terms = search_terms(query)
    found: list[str] = []
    for joiner in (" AND ", " OR ") if len(terms) > 1 else (" AND ",) if terms else ():
        where = joiner.join(f"(title LIKE :t{n} OR plain LIKE :t{n})" for n in range(len(terms)))
        params = {f"t{n}": f"%{term}%" for n, term in enumerate(terms)}
        rows = session.execute(
            text(f"SELECT slug FROM kb_articles WHERE {where} ORDER BY title LIMIT {limit}"),
            params,
        )
        found = [slug for (slug,) in rows]
        if found:
            break
    return found


def timed(function, repeats: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    p95 = quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return median(times), p95, result


def main() -> int:
    problems: list[str] = []
    console = Console()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "kb"
        folder.mkdir()
        queries = write_articles(folder)
        for name, url, cleanup in both_databases(scratch):
            engine = make_engine(url)
            try:
                upgrade(engine)
                run(name, engine, folder, queries, problems, console)
            finally:
                engine.dispose()
                cleanup()
    return verdict(problems)


def run(name, engine, folder, queries, problems, console) -> None:
    policy = KbPolicy(path=folder)
    started = time.perf_counter()
    kb = KnowledgeBase(policy)
    kb.sync(engine)
    first = time.perf_counter() - started
    restarted = timed(lambda: KnowledgeBase(policy).sync(engine), 3)[0]
    listing = timed(lambda: kb.sync(engine), 3)[0]
    console.print(
        f"{name}: {ARTICLES:,} articles read into the index in {first:.1f} s; a rescan after a "
        f"restart {restarted * 1000:.0f} ms, a running process's {listing * 1000:.0f} ms"
    )
    table = Table(title=f"Knowledge-base search, {ARTICLES:,} articles, {name}")
    for column in ("query", "index: median", "p95", "found", "LIKE scan: median", "found"):
        table.add_column(column)
    headline = None
    for label, query in queries.items():
        with Session(engine) as session:
            indexed, p95, hits = timed(
                lambda q=query: search_articles(session, q, public_only=True), REPEATS
            )
            scanned, _, found = timed(lambda q=query: naive(session, q), max(3, REPEATS // 4))
        slugs = [hit.slug for hit in hits]
        planted = f"article-{PLANTED}"
        if label == "symbols":
            if slugs or found:
                problems.append(f"{name}: symbols found {slugs or found}")
        elif label == "common word":
            if not slugs:
                problems.append(f"{name}: the common word found nothing")
        elif not slugs or slugs[0] != planted:
            problems.append(f"{name}: {label!r} did not find {planted} first: {slugs[:3]}")
        table.add_row(
            label,
            f"{indexed * 1000:.2f} ms",
            f"{p95 * 1000:.2f} ms",
            str(len(slugs)),
            f"{scanned * 1000:.1f} ms",
            str(len(found)),
        )
        if label == "customer's message":
            headline = (indexed, scanned)
    console.print(table)
    if headline:
        indexed, scanned = headline
        record(
            f"KB search, {ARTICLES:,} articles (a customer's message)",
            name,
            f"{indexed * 1000:.1f} ms",
            f"{scanned * 1000:.0f} ms LIKE scan (all words, unranked)",
            f"{scanned / indexed:.0f}x faster" if indexed else "-",
        )


if __name__ == "__main__":
    sys.exit(main())
