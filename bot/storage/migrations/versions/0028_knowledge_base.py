"""The knowledge base: articles' index and its full-text search.

On SQLite an FTS5 table over the articles' title, tags and text, kept in step by triggers (an
external-content table: the text is stored once, in `kb_articles`). On PostgreSQL a generated
`tsvector` column, built with the text search configuration of the article's language, and its
GIN index. The language map is written out here, frozen with the schema: a language added to
bot/storage/kb_search.py's map later needs a migration that rebuilds the column.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-03 13:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None

# ISO 639-1 code to the configurations every PostgreSQL from 12 on has; others are 'simple'.
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
SQLITE_COLUMNS = "title, tags, plain"


def _config_of_language() -> str:
    # Literal casts only: a generated column's expression must be immutable, and `language::
    # regconfig` is not (it reads the catalogue), where a constant is resolved once, here.
    cases = " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in CONFIGS.items())
    return f"CASE language {cases} ELSE 'simple'::regconfig END"


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("tags", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("plain", sa.Text(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("file_mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_index("ix_kb_articles_language", "kb_articles", ["language"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_index()
    else:
        config = _config_of_language()
        op.execute(
            "ALTER TABLE kb_articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            f"setweight(to_tsvector({config}, title), 'A') || "
            f"setweight(to_tsvector({config}, tags), 'B') || "
            f"setweight(to_tsvector({config}, plain), 'C')) STORED"
        )
        # Without GIN's pending list: articles change seldom, and entries waiting there (after
        # a first read of thousands of articles, until autovacuum) are scanned by every query
        # and make the planner prefer a sequential scan.
        op.execute(
            "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search_vector) "
            "WITH (fastupdate = off)"
        )


def _sqlite_index() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE kb_articles_fts USING fts5({SQLITE_COLUMNS}, "
        "content='kb_articles', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    new = f"(rowid, {SQLITE_COLUMNS}) VALUES (new.id, new.title, new.tags, new.plain)"
    old = (
        f"(kb_articles_fts, rowid, {SQLITE_COLUMNS}) "
        "VALUES ('delete', old.id, old.title, old.tags, old.plain)"
    )
    op.execute(
        "CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN "
        f"INSERT INTO kb_articles_fts {new}; END"
    )
    op.execute(
        "CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN "
        f"INSERT INTO kb_articles_fts {old}; END"
    )
    op.execute(
        "CREATE TRIGGER kb_articles_fts_update AFTER UPDATE ON kb_articles BEGIN "
        f"INSERT INTO kb_articles_fts {old}; INSERT INTO kb_articles_fts {new}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS kb_articles_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS kb_articles_fts")
    op.drop_table("kb_articles")
