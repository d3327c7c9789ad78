"""agent workflow: replies, notes, saved replies

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 14:34:44.223789
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=75), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("title"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.add_column(
            sa.Column("edited_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("deleted_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_unique_constraint("uq_messages_ticket_slack_ts", ["ticket_id", "slack_ts"])
        batch_op.create_unique_constraint("uq_messages_request_key", ["request_key"])


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_messages_request_key", type_="unique")
        batch_op.drop_constraint("uq_messages_ticket_slack_ts", type_="unique")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("request_key")
        batch_op.drop_column("delivery_error")
        batch_op.drop_column("delivery")

    op.drop_table("saved_replies")
