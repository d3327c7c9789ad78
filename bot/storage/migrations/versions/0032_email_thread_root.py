"""An inbound mail's thread root (the first id of its References, else its In-Reply-To), so
a customer's later mail continuing the same conversation finds their ticket even when the
helpdesk never received that conversation's earlier mail.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_thread_root", sa.String(length=998), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_messages_email_thread_root"), ["email_thread_root"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_email_thread_root"))
        batch_op.drop_column("email_thread_root")
