"""Live chat: conversations, and an index for chat replies waiting to be seen.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 16:17:56.470178
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("visitor_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("visitor_email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("page_url", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("last_seen_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("ticket_id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_delivery", ["delivery"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_delivery")

    op.drop_table("chat_conversations")
