"""a partial index of the ingest events by file, for the reading notes of a letter page

A letter page shows what reading its file flagged (the `warnings` of that file's `ingest.file`
events). The event log holds every dispatch and receipt too, so the ingests of one file are
found through an index of the ingest events only, which costs the other appends nothing.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INGEST_EVENT = sa.text("kind = 'ingest.file'")


def upgrade() -> None:
    op.create_index(
        "ix_event_ingest_subject",
        "event",
        ["subject"],
        sqlite_where=INGEST_EVENT,
        postgresql_where=INGEST_EVENT,
    )


def downgrade() -> None:
    op.drop_index("ix_event_ingest_subject", table_name="event")
