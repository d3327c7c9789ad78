"""Full-text search over the knowledge base's articles, ranked, with a snippet of each.

SQLite: the FTS5 table `kb_articles_fts` (porter stemming, diacritics folded), ranked by
bm25 with the title weighing most. PostgreSQL: the generated `search_vector` column, queried
in the text search configuration of each language the articles are written in (the column
was built in that same configuration, so stems meet), ranked by `ts_rank` with the title's
weight highest; `ts_headline` quotes only the rows returned.

Whatever anyone types is reduced to words before it reaches either engine: a query is cut at
`MAX_QUERY_CHARS`, split into at most `MAX_TERMS` words of letters and digits, and each word is
quoted (FTS5) or joined with operators the code chooses (`to_tsquery`), so symbols, quotes and
operators in a query are never syntax. All the words must match; when no article has them all,
any of them may (a customer's whole message as the query still finds something).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

MAX_QUERY_CHARS = 500
MAX_TERMS = 12
MAX_TERM_CHARS = 40
# Around the words matched in a snippet; removed from articles' text when it is indexed, so
# they mean nothing else. A view turns them into <mark> or *bold*.
MARK_START, MARK_END = "\ue000", "\ue001"
_WORD = re.compile(r"\w+")

# ISO 639-1 code to PostgreSQL's text search configuration: the same map as migration 0028's
# generated column (which froze it); any other language is 'simple'.
CONFIGS = {
    "ar": "arabic",
    "da": "danish",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
SIMPLE = "simple"


@dataclass(frozen=True)
class Hit:
    slug: str
    title: str
    snippet: str  # plain text, matched words between MARK_START and MARK_END
    public: bool


def search_terms(query: str) -> list[str]:
    """The words searched for: letters and digits only, lower case, each once, in order."""
    terms: list[str] = []
    for word in _WORD.findall(query[:MAX_QUERY_CHARS].lower()):
        word = word.strip("_")[:MAX_TERM_CHARS]
        if word and any(c.isalnum() for c in word) and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def search(session: Session, query: str, *, public_only: bool, limit: int = 10) -> list[Hit]:
    terms = search_terms(query)
    if not terms or limit < 1:
        return []
    run = _sqlite if session.get_bind().dialect.name == "sqlite" else _postgres
    hits = run(session, terms, every=True, public_only=public_only, limit=limit)
    if not hits and len(terms) > 1:
        hits = run(session, terms, every=False, public_only=public_only, limit=limit)
    return hits


def _sqlite(
    session: Session, terms: list[str], *, every: bool, public_only: bool, limit: int
) -> list[Hit]:
    match = (" AND " if every else " OR ").join(f'"{term}"' for term in terms)
    rows = session.execute(
        text(
            "SELECT a.slug, a.title, a.public, "
            "snippet(kb_articles_fts, 2, :start, :end, '…', 24) "
            "FROM kb_articles_fts JOIN kb_articles AS a ON a.id = kb_articles_fts.rowid "
            f"WHERE kb_articles_fts MATCH :match {'AND a.public' if public_only else ''} "
            # The title weighs most, then the tags, then the text.
            "ORDER BY bm25(kb_articles_fts, 10.0, 4.0, 1.0) LIMIT :limit"
        ),
        {"match": match, "start": MARK_START, "end": MARK_END, "limit": limit},
    )
    return [Hit(slug, title, snippet or "", bool(public)) for slug, title, public, snippet in rows]


# The languages in use, one index probe each (a loose index scan: PostgreSQL would otherwise
# read every row for a DISTINCT).
_LANGUAGES = """
WITH RECURSIVE used(language) AS (
    (SELECT language FROM kb_articles ORDER BY language LIMIT 1)
    UNION ALL
    SELECT (SELECT k.language FROM kb_articles AS k WHERE k.language > used.language
            ORDER BY k.language LIMIT 1)
    FROM used WHERE used.language IS NOT NULL
)
SELECT language FROM used WHERE language IS NOT NULL
"""


def _postgres(
    session: Session, terms: list[str], *, every: bool, public_only: bool, limit: int
) -> list[Hit]:
    languages = session.execute(text(_LANGUAGES)).scalars()
    codes_of: dict[str, list[str]] = {}
    for code in languages:
        codes_of.setdefault(CONFIGS.get(code, SIMPLE), []).append(code)
    if not codes_of:
        return []
    params: dict = {"q": (" & " if every else " | ").join(terms), "limit": limit}
    cases = []
    for n, (config, codes) in enumerate(sorted(codes_of.items())):
        params[f"codes{n}"] = codes
        # `config` comes from CONFIGS, never from input.
        cases.append(f"WHEN a.language = ANY(:codes{n}) THEN to_tsquery('{config}', :q)")
    query = f"CASE {' '.join(cases)} END"
    configs = " ".join(
        f"WHEN a.language = ANY(:codes{n}) THEN '{config}'::regconfig"
        for n, (config, _) in enumerate(sorted(codes_of.items()))
    )
    # Each language's own query, so the GIN index serves every branch (a bitmap OR).
    where = " OR ".join(
        f"(a.language = ANY(:codes{n}) AND a.search_vector @@ to_tsquery('{config}', :q))"
        for n, (config, _) in enumerate(sorted(codes_of.items()))
    )
    rows = session.execute(
        text(
            "SELECT slug, title, public, ts_headline(config, plain, query, :options) FROM ("
            f"SELECT a.slug, a.title, a.public, a.plain, CASE {configs} END AS config, "
            f"{query} AS query, ts_rank(a.search_vector, {query}) AS rank "
            f"FROM kb_articles AS a WHERE ({where}) {'AND a.public' if public_only else ''} "
            "ORDER BY rank DESC, a.title LIMIT :limit) AS best ORDER BY rank DESC, title"
        ),
        {
            **params,
            "options": f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords=30, '
            "MinWords=12, MaxFragments=1",
        },
    )
    return [Hit(slug, title, snippet or "", bool(public)) for slug, title, public, snippet in rows]
