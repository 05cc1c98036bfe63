"""An agency's inbox and outbox, as its clerks work them (ทะเบียนหนังสือรับ / ทะเบียนหนังสือส่ง).

- `inbox`: the letters the agency's registry received (receipts not voided), each with the date by
  which it is to be forwarded (the agency's handoff in the letter's circular, else the letter's
  earliest `due` deadline) and whether the agency has sent it on (a dispatch by the agency of the
  letter, or of any letter of its circular). Waiting letters first by due date.
- `outbox`: what the agency sent on (its dispatches), newest first, with each recipient's status.
- `receipt_entry`: one line of the receipt register, as the page that shows a new receipt number.
- `letters_to_receive`: letters on record as a clerk checks them before registering a receipt:
  each field with how it was read (read, repaired, partial, missing), from the `ingest.file`
  events of the letter's file (the readings ingest stored; see `records.scans`).

Read only: nothing here writes. The writers are `records.registry` (receive, dispatch),
`records.ingest` (an uploaded file) and `records.service.correct_letter`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.letters import FieldReading, FieldStatus
from models.tables import (
    INGEST_EVENT_SQL,
    AgencyRow,
    DeadlineRow,
    Dispatch,
    Event,
    Handoff,
    LetterRow,
    Receipt,
)
from records.dashboard import Page, page_bounds
from records.service import reading_notes

# The fields a clerk checks, in the order of a letter's header; the Thai label each is shown with.
# `number` identifies the letter and is not corrected here (a letter whose number could not be read
# goes to the review list instead); the others are `records.service.CORRECTABLE`.
CHECKED_FIELDS: tuple[tuple[str, str], ...] = (
    ("number", "เลขที่หนังสือ"),
    ("date", "ลงวันที่"),
    ("urgency", "ชั้นความเร็ว"),
    ("issuer", "ส่วนราชการเจ้าของหนังสือ"),
    ("subject", "เรื่อง"),
    ("salutation", "เรียน"),
    ("signer", "ผู้ลงนาม"),
    ("signer_position", "ตำแหน่งผู้ลงนาม"),
)
_COLUMN = {"issuer": "issuer_name"}


@dataclass(frozen=True)
class InboxItem:
    """A letter the agency received: its receipt, the letter, by when to forward it, and whether it has."""

    receipt_id: int
    receipt_number: str | None
    receipt_year: int | None
    received_on: date | None
    received_time: time | None
    source: str  # "clerk" (registered by hand or on the web) or "ocr" (a stamp read off the letter)
    letter_id: int
    letter_number: str
    letter_date: date
    subject: str | None
    urgency: str | None
    circular_id: str | None
    due: date | None
    forwarded_on: date | None
    status: str  # forwarded | overdue | pending


# Dispatches that are facts of the agency's register: sent by a clerk or read off a letter. A routing
# run also writes the dispatches its plan expects ("flow"); those are no proof the letter went out.
FACT_SOURCES = ("clerk", "ocr")


def _due_forward(agency_id: str) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.min(col(Handoff.due_forward)))
        .where(col(Handoff.recipient_id) == agency_id, col(Handoff.circular_id) == col(LetterRow.circular_id))
        .scalar_subquery()
    )


def _letter_due() -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.min(col(DeadlineRow.date)))
        .where(col(DeadlineRow.letter_id) == col(LetterRow.id), col(DeadlineRow.kind) == "due")
        .scalar_subquery()
    )


def _forwarded_on(agency_id: str) -> sa.ScalarSelect[Any]:
    same_circular = sa.and_(
        col(LetterRow.circular_id).is_not(None), col(Dispatch.circular_id) == col(LetterRow.circular_id)
    )
    return (
        sa.select(sa.func.min(col(Dispatch.sent_on)))
        .where(
            col(Dispatch.sender_id) == agency_id,
            col(Dispatch.source).in_(FACT_SOURCES),
            sa.or_(col(Dispatch.letter_id) == col(LetterRow.id), same_circular),
        )
        .scalar_subquery()
    )


def _page(
    session: Session, query: sa.Select[*tuple[Any, ...]], page: int, size: int
) -> tuple[list[Any], int, int, int]:
    """(rows, total, page number, size) of one page of `query`; past the end, the last page."""
    number, size, offset = page_bounds(page, size)
    total = int(
        session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    )
    if offset >= total > 0:
        number = -(-total // size)
        offset = (number - 1) * size
    return list(session.execute(query.limit(size).offset(offset)).all()), total, number, size


def inbox(
    session: Session, agency_id: str, as_of: date, *, waiting_only: bool = True, page: int = 1, size: int = 50
) -> Page[InboxItem]:
    """The agency's received letters (voided receipts left out), waiting ones by due date first.

    `waiting_only` keeps the letters the agency has not sent on yet; `as_of` judges overdue.
    """
    due = sa.func.coalesce(_due_forward(agency_id), _letter_due()).label("due")
    forwarded = _forwarded_on(agency_id).label("forwarded_on")
    stmt: sa.Select[*tuple[Any, ...]] = (
        sa.select(
            col(Receipt.id).label("receipt_id"),
            col(Receipt.number).label("receipt_number"),
            col(Receipt.year).label("receipt_year"),
            col(Receipt.date).label("received_on"),
            col(Receipt.time).label("received_time"),
            col(Receipt.source),
            col(LetterRow.id).label("letter_id"),
            col(LetterRow.number).label("letter_number"),
            col(LetterRow.date).label("letter_date"),
            col(LetterRow.subject),
            col(LetterRow.urgency),
            col(LetterRow.circular_id),
            due,
            forwarded,
        )
        .join(LetterRow, col(LetterRow.id) == col(Receipt.letter_id))
        .where(col(Receipt.agency_id) == agency_id, col(Receipt.voided_at).is_(None))
    )
    inner = stmt.subquery()
    query = sa.select(inner)
    if waiting_only:
        query = query.where(inner.c.forwarded_on.is_(None))
    query = query.order_by(
        inner.c.forwarded_on.is_not(None),
        inner.c.due.is_(None),
        inner.c.due,
        inner.c.received_on.desc(),
        inner.c.receipt_id.desc(),
    )
    rows, total, number, size = _page(session, query, page, size)
    items = []
    for r in rows:
        if r.forwarded_on is not None:
            status = "forwarded"
        elif r.due is not None and r.due < as_of:
            status = "overdue"
        else:
            status = "pending"
        items.append(InboxItem(**r._mapping, status=status))
    return Page(items=items, total=total, number=number, size=size)


@dataclass(frozen=True)
class Recipient:
    agency_id: str
    name: str
    status: str
    received_on: date | None


@dataclass(frozen=True)
class OutboxItem:
    """A letter the agency sent on, to whom, and how far each recipient got."""

    dispatch_id: int
    circular_id: str
    letter_id: int
    letter_number: str
    letter_date: date
    subject: str | None
    sent_on: date
    sent_at: datetime | None
    source: str
    recipients: tuple[Recipient, ...]


def outbox(session: Session, agency_id: str, *, page: int = 1, size: int = 50) -> Page[OutboxItem]:
    """The agency's dispatches (ทะเบียนหนังสือส่ง), newest first, with their recipients."""
    stmt: sa.Select[*tuple[Any, ...]] = (
        sa.select(
            col(Dispatch.id).label("dispatch_id"),
            col(Dispatch.circular_id),
            col(LetterRow.id).label("letter_id"),
            col(LetterRow.number).label("letter_number"),
            col(LetterRow.date).label("letter_date"),
            col(LetterRow.subject),
            col(Dispatch.sent_on),
            col(Dispatch.sent_at),
            col(Dispatch.source),
        )
        .join(LetterRow, col(LetterRow.id) == col(Dispatch.letter_id))
        .where(col(Dispatch.sender_id) == agency_id)
        .order_by(col(Dispatch.sent_on).desc(), col(Dispatch.id).desc())
    )
    rows, total, number, size = _page(session, stmt, page, size)
    recipients: dict[int, list[Recipient]] = {}
    ids = [r.dispatch_id for r in rows]
    if ids:
        found = session.execute(
            sa.select(
                col(Handoff.dispatch_id),
                col(Handoff.recipient_id),
                col(AgencyRow.name_th),
                col(Handoff.status),
                col(Handoff.received_on),
            )
            .outerjoin(AgencyRow, col(AgencyRow.id) == col(Handoff.recipient_id))
            .where(col(Handoff.dispatch_id).in_(ids))
            .order_by(col(Handoff.recipient_id))
        ).tuples()
        for dispatch_id, recipient_id, name, status, received_on in found:
            recipients.setdefault(dispatch_id, []).append(
                Recipient(recipient_id, name or recipient_id, status, received_on)
            )
    items = [OutboxItem(**r._mapping, recipients=tuple(recipients.get(r.dispatch_id, ()))) for r in rows]
    return Page(items=items, total=total, number=number, size=size)


@dataclass(frozen=True)
class ReceiptEntry:
    """One line of the receipt register: the number issued, when, and the letter."""

    id: int
    registry: str
    registry_name: str
    number: str | None
    year: int | None
    received_on: date | None
    received_time: time | None
    source: str
    voided: bool
    letter_id: int
    letter_number: str
    letter_date: date
    subject: str | None


def receipt_entry(session: Session, receipt_id: int) -> ReceiptEntry | None:
    """The receipt `receipt_id`, or None when there is none."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None or receipt.id is None:
        return None
    letter = session.get(LetterRow, receipt.letter_id)
    assert letter is not None and letter.id is not None
    registry = session.get(AgencyRow, receipt.registry)
    return ReceiptEntry(
        id=receipt.id,
        registry=receipt.registry,
        registry_name=registry.name_th if registry else receipt.registry,
        number=receipt.number,
        year=receipt.year,
        received_on=receipt.date,
        received_time=receipt.time,
        source=receipt.source,
        voided=receipt.voided_at is not None,
        letter_id=letter.id,
        letter_number=letter.number,
        letter_date=letter.date,
        subject=letter.subject,
    )


# --- checking a letter before registering it ------------------------------------------------------


@dataclass(frozen=True)
class CheckedField:
    """One field of a letter as the clerk checks it: its value now and how it was read."""

    name: str
    label: str
    value: str | None
    status: str  # FieldStatus value, or "corrected" when a person has changed it since reading
    note: str | None = None
    raw: str | None = None


@dataclass(frozen=True)
class LetterToReceive:
    """A letter on record, with its fields as read, its due dates and its receipts at the agency."""

    id: int
    number: str
    letter_date: date
    circular_id: str | None
    source_file: str | None
    source_line: int | None
    source_text: str | None
    fields: tuple[CheckedField, ...]
    due_dates: tuple[date, ...]
    receipts_here: tuple[tuple[str | None, int | None, date | None], ...]  # (number, year, date)
    notes: tuple[str, ...] = ()  # what reading the letter's file flagged about it (`reading_notes`)


def _readings(session: Session, letter: LetterRow) -> tuple[FieldReading, ...]:
    """The readings of the first ingest of the letter's file that read it (empty when unknown)."""
    if not letter.source_file:
        return ()
    events = (
        select(Event.payload)
        .where(Event.subject == letter.source_file, sa.text(INGEST_EVENT_SQL))
        .order_by(col(Event.seq))
    )
    for payload in session.exec(events):
        for item in json.loads(payload).get("letters") or ():
            if (item.get("source") or {}).get("line") == letter.source_line:
                return tuple(FieldReading.model_validate(r) for r in item.get("readings") or ())
    return ()


def _corrected(session: Session, letter: LetterRow) -> set[str]:
    """The fields of `letter` a person corrected (`letter.corrected` events on its number)."""
    events = select(Event.payload).where(Event.kind == "letter.corrected", Event.subject == letter.number)
    return {json.loads(p).get("field") for p in session.exec(events)}


def _shown(value: object) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def letters_to_receive(session: Session, letter_ids: Sequence[int], agency_id: str) -> list[LetterToReceive]:
    """The letters `letter_ids` (those on record, in the order given) as a clerk of `agency_id`
    checks them before registering their receipt."""
    out: list[LetterToReceive] = []
    for letter_id in dict.fromkeys(letter_ids):
        row = session.get(LetterRow, letter_id)
        if row is None or row.id is None:
            continue
        readings = {r.field: r for r in _readings(session, row)}
        corrected = _corrected(session, row)
        fields = []
        for name, label in CHECKED_FIELDS:
            value = _shown(getattr(row, _COLUMN.get(name, name)))
            reading = readings.get(name)
            if name in corrected:
                status = "corrected"
            elif reading is not None:
                status = reading.status.value
            else:
                status = FieldStatus.READ.value if value is not None else FieldStatus.MISSING.value
            fields.append(
                CheckedField(
                    name,
                    label,
                    value,
                    status,
                    reading.note if reading else None,
                    reading.raw if reading else None,
                )
            )
        dues = session.exec(
            select(col(DeadlineRow.date))
            .where(DeadlineRow.letter_id == row.id, DeadlineRow.kind == "due")
            .order_by(col(DeadlineRow.date))
        )
        receipts = session.exec(
            select(col(Receipt.number), col(Receipt.year), col(Receipt.date))
            .where(
                Receipt.letter_id == row.id,
                Receipt.agency_id == agency_id,
                col(Receipt.voided_at).is_(None),
            )
            .order_by(col(Receipt.id))
        )
        out.append(
            LetterToReceive(
                id=row.id,
                number=row.number,
                letter_date=row.date,
                circular_id=row.circular_id,
                source_file=row.source_file,
                source_line=row.source_line,
                source_text=row.source_text,
                fields=tuple(fields),
                due_dates=tuple(dues),
                receipts_here=tuple((n, y, d) for n, y, d in receipts),
                notes=tuple(f"บรรทัด {n.line}: {n.text}" for n in reading_notes(session, row)),
            )
        )
    return out


def letter_ids_of(session: Session, found: Sequence[tuple[str, date]]) -> list[int]:
    """The ids of the letters on record among (canonical number, date) pairs, in the order given."""
    ids: list[int] = []
    for number, on in found:
        row = session.exec(
            select(LetterRow.id).where(LetterRow.number == number, LetterRow.date == on)
        ).first()
        if row is not None:
            ids.append(row)
    return ids


def letter_brief(session: Session, letter_id: int) -> tuple[str, date] | None:
    """(number, date) of the letter `letter_id`, or None."""
    row = session.get(LetterRow, letter_id)
    return (row.number, row.date) if row is not None else None
