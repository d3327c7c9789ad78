"""An outbox row counts the tries its deliverer raised on, apart from all its tries: a row is
given up after five of those, not after five tries of any kind (an outage's retries among them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raised", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("raised")
