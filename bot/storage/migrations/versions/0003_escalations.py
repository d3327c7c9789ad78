"""escalations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:49:40.801457
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("tier_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("escalated_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("request_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("post_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("taken_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("taken_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reannounced_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("resolved_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key", name="uq_escalations_request_key"),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalations_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(
            "ix_escalations_waiting", ["resolved_at", "taken_at", "reannounced_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_waiting")
        batch_op.drop_index(batch_op.f("ix_escalations_ticket_id"))

    op.drop_table("escalations")
