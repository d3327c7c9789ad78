"""Migration 0028: the knowledge base's articles and their full-text index, on both backends."""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlmodel import Session

from bot.storage.db import make_engine
from bot.storage.kb_search import search
from bot.storage.migrate import downgrade, upgrade

ARTICLE = (
    "INSERT INTO kb_articles (slug, title, tags, body, plain, language, public, file_mtime_ns, "
    "file_size, updated_at) VALUES (:slug, :title, '', :plain, :plain, :language, :public, 1, 1, "
    "CURRENT_TIMESTAMP)"
)


def add(engine, slug: str, title: str, plain: str, language: str = "en", public: bool = True):
    with engine.begin() as connection:
        connection.execute(
            text(ARTICLE),
            {"slug": slug, "title": title, "plain": plain, "language": language, "public": public},
        )


def slugs(engine, query: str, public_only: bool = False) -> list[str]:
    with Session(engine) as session:
        return [hit.slug for hit in search(session, query, public_only=public_only)]


def test_the_index_follows_inserts_updates_and_deletes_then_goes_down(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0028")
        add(engine, "returns", "Returns", "Send parcels back within thirty days for a refund.")
        add(engine, "hidden", "Refund approvals", "Refunds over 100 need a lead.", public=False)
        add(engine, "lieferung", "Lieferung", "Die Lieferung dauert drei Tage.", language="de")
        assert sorted(slugs(engine, "refunded")) == ["hidden", "returns"]
        assert slugs(engine, "refund", public_only=True) == ["returns"]
        assert slugs(engine, "Lieferung") == ["lieferung"]
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE kb_articles SET plain = 'Exchanges only.' WHERE slug = 'returns'")
            )
            connection.execute(text("DELETE FROM kb_articles WHERE slug = 'hidden'"))
        assert slugs(engine, "refund") == []
        assert slugs(engine, "exchanges") == ["returns"]
        downgrade(engine, "0026")
        tables = set(inspect(engine).get_table_names())
        assert not {name for name in tables if name.startswith("kb_articles")}
        upgrade(engine)
    finally:
        engine.dispose()


def test_german_words_meet_their_stems_on_postgresql(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0028")
        add(engine, "lieferung", "Lieferung", "Die Lieferungen dauern drei Tage.", language="de")
        add(engine, "other", "Anything", "Unrelated words.", language="xx")  # 'simple'
        found = slugs(engine, "Lieferung")
        if engine.dialect.name == "postgresql":
            assert found == ["lieferung"]  # german: Lieferungen and Lieferung share a stem
        assert slugs(engine, "unrelated") == ["other"]
    finally:
        engine.dispose()


def test_hostile_and_huge_queries_are_words_to_both_engines(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0028")
        add(engine, "returns", "Returns", "Refund a parcel within thirty days.")
        for query in (
            "refund:* & !parcel <-> (x) | 'y'",
            'NEAR("refund" parcel) OR title:parcel ^refund -x +y',
            "\"'); DROP TABLE kb_articles; --",
            "&|!:*()'\"<>",
            "refund " + "ü" * 5000,
            "parcel_refund __init__ 😀 \x00",
        ):
            found = slugs(engine, query)  # no syntax error on either engine
            assert found in ([], ["returns"]), query
        assert slugs(engine, "refund:* & !parcel") == ["returns"]
    finally:
        engine.dispose()
