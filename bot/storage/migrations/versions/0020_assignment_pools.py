"""Pools of agents keep their round-robin turn in the database, shared by every process; open
tickets are counted per assignee.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assignment_pools",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_agent", sa.String(length=32), nullable=True),
        sa.Column("told_unavailable", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_tickets_assignee_status", "tickets", ["assignee", "status"])


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_status", table_name="tickets")
    op.drop_table("assignment_pools")
