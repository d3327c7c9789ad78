"""Shopify actions taken from tickets (refund, cancel, address, reship, discount), each
recorded before it is sent, with its idempotency key and the order it holds while under way.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 13:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shop_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("order_name", sa.String(length=32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("requested_by", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("approver", sa.String(length=32), nullable=True),
        sa.Column("approval_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("in_flight", sa.String(length=128), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=True),
        sa.Column("view_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
        sa.UniqueConstraint("in_flight"),
    )
    op.create_index("ix_shop_actions_ticket_id", "shop_actions", ["ticket_id"])
    op.create_index("ix_shop_actions_state", "shop_actions", ["state"])
    op.create_index("ix_shop_actions_finished_at", "shop_actions", ["finished_at"])
    op.create_index(
        "ix_shop_actions_requester_created", "shop_actions", ["requested_by", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_shop_actions_requester_created", table_name="shop_actions")
    op.drop_index("ix_shop_actions_finished_at", table_name="shop_actions")
    op.drop_index("ix_shop_actions_state", table_name="shop_actions")
    op.drop_index("ix_shop_actions_ticket_id", table_name="shop_actions")
    op.drop_table("shop_actions")
