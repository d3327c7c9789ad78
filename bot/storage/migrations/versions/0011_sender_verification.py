"""Why a customer's email sender is not verified (Authentication-Results, several From
addresses), stored on the message so the thread can show it.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 21:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "unverified_sender", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("unverified_sender")
