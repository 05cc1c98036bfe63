"""the review list (letters whose number or date could not be read), and the indexes ingest reads

`review_item` holds each letter the parser found but could not read the number or date of, until
a person supplies them. Ingest looks up the letters of one day (citation matching) and the
citations printed with one day's date (re-resolution when a letter arrives); without these
indexes both scanned the whole record, so every file cost more than the one before.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.tables import AwareDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_index("ix_letter_date_number", "letter", ["date", "number"])
    op.create_index("ix_citation_cited_date_number", "citation", ["cited_date", "cited_number"])
    op.create_table(
        "review_item",
        sa.Column("file", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("end_line", sa.Integer(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("unread", sa.Text(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=True),
        sa.Column("created_at", AwareDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", AwareDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["letter.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file", "line", "digest", name="uq_review_item_file_line_digest"),
    )
    op.create_index("ix_review_item_open", "review_item", ["id"], sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_review_item_open", table_name="review_item")
    op.drop_table("review_item")
    op.drop_index("ix_citation_cited_date_number", table_name="citation")
    op.drop_index("ix_letter_date_number", table_name="letter")
