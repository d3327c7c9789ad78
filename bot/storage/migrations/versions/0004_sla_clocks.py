"""sla clocks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:56:53.607066
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("consumed_seconds", sa.Integer(), nullable=False),
        sa.Column("started_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("running_since", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warn_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warned", sa.Boolean(), nullable=False),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("stopped_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_breach_due", ["breached", "due_at"], unique=False)
        batch_op.create_index("ix_sla_clocks_ticket_kind", ["ticket_id", "kind"], unique=False)
        batch_op.create_index("ix_sla_clocks_warning_due", ["warned", "warn_at"], unique=False)

    op.create_table(
        "sla_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clock_id"],
            ["sla_clocks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clock_id", "kind", name="uq_sla_alerts_clock_kind"),
    )


def downgrade() -> None:

    op.drop_table("sla_alerts")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_warning_due")
        batch_op.drop_index("ix_sla_clocks_ticket_kind")
        batch_op.drop_index("ix_sla_clocks_breach_due")

    op.drop_table("sla_clocks")
