"""A survey remembers its one answer message in the ticket's thread, to update it in place.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02 21:15:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("slack_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("csat_surveys", schema=None) as batch_op:
        batch_op.drop_column("slack_ts")
