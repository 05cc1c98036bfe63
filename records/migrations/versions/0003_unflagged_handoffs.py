"""a partial index of the handoffs the overdue sweep has not announced yet

The sweep announces every handoff that turns overdue or is recorded late, once. Late handoffs are
many (every forwarding after its latest date, kept for good), so finding the few not announced yet
must not scan them all: this index holds only late or overdue handoffs without a flag, and the
sweep's query repeats its predicate so that SQLite and PostgreSQL both choose it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFLAGGED = sa.text("overdue_flagged_at IS NULL AND status IN ('late', 'overdue')")


def upgrade() -> None:
    op.create_index(
        "ix_handoff_unflagged",
        "handoff",
        ["status", "due_forward"],
        sqlite_where=UNFLAGGED,
        postgresql_where=UNFLAGGED,
    )


def downgrade() -> None:
    op.drop_index("ix_handoff_unflagged", table_name="handoff")
