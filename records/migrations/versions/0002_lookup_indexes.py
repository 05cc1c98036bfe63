"""indexes for the dashboard's agency and letter pages

Agency pages query handoffs, dispatches, letters and receipts by agency; letter pages look a number
up by its printed forms and merge aliases; circular pages list a circular's letters.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_letter_issuer_id", "letter", "issuer_id"),
    ("ix_letter_circular_id", "letter", "circular_id"),
    ("ix_letter_variant_printed", "letter_variant", "printed"),
    ("ix_merge_alias", "merge", "alias"),
    ("ix_receipt_agency_id", "receipt", "agency_id"),
    ("ix_dispatch_sender_id", "dispatch", "sender_id"),
    ("ix_handoff_recipient_id", "handoff", "recipient_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in reversed(INDEXES):
        op.drop_index(name, table_name=table)
