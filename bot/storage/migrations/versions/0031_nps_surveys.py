"""NPS surveys: scheduled when a ticket is solved, sent by a job once due, answered by link.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from bot.storage.types import UTCDateTime

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nps_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("nps_surveys", schema=None) as batch_op:
        batch_op.create_index("ix_nps_surveys_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            "ix_nps_surveys_customer_sent", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_nps_surveys_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_nps_surveys_answered_at"), ["answered_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("nps_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nps_surveys_answered_at"))
        batch_op.drop_index(batch_op.f("ix_nps_surveys_ticket_id"))
        batch_op.drop_index("ix_nps_surveys_customer_sent")
        batch_op.drop_index("ix_nps_surveys_state_due")
    op.drop_table("nps_surveys")
