"""corrections the regulation allows: a receipt voided (its number kept) with reason, actor, time

A voided receipt stays in the register: its number is never issued again and the series goes on
after it; `voided_at`, `void_reason` and `voided_by` say when, why and by whom. Corrections of a
receipt's or a letter's fields change the row in place; the old and new values, the reason and the
actor are in their events (`receipt.corrected`, `letter.corrected`), so no column is needed for them.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import AwareDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("receipt", sa.Column("voided_at", AwareDateTime(timezone=True), nullable=True))
    op.add_column("receipt", sa.Column("void_reason", sa.Text(), nullable=True))
    op.add_column("receipt", sa.Column("voided_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("receipt") as batch:
        batch.drop_column("voided_by")
        batch.drop_column("void_reason")
        batch.drop_column("voided_at")
