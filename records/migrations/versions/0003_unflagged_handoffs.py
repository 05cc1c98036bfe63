"""partial indexes of the handoffs the overdue sweep has announced, and of those it has not yet

The sweep announces every handoff that turns overdue or is recorded late, once. Late handoffs are
many (every forwarding after its latest date, kept for good), so finding the few not announced yet
must not scan them all: `ix_handoff_unflagged` holds only late or overdue handoffs without a flag,
and the sweep's query repeats its predicate so that SQLite and PostgreSQL both choose it.
`ix_handoff_flagged_at` holds the flagged ones by the moment of their sweep, which the event log's
snapshot of that sweep reads them by.

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
FLAGGED = sa.text("overdue_flagged_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_handoff_unflagged",
        "handoff",
        # Led by the predicate's own column: a query naming both columns matches two index terms,
        # so SQLite, without statistics, prefers this index to (status, due_forward).
        ["overdue_flagged_at", "status"],
        sqlite_where=UNFLAGGED,
        postgresql_where=UNFLAGGED,
    )

    # The handoffs one sweep flagged share its moment: the event log's snapshot of a sweep reads
    # them by it. Only flagged handoffs are in this index.
    op.create_index(
        "ix_handoff_flagged_at",
        "handoff",
        ["overdue_flagged_at"],
        sqlite_where=FLAGGED,
        postgresql_where=FLAGGED,
    )


def downgrade() -> None:
    op.drop_index("ix_handoff_flagged_at", table_name="handoff")
    op.drop_index("ix_handoff_unflagged", table_name="handoff")
