"""A ticket can be pending until a given time (a snooze), then reopens by itself; the index
finds the tickets due.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending_until", bot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_tickets_pending_until", ["pending_until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_pending_until")
        batch_op.drop_column("pending_until")
