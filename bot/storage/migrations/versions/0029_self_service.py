"""Self-service in the chat widget: its sessions (deflections), order look-ups, and the order a
visitor proved before asking for a person.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 13:20:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "self_service_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("article_opened_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("conversation_started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("deflected_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(
        "ix_self_service_sessions_deflected_at", "self_service_sessions", ["deflected_at"]
    )
    op.create_table(
        "order_lookups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("proof_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("order_name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column(
            "shopify_customer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proof_hash"),
    )
    op.create_index("ix_order_lookups_created_at", "order_lookups", ["created_at"])
    with op.batch_alter_table("chat_conversations") as batch:
        batch.add_column(
            sa.Column("verified_order", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_conversations") as batch:
        batch.drop_column("verified_order")
    op.drop_table("order_lookups")
    op.drop_table("self_service_sessions")
