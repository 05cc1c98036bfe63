"""searching letters by subject words and by any printed form of a number

`letter_term` holds the words each letter is found by (`models.terms.letter_terms`: its subject,
issuer and first body lines cut into words by pythainlp, since Thai has no spaces). The table works
the same on SQLite and PostgreSQL: a query's words are looked up through `ix_letter_term_term`.
Letters already on record are indexed here; the service layer keeps the table in step afterwards.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.terms import letter_terms

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "letter_term",
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("term", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["letter.id"]),
        sa.PrimaryKeyConstraint("letter_id", "term"),
    )
    op.create_index("ix_letter_term_term", "letter_term", ["term", "letter_id"], unique=False)
    _backfill()


def _backfill() -> None:
    """Index every letter on record (placeholders, known only by a citation, have no words), a batch
    of letters at a time (ids ascending)."""
    bind = op.get_bind()
    letter = sa.table(
        "letter",
        sa.column("id", sa.Integer()),
        sa.column("subject", sa.Text()),
        sa.column("issuer_name", sa.String()),
        sa.column("source_text", sa.Text()),
        sa.column("known_only_by_citation", sa.Boolean()),
    )
    term_table = sa.table("letter_term", sa.column("letter_id", sa.Integer()), sa.column("term", sa.String()))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(letter.c.id, letter.c.subject, letter.c.issuer_name, letter.c.source_text)
            .where(letter.c.id > last, letter.c.known_only_by_citation.is_(False))
            .order_by(letter.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [
            {"letter_id": row.id, "term": term}
            for row in rows
            for term in sorted(letter_terms(row.subject, row.issuer_name, row.source_text))
        ]
        if values:
            bind.execute(sa.insert(term_table), values)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_letter_term_term", table_name="letter_term")
    op.drop_table("letter_term")
