"""Daily figures: each closed local day's metrics, kept so that stats over a month read 30
rows instead of a month of tickets; and the counter a change to an old day bumps, so a roll-up
computed before that change is not stored after it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COUNTER = "daily_figures_changes"


def upgrade() -> None:
    op.create_table(
        "daily_figures",
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", bot.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("zone", "day"),
    )
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": COUNTER, "value": 0}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM counters WHERE name = :name").bindparams(name=COUNTER))
    op.drop_table("daily_figures")
