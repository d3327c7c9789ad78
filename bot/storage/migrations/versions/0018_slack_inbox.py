"""Slack requests are acknowledged first and replayed from an inbox; the keys of those handled
are recorded with their changes.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("lane", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_slack_inbox_claimed_until", "slack_inbox", ["claimed_until"])
    op.create_table(
        "slack_requests_handled",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("handled_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_slack_requests_handled_handled_at", "slack_requests_handled", ["handled_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_slack_requests_handled_handled_at", table_name="slack_requests_handled")
    op.drop_table("slack_requests_handled")
    op.drop_index("ix_slack_inbox_claimed_until", table_name="slack_inbox")
    op.drop_table("slack_inbox")
