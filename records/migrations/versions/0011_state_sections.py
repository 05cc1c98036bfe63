"""stored circular states in sections: an agency page reads two small rows, not a whole state

`circular_view` keeps a state's header (scope, the list of its sections, its facts), and
`circular_view_part` one row per section: the national band (handoffs to or from a central agency)
and one per province, each holding that section's chunks of handoffs (`records.progress._pack`).
An agency page at a year's scale reads the national section and its own province's of each
circular. The table is derived data: states stored in the earlier layout are dropped and computed
again on the next read.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import AwareDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _view(blob: str) -> None:
    op.create_table(
        "circular_view",
        sa.Column("circular_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("facts_through", sa.Date(), nullable=True),
        sa.Column("tally", sa.Text(), nullable=False),
        sa.Column(blob, sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("circular_id"),
    )


def upgrade() -> None:
    op.drop_table("circular_view")
    _view("header")
    op.create_table(
        "circular_view_part",
        sa.Column("circular_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("section", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rows", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("circular_id", "section"),
    )


def downgrade() -> None:
    op.drop_table("circular_view_part")
    op.drop_table("circular_view")
    _view("handoffs")
