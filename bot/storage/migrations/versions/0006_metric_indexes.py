"""indexes the digest's backlog, SLA attainment and per-agent figures read through

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_tickets_updated_at", "tickets", "updated_at"),
    ("ix_sla_clocks_stopped_at", "sla_clocks", "stopped_at"),
    ("ix_messages_created_at", "messages", "created_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
