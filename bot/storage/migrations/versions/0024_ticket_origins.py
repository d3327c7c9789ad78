"""Tickets made from Slack messages: the message each came from, one ticket per message.

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-03 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_origins",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), primary_key=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("author", sa.String(length=32), nullable=False),
        sa.Column("in_thread", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "ts", name="uq_ticket_origins_channel_ts"),
    )


def downgrade() -> None:
    op.drop_table("ticket_origins")
