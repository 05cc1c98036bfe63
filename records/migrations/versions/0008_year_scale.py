"""the read paths of a year's record (maintained counters and indexes for status, overdue and the dashboard)

`circular_view` keeps each circular's computed state (`records.progress`): its record version, the
day of its latest fact, counts by level and due date for `status`, and every handoff's dates for
`overdue` and the dashboard. Two indexes serve the record version: a circular's clerk dispatches
among the planned ones, and the provinces a routing run reached, without reading its handoffs.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import AwareDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLERK = "source = 'clerk'"


def upgrade() -> None:
    op.create_table(
        "circular_view",
        sa.Column("circular_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("facts_through", sa.Date(), nullable=True),
        sa.Column("tally", sa.Text(), nullable=False),
        sa.Column("handoffs", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("circular_id"),
    )
    op.create_index(
        "ix_dispatch_clerk",
        "dispatch",
        ["circular_id"],
        unique=False,
        sqlite_where=sa.text(CLERK),
        postgresql_where=sa.text(CLERK),
    )
    op.create_index(
        "ix_handoff_level_circular_recipient",
        "handoff",
        ["level", "circular_id", "recipient_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_handoff_level_circular_recipient", table_name="handoff")
    op.drop_index("ix_dispatch_clerk", table_name="dispatch")
    op.drop_table("circular_view")
