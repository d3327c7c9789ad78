"""Who is replying, and who the customer is: the Reply modals open on tickets, the Shopify
figures the root's history line shows, and an index for a customer's tickets by date.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replies_in_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        sa.Column("view_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("view_id"),
    )
    op.create_index(
        "ix_replies_in_progress_ticket_id", "replies_in_progress", ["ticket_id"], unique=False
    )
    op.create_index(
        "ix_replies_in_progress_opened_at", "replies_in_progress", ["opened_at"], unique=False
    )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("shop_orders_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("shop_total_spent", sa.String(length=64), nullable=True))
    op.create_index("ix_tickets_customer_created", "tickets", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_customer_created", table_name="tickets")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("shop_total_spent")
        batch.drop_column("shop_orders_count")
    op.drop_table("replies_in_progress")
