"""metrics and csat

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 15:15:42.945996
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "digest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "channel", name="uq_digest_runs_day_channel"),
    )
    op.create_table(
        "csat_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", bot.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_csat_surveys_answered_at"), ["answered_at"], unique=False
        )
        batch_op.create_index(
            "ix_csat_surveys_customer_sent", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_csat_surveys_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("first_response_business_seconds", sa.Integer(), nullable=True)
        )
        batch_op.add_column(sa.Column("resolution_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_business_seconds", sa.Integer(), nullable=True))
        batch_op.create_index("ix_tickets_first_response_at", ["first_response_at"], unique=False)
        batch_op.create_index("ix_tickets_solved_at", ["solved_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_solved_at")
        batch_op.drop_index("ix_tickets_first_response_at")
        batch_op.drop_column("resolution_business_seconds")
        batch_op.drop_column("resolution_seconds")
        batch_op.drop_column("first_response_business_seconds")
        batch_op.drop_column("first_response_seconds")

    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csat_surveys_ticket_id"))
        batch_op.drop_index("ix_csat_surveys_customer_sent")
        batch_op.drop_index(batch_op.f("ix_csat_surveys_answered_at"))

    op.drop_table("csat_surveys")
    op.drop_table("digest_runs")
