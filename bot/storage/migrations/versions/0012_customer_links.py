"""Tickets remember the Shopify customer an agent linked them to after the customer proved it;
customers forget Shopify ids that may have come from an order someone quoted.

Before this, a stranger quoting an order number had that order's customer recorded as theirs.
Those ids can't be told apart from good ones, so all are cleared: the context post of a
customer's next ticket records the id again, from their address alone.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 21:20:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "shopify_customer_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    op.execute(sa.text("UPDATE customers SET shopify_id = NULL"))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("shopify_customer_id")
