"""Merge and split: a ticket merged into another one, and what moved, so it can be undone.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_tickets_merged_into_id", "tickets", ["merged_into_id"], ["id"])
    op.create_table(
        "ticket_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_ticket_id", sa.Integer(), nullable=False),
        sa.Column("to_ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("tags_added", sa.JSON(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["from_ticket_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["to_ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
    )
    op.create_index("ix_ticket_moves_from_ticket_id", "ticket_moves", ["from_ticket_id"])
    op.create_index("ix_ticket_moves_to_ticket_id", "ticket_moves", ["to_ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_moves_to_ticket_id", table_name="ticket_moves")
    op.drop_index("ix_ticket_moves_from_ticket_id", table_name="ticket_moves")
    op.drop_table("ticket_moves")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("fk_tickets_merged_into_id", type_="foreignkey")
        batch.drop_column("merged_into_id")
