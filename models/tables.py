"""SQLModel tables: the record of truth (letters, citations, receipts, circulars, handoffs, events).

Every table has a `XBase` data model holding its validated fields and an `X(XBase, table=True)`
row class. `table=True` models skip pydantic validation, so rows are built through `new_row`,
which validates the fields with the base model first. Changes go through `records.service`,
never straight to these classes. Importing this module opens no database.

The schema is created by the Alembic migrations in `records/migrations`; a test checks that
`alembic upgrade head` yields exactly this metadata. Nothing here is SQLite-only: partial indexes
carry both dialects' `where`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from datetime import UTC
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from pydantic import field_validator
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from models.thai import BANGKOK


class AwareDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware datetime on every backend.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so values are stored as UTC and
    read back as Asia/Bangkok. Naive datetimes are refused rather than guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware values (Asia/Bangkok)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(BANGKOK)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (Asia/Bangkok)")
    return value


ReceiptSource = Literal["ocr", "clerk"]
DispatchSource = Literal["ocr", "clerk", "flow", "plan"]
HandoffStatus = Literal["pending", "received", "forwarded", "late", "overdue"]
CitationKind = Literal["references", "encloses"]
CircularStatus = Literal["open", "closed"]
ReviewStatus = Literal["open", "resolved"]


# --- agency -----------------------------------------------------------------------------------


class AgencyBase(SQLModel):
    """A government agency (หน่วยงาน); ids as in `routing.agencies` (`opdc`, `province:54`...)."""

    id: str = Field(primary_key=True, min_length=1)
    name_th: str = Field(min_length=1)
    name_en: str = ""
    level: str = "unknown"
    parent_id: str | None = None


class AgencyRow(AgencyBase, table=True):
    __tablename__ = "agency"


# --- letter -----------------------------------------------------------------------------------


class LetterBase(SQLModel):
    """One letter (หนังสือราชการ). Placeholders (known only by a citation) carry number and date."""

    number: str = Field(min_length=3, description="canonical number, e.g. มท 0218/ว 3182")
    date: dt.date
    circular: bool = False
    urgency: str | None = None
    issuer_id: str | None = Field(default=None, foreign_key="agency.id", index=True)
    issuer_name: str | None = None
    subject: str | None = Field(default=None, sa_type=sa.Text)
    salutation: str | None = Field(default=None, sa_type=sa.Text)
    signer: str | None = None
    signer_position: str | None = None
    owner_unit: str | None = None
    known_only_by_citation: bool = False
    source_file: str | None = None
    source_line: int | None = None
    source_text: str | None = Field(default=None, sa_type=sa.Text)
    circular_id: str | None = Field(default=None, foreign_key="circular.id", index=True)


class LetterRow(LetterBase, table=True):
    __tablename__ = "letter"
    __table_args__ = (
        sa.UniqueConstraint("number", "date", name="uq_letter_number_date"),
        # Citation matching reads the letters of one day whose number starts with a code and owner
        # (`records.service._real_candidates`): the day narrows a year's record to a few dozen.
        sa.Index("ix_letter_date_number", "date", "number"),
    )

    id: int | None = Field(default=None, primary_key=True)


class LetterVariantBase(SQLModel):
    """A printed form of a letter's number, as printed on the letter or in a citation of it."""

    letter_id: int = Field(foreign_key="letter.id", index=True)
    printed: str = Field(
        min_length=3, index=True, description="canonical form of the number as printed or cited"
    )
    raw: str = ""
    seen_in: str = Field(description="file:line where first seen")


class LetterVariant(LetterVariantBase, table=True):
    __tablename__ = "letter_variant"
    __table_args__ = (sa.UniqueConstraint("letter_id", "printed", name="uq_letter_variant_letter_printed"),)

    id: int | None = Field(default=None, primary_key=True)


# --- citation ---------------------------------------------------------------------------------


class CitationBase(SQLModel):
    """A reference (อ้างถึง) or enclosure (สิ่งที่ส่งมาด้วย): the citing letter carries the cited one.

    `cited_number`/`cited_date` keep what was printed; `cited_letter_id` is where it resolved,
    which may change when a better match is ingested later.
    """

    citing_letter_id: int = Field(foreign_key="letter.id", index=True)
    cited_letter_id: int = Field(foreign_key="letter.id", index=True)
    kind: str = Field(description="'references' or 'encloses'")
    position: int = 0
    text: str = Field(default="", sa_type=sa.Text)
    source_line: int | None = None
    cited_number: str = Field(description="canonical number as cited")
    cited_raw: str = ""
    cited_date: dt.date

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ("references", "encloses"):
            raise ValueError(f"citation kind must be 'references' or 'encloses', not {value!r}")
        return value


class CitationRow(CitationBase, table=True):
    __tablename__ = "citation"
    __table_args__ = (
        sa.UniqueConstraint(
            "citing_letter_id", "cited_letter_id", "kind", name="uq_citation_citing_cited_kind"
        ),
        # A new letter re-resolves the citations printed with its code, owner and date
        # (`records.service.reresolve`): the day narrows them to a few.
        sa.Index("ix_citation_cited_date_number", "cited_date", "cited_number"),
    )

    id: int | None = Field(default=None, primary_key=True)


class MergeBase(SQLModel):
    """A printed number found to be another reading of a kept letter, and why."""

    kept_letter_id: int = Field(foreign_key="letter.id", index=True)
    alias: str = Field(min_length=3, index=True)
    reason: str = Field(sa_type=sa.Text)
    made_at: dt.datetime = Field(sa_type=AwareDateTime)

    _made_at = field_validator("made_at")(classmethod(lambda cls, v: _aware(v)))


class Merge(MergeBase, table=True):
    __tablename__ = "merge"
    __table_args__ = (sa.UniqueConstraint("kept_letter_id", "alias", name="uq_merge_kept_alias"),)

    id: int | None = Field(default=None, primary_key=True)


# --- receipt, deadline ------------------------------------------------------------------------


class ReceiptBase(SQLModel):
    """A receipt (ตรารับ / ทะเบียนหนังสือรับ entry): receipt number in a registry, date, time."""

    letter_id: int = Field(foreign_key="letter.id", index=True)
    agency_id: str | None = Field(default=None, foreign_key="agency.id", index=True)
    registry: str = Field(min_length=1, description="registering agency or unit as printed, or its id")
    number: str | None = Field(default=None, description="receipt number, leading zeros kept")
    year: int | None = Field(default=None, description="calendar year of `date` (numbers restart yearly)")
    date: dt.date | None = None
    time: dt.time | None = None
    received_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    source: str = "ocr"
    source_file: str | None = None
    source_line: int | None = None
    # A voided entry keeps its number (never issued again); these say when, why and by whom.
    voided_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    void_reason: str | None = Field(default=None, sa_type=sa.Text)
    voided_by: str | None = None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if value not in ("ocr", "clerk"):
            raise ValueError(f"receipt source must be 'ocr' or 'clerk', not {value!r}")
        return value

    _received_at = field_validator("received_at")(classmethod(lambda cls, v: _aware(v)))
    _voided_at = field_validator("voided_at")(classmethod(lambda cls, v: _aware(v)))


with warnings.catch_warnings():
    # SQLAlchemy's declarative layer reserves the attribute name `registry`; SQLModel keeps its
    # registry in `_sa_registry`, so the column name the schema contract asks for is safe here.
    warnings.filterwarnings("ignore", message="Attribute name 'registry'")

    class Receipt(ReceiptBase, table=True):
        __tablename__ = "receipt"
        __table_args__ = (
            sa.UniqueConstraint(
                "letter_id", "registry", "number", "date", name="uq_receipt_letter_registry_number_date"
            ),
            # Clerk-issued receipt numbers are gap-free per registry and year; OCR readings may repeat.
            sa.Index(
                "uq_receipt_clerk_registry_year_number",
                "registry",
                "year",
                "number",
                unique=True,
                sqlite_where=sa.text("source = 'clerk'"),
                postgresql_where=sa.text("source = 'clerk'"),
            ),
        )

        id: int | None = Field(default=None, primary_key=True)


class DeadlineBase(SQLModel):
    """A date in a letter's body: a due date (ภายใน...), a meeting, an event."""

    letter_id: int = Field(foreign_key="letter.id", index=True)
    date: dt.date
    time: dt.time | None = None
    kind: str = "due"
    text: str = Field(default="", sa_type=sa.Text)


class DeadlineRow(DeadlineBase, table=True):
    __tablename__ = "deadline"

    id: int | None = Field(default=None, primary_key=True)


# --- circular, dispatch, handoff --------------------------------------------------------------


class CircularBase(SQLModel):
    """A cascade from one root directive: the letters connected by citations."""

    id: str = Field(primary_key=True, min_length=1, description="slug of the root letter's number")
    title: str = Field(default="", sa_type=sa.Text)
    # No foreign key: letter.circular_id already points here, and a cycle of foreign keys would
    # need ALTER TABLE constraints SQLite cannot add. Root letters are real and never deleted.
    root_letter_id: int | None = None
    plan_id: str | None = None
    status: str = "open"
    created_at: dt.datetime = Field(sa_type=AwareDateTime)

    _created_at = field_validator("created_at")(classmethod(lambda cls, v: _aware(v)))


class Circular(CircularBase, table=True):
    __tablename__ = "circular"


class DispatchBase(SQLModel):
    """A letter sent (ทะเบียนหนังสือส่ง) by one agency down to a level, as part of a circular."""

    circular_id: str = Field(foreign_key="circular.id", index=True)
    letter_id: int = Field(foreign_key="letter.id", index=True)
    sender_id: str = Field(foreign_key="agency.id", index=True)
    sent_on: dt.date
    sent_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    level: str = Field(description="level of the receiving agencies")
    source: str = "ocr"

    _sent_at = field_validator("sent_at")(classmethod(lambda cls, v: _aware(v)))


class Dispatch(DispatchBase, table=True):
    __tablename__ = "dispatch"
    __table_args__ = (
        sa.UniqueConstraint(
            "circular_id", "sender_id", "letter_id", name="uq_dispatch_circular_sender_letter"
        ),
        # A clerk's dispatches (facts) among a year's ~960,000 planned ones: the read model's
        # record version (`records.progress`) reads them per circular (migration 0008).
        sa.Index(
            "ix_dispatch_clerk",
            "circular_id",
            sqlite_where=sa.text("source = 'clerk'"),
            postgresql_where=sa.text("source = 'clerk'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)


# Handoffs the overdue sweep has still to announce (`overdue_flagged_at` is the announcement time).
UNFLAGGED_SQL = "overdue_flagged_at IS NULL AND status IN ('late', 'overdue')"


class HandoffBase(SQLModel):
    """One recipient of a dispatch, with what it must do by when (receive, forward)."""

    dispatch_id: int = Field(foreign_key="dispatch.id")
    circular_id: str = Field(foreign_key="circular.id", index=True)
    recipient_id: str = Field(foreign_key="agency.id", index=True)
    level: str
    sent_on: dt.date
    received_on: dt.date | None = None
    forwarded_on: dt.date | None = None
    due_receive: dt.date | None = None
    due_forward: dt.date | None = None
    status: str = "pending"
    overdue_flagged_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in ("pending", "received", "forwarded", "late", "overdue"):
            raise ValueError(f"unknown handoff status {value!r}")
        return value


class Handoff(HandoffBase, table=True):
    __tablename__ = "handoff"
    __table_args__ = (
        sa.UniqueConstraint("dispatch_id", "recipient_id", name="uq_handoff_dispatch_recipient"),
        # The overdue sweep: WHERE status IN ('pending','received') AND due_forward < :today is a
        # range scan on this index on both SQLite and PostgreSQL, as long as status is kept current.
        sa.Index("ix_handoff_status_due_forward", "status", "due_forward"),
        # The sweep's unannounced handoffs (overdue or late, not flagged yet): a few among millions
        # of late ones kept for good. Its queries repeat this predicate so both databases use it.
        sa.Index(
            "ix_handoff_unflagged",
            "overdue_flagged_at",
            "status",
            sqlite_where=sa.text(UNFLAGGED_SQL),
            postgresql_where=sa.text(UNFLAGGED_SQL),
        ),
        # One sweep's flags share its moment: the event log's snapshot of the sweep reads them by it.
        sa.Index(
            "ix_handoff_flagged_at",
            "overdue_flagged_at",
            sqlite_where=sa.text("overdue_flagged_at IS NOT NULL"),
            postgresql_where=sa.text("overdue_flagged_at IS NOT NULL"),
        ),
        # A circular's scope (the provinces a run reached) without reading its 8,400 handoffs
        # (migration 0008).
        sa.Index("ix_handoff_level_circular_recipient", "level", "circular_id", "recipient_id"),
    )

    id: int | None = Field(default=None, primary_key=True)


# --- event log, ingest log --------------------------------------------------------------------


class EventBase(SQLModel):
    """One entry of the append-only, hash-chained event log (see `records.events`)."""

    at: dt.datetime = Field(sa_type=AwareDateTime)
    actor: str = Field(min_length=1)
    on_behalf_of: str | None = None
    kind: str = Field(min_length=1)
    subject: str = ""
    payload: str = Field(sa_type=sa.Text, description="canonical JSON")
    prev_hash: str = Field(min_length=64, max_length=64)
    hash: str = Field(min_length=64, max_length=64)

    _at = field_validator("at")(classmethod(lambda cls, v: _aware(v)))


INGEST_EVENT_SQL = "kind = 'ingest.file'"


class Event(EventBase, table=True):
    __tablename__ = "event"
    __table_args__ = (
        sa.UniqueConstraint("prev_hash", name="uq_event_prev_hash"),
        # The ingests of one file (a letter page's reading notes): a few rows among every event
        # of the log. Queries repeat the predicate so both databases use the partial index.
        sa.Index(
            "ix_event_ingest_subject",
            "subject",
            sqlite_where=sa.text(INGEST_EVENT_SQL),
            postgresql_where=sa.text(INGEST_EVENT_SQL),
        ),
    )

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class IngestLogBase(SQLModel):
    """One run of `saraban ingest` over one file (re-ingests included)."""

    file: str
    sha256: str = Field(min_length=64, max_length=64)
    at: dt.datetime = Field(sa_type=AwareDateTime)
    added: int = 0
    merged: int = 0
    unchanged: int = 0

    _at = field_validator("at")(classmethod(lambda cls, v: _aware(v)))


class IngestLog(IngestLogBase, table=True):
    __tablename__ = "ingest_log"

    id: int | None = Field(default=None, primary_key=True)


# --- review list ------------------------------------------------------------------------------


class ReviewItemBase(SQLModel):
    """A letter found in a file whose number or date could not be read: it waits for a person
    (`saraban review set`) to supply them. `unread` is the `models.letters.UnreadLetter` as JSON
    (`UnreadLetter.model_validate_json` reads it back); `digest` is its sha256, so that reading
    the same file again finds the item instead of adding another."""

    file: str = Field(min_length=1)
    line: int = Field(ge=1)
    end_line: int | None = None
    sha256: str = Field(min_length=64, max_length=64, description="sha256 of the file when read")
    reason: str = Field(sa_type=sa.Text, description="why it needs review, e.g. 'number: not read'")
    unread: str = Field(sa_type=sa.Text, description="the UnreadLetter as JSON")
    digest: str = Field(min_length=64, max_length=64, description="sha256 of `unread`")
    source_text: str = Field(default="", sa_type=sa.Text)
    status: str = Field(default="open", description="'open' or 'resolved'")
    letter_id: int | None = Field(default=None, foreign_key="letter.id")
    created_at: dt.datetime = Field(sa_type=AwareDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    resolved_by: str | None = None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in ("open", "resolved"):
            raise ValueError(f"review status must be 'open' or 'resolved', not {value!r}")
        return value

    _created_at = field_validator("created_at")(classmethod(lambda cls, v: _aware(v)))
    _resolved_at = field_validator("resolved_at")(classmethod(lambda cls, v: _aware(v)))


class ReviewItem(ReviewItemBase, table=True):
    __tablename__ = "review_item"
    __table_args__ = (
        # One item per letter read at one place of one file: re-ingesting the file adds none.
        sa.UniqueConstraint("file", "line", "digest", name="uq_review_item_file_line_digest"),
        # `saraban review` lists the open items, a few among every item ever resolved.
        sa.Index(
            "ix_review_item_open",
            "id",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)


STATE_TABLES: tuple[type[SQLModel], ...] = (
    AgencyRow, LetterRow, LetterVariant, CitationRow, Merge, Receipt, DeadlineRow,
    Circular, Dispatch, Handoff,
)  # fmt: skip
"""Tables holding the record's state (everything but the event and ingest logs)."""

RowT = TypeVar("RowT", bound=SQLModel)


def new_row(table: type[RowT], **fields: Any) -> RowT:
    """Build a table row after validating `fields` with its non-table base model.

    >>> new_row(AgencyRow, id="opdc", name_th="สำนักงาน ก.พ.ร.").id
    'opdc'
    >>> new_row(AgencyRow, id="", name_th="x")
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for AgencyBase
    ...
    """
    base = next(
        b
        for b in table.__mro__[1:]
        if issubclass(b, SQLModel) and not getattr(b, "__table__", None) and b is not SQLModel
    )
    data = base.model_validate(fields).model_dump(exclude_unset=True)
    extra = {k: v for k, v in fields.items() if k not in base.model_fields}
    return table(**data, **extra)


# --- scan pages -------------------------------------------------------------------------------


class ScanPageBase(SQLModel):
    """The image of one page of a scanned letter file (หนังสือฉบับสแกน), kept beside its reading.

    Keyed by the file's sha256 and page number (from 1): the same scan at two paths, or ingested
    twice, is stored once. Not part of `STATE_TABLES`: the event log carries what was read, not
    the images (`records.scans`).
    """

    sha256: str = Field(min_length=64, max_length=64, description="sha256 of the scanned file")
    page: int = Field(ge=1, description="page number in the file, from 1")
    png: bytes = Field(sa_type=sa.LargeBinary, repr=False)
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    created_at: dt.datetime = Field(sa_type=AwareDateTime)

    _created_at = field_validator("created_at")(classmethod(lambda cls, v: _aware(v)))


class ScanPage(ScanPageBase, table=True):
    __tablename__ = "scan_page"
    # Also the index of a file's pages (sha256 leads).
    __table_args__ = (sa.UniqueConstraint("sha256", "page", name="uq_scan_page_sha256_page"),)

    id: int | None = Field(default=None, primary_key=True)


# --- search terms -----------------------------------------------------------------------------


class LetterTermBase(SQLModel):
    """One word a letter is found by (`models.terms.letter_terms`: its subject, issuer and first
    body lines cut into words). Derived from the letter, kept in step by `records.service`; not
    part of `STATE_TABLES`. `records.search` asks for the letters holding every word of a query."""

    letter_id: int = Field(foreign_key="letter.id", primary_key=True)
    term: str = Field(primary_key=True, min_length=2, max_length=64)


class LetterTerm(LetterTermBase, table=True):
    __tablename__ = "letter_term"
    # The primary key (letter_id, term) serves a letter's own terms; this one the words of a query.
    __table_args__ = (sa.Index("ix_letter_term_term", "term", "letter_id"),)


# --- the read model's stored states -------------------------------------------------------------


class CircularViewBase(SQLModel):
    """A circular's state as `records.progress.circular_state` computed it, kept so that `status`,
    `overdue` and the dashboard do not recompute ~8,400 handoffs per national circular on every
    read (migrations 0008, 0011). Derived data, like `letter_term`: not part of `STATE_TABLES`, no
    event.

    Valid while `fingerprint` (the record version: everything the state is computed from) is
    unchanged, and for any "as of" on or after `facts_through` (the circular's latest fact, or the
    plan's start): from then on only the statuses move with the day, and those are judged on read
    from the dates kept here. `tally` counts handoffs by (level, facts, settled status, due date),
    which is all `status` needs; `header` is the state's scope, its sections and its facts, and the
    handoffs' dates are in its sections (`CircularViewPart`)."""

    circular_id: str = Field(primary_key=True, min_length=1)
    fingerprint: str = Field(min_length=1, max_length=64)
    facts_through: dt.date | None = None
    tally: str = Field(sa_type=sa.Text)
    header: bytes = Field(sa_type=sa.LargeBinary, repr=False)
    computed_at: dt.datetime = Field(sa_type=AwareDateTime)

    _computed_at = field_validator("computed_at")(classmethod(lambda cls, v: _aware(v)))


class CircularView(CircularViewBase, table=True):
    __tablename__ = "circular_view"


class CircularViewPartBase(SQLModel):
    """One section of a stored state (`CircularView`): the national band ("", handoffs to or from
    a central agency) or one province's handoffs, as zlib'd JSON chunks (`records.progress._pack`).
    An agency page reads two sections of each circular, not the whole state."""

    circular_id: str = Field(primary_key=True, min_length=1)
    section: str = Field(primary_key=True)
    rows: bytes = Field(sa_type=sa.LargeBinary, repr=False)


class CircularViewPart(CircularViewPartBase, table=True):
    __tablename__ = "circular_view_part"


# --- users ------------------------------------------------------------------------------------

UserRole = Literal["clerk", "administrator", "auditor"]
USER_ROLES: tuple[str, ...] = ("clerk", "administrator", "auditor")


class UserBase(SQLModel):
    """A person who signs in to the dashboard (ผู้ใช้): a clerk or an administrator of one agency, or
    an auditor of everything (no agency). `password_hash` is an argon2 hash (`records.users`), never
    the password; `session_epoch` grows on every sign-out, so a signed session cookie issued before
    it is no longer honoured. Not part of `STATE_TABLES`: the log names the users and their changes
    (`user.*` events) but never carries a hash, so replay cannot rebuild this table.
    """

    username: str = Field(primary_key=True, min_length=1, max_length=64, regex=r"^[a-z0-9][a-z0-9._@-]*$")
    role: str = Field(description="clerk | administrator | auditor")
    agency_id: str | None = Field(default=None, foreign_key="agency.id")
    password_hash: str = Field(min_length=1, repr=False)
    disabled: bool = False
    session_epoch: int = Field(default=0, ge=0)
    failed_attempts: int = Field(default=0, ge=0, description="wrong passwords in a row")
    locked_until: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    created_at: dt.datetime = Field(sa_type=AwareDateTime)
    last_sign_in_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in USER_ROLES:
            raise ValueError(f"role must be one of {', '.join(USER_ROLES)}, not {value!r}")
        return value

    _created_at = field_validator("created_at")(classmethod(lambda cls, v: _aware(v)))
    _locked_until = field_validator("locked_until")(classmethod(lambda cls, v: _aware(v)))
    _last_sign_in_at = field_validator("last_sign_in_at")(classmethod(lambda cls, v: _aware(v)))


class User(UserBase, table=True):
    # `user` is a reserved word in PostgreSQL.
    __tablename__ = "app_user"
