"""Domain objects of the correspondence record: letters, citations, receipt stamps, deadlines, agencies.

These are frozen pydantic value objects; the SQLModel tables in `models.tables` store them, and
`routing` reasons over them. Nothing here touches a database, Prefect or graphviz.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.numbering import LetterNumber, LetterNumberField
from models.thai import ThaiDate, ThaiTime


class Urgency(StrEnum):
    """Urgency class printed above the number (ชั้นความเร็ว). Absent means normal."""

    MOST_URGENT = "ด่วนที่สุด"
    VERY_URGENT = "ด่วนมาก"
    URGENT = "ด่วน"


class Level(StrEnum):
    """Where an agency sits in the hierarchy a circular travels down."""

    CABINET = "cabinet"
    CENTRAL = "central"  # central offices such as OPDC (สำนักงาน ก.พ.ร.)
    MINISTRY = "ministry"  # a ministry or its Permanent Secretary's office
    DEPARTMENT = "department"  # e.g. Department of Local Administration (กรมส่งเสริมการปกครองท้องถิ่น)
    PROVINCE = "province"
    DISTRICT = "district"
    LOCAL = "local"  # local bodies (องค์กรปกครองส่วนท้องถิ่น, อปท.)
    UNKNOWN = "unknown"


LEVEL_ORDER: tuple[Level, ...] = (
    Level.CABINET, Level.CENTRAL, Level.MINISTRY, Level.DEPARTMENT,
    Level.PROVINCE, Level.DISTRICT, Level.LOCAL, Level.UNKNOWN,
)  # fmt: skip


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceRef(_Frozen):
    """Where something was read: a file and a 1-based line number."""

    file: str
    line: int = Field(ge=1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class Agency(_Frozen):
    """A government agency (หน่วยงาน) that sends or receives letters.

    `id` is stable across runs: `opdc`, `moi`, `dla`, `province:50` (DOPA code),
    `district:5001`, `local:pao:50` ... `parent` is the superior agency escalations go to.
    """

    id: str
    name_th: str
    name_en: str = ""
    level: Level = Level.UNKNOWN
    parent: str | None = None
    codes: tuple[str, ...] = Field(default=(), description="letter-number code prefixes, e.g. 'มท 08', 'พร'")


class Citation(_Frozen):
    """A reference (อ้างถึง) or enclosure (สิ่งที่ส่งมาด้วย) naming an earlier letter."""

    number: LetterNumberField | None
    date: ThaiDate | None
    text: str = Field(description="the item as printed, lines joined")
    issuer: str | None = Field(default=None, description="the agency named before ที่, if any")
    source: SourceRef | None = None


class ReceiptStamp(_Frozen):
    """A receipt stamp (ตรารับ): receipt number (เลขรับ), date, time, registering agency."""

    number: str | None = Field(description="receipt number with its leading zeros, Arabic digits")
    date: ThaiDate | None
    time: ThaiTime | None = None
    agency: str | None = None
    source: SourceRef | None = None


class FieldStatus(StrEnum):
    """How one field of a letter was read."""

    READ = "read"  # as printed
    REPAIRED = "repaired"  # an OCR or layout slip undone (the note says which)
    PARTIAL = "partial"  # something was read, not all of it (a date without its year, a cut number)
    MISSING = "missing"  # nothing readable


class FieldReading(_Frozen):
    """How one field was read: its status, where, the raw text and a note.

    Fields read plainly carry no reading; a letter lists only what was repaired, partial or missing.
    `confidence` is the OCR engine's (0 to 1) for fields read off a scan.
    """

    field: str
    status: FieldStatus
    line: int | None = None
    raw: str | None = None
    note: str | None = None
    confidence: float | None = None


class Deadline(_Frozen):
    """A date in the body by which something must happen, or when a meeting is held."""

    date: ThaiDate
    time: ThaiTime | None = None
    kind: str = Field(default="due", description="'due' (ภายใน...) or 'meeting' (ประชุม...) or 'event'")
    text: str = ""
    source: SourceRef | None = None


class _LetterReading(_Frozen):
    """What reading a letter's lines gives: every part; a `Letter` needs its number and date."""

    number: LetterNumberField | None = None
    date: ThaiDate | None = None
    urgency: Urgency | None = None
    issuer: str | None = None
    address: str | None = None
    subject: str | None = None
    salutation: str | None = None
    addressees: tuple[str, ...] = ()
    references: tuple[Citation, ...] = ()
    enclosures: tuple[Citation, ...] = ()
    receipts: tuple[ReceiptStamp, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    signer: str | None = None
    signer_position: str | None = None
    owner_unit: str | None = None
    copies_to: tuple[str, ...] = ()
    source: SourceRef
    end_line: int | None = Field(default=None, description="last line of the letter in its file")
    text: str = Field(default="", description="the letter's lines as printed")
    readings: tuple[FieldReading, ...] = Field(
        default=(), description="fields not read plainly (repaired, partial, missing), with notes"
    )


class Letter(_LetterReading):
    """One official letter (หนังสือราชการ) as read from a file."""

    number: LetterNumberField
    date: ThaiDate

    @property
    def circular(self) -> bool:
        return self.number.circular


class UnreadLetter(_LetterReading):
    """A letter found in a file whose number or date could not be read: it goes to the review list.

    It carries everything else that was read, its readings (why the number or date is missing) and
    its source text, so a clerk can complete it (`saraban review set`) and it becomes a `Letter`.
    """

    reason: str = Field(description="why it needs review, e.g. 'number: not read'")

    @property
    def circular(self) -> bool | None:
        return self.number.circular if self.number else None

    def complete(self, number: LetterNumber, on: dt.date) -> Letter:
        """The letter once a person has supplied its number and date."""
        fields = self.model_dump(exclude={"number", "date", "reason"})
        fields["readings"] = tuple(r for r in self.readings if r.field not in ("number", "date"))
        return Letter.model_validate({**fields, "number": number, "date": on})


def _citation_json(c: Citation) -> dict[str, Any]:
    return {
        "number": c.number.canonical if c.number else None,
        "raw_number": c.number.raw if c.number else None,
        "date": c.date.isoformat() if c.date else None,
        "issuer": c.issuer,
        "text": c.text,
    }


def _time_json(t: time | None) -> str | None:
    return t.strftime("%H:%M") if t else None


def _date_json(d: date | None) -> str | None:
    return d.isoformat() if d else None


def reading_json(r: FieldReading) -> dict[str, Any]:
    out: dict[str, Any] = {"status": r.status.value, "line": r.line, "raw": r.raw, "note": r.note}
    if r.confidence is not None:
        out["confidence"] = round(r.confidence, 3)
    return out


def letter_to_json(letter: Letter | UnreadLetter) -> dict[str, Any]:
    """The JSON shape of `saraban parse --json` for one letter.

    Fields not read plainly are listed under `fields` (name -> status, line, raw, note); a letter
    whose number or date could not be read has `number` or `date` null and a `review` reason.
    """
    number = letter.number
    out: dict[str, Any] = {
        "number": number.canonical if number else None,
        "raw_number": number.raw if number else None,
        "ocr_repairs": list(number.ocr_repairs) if number else [],
        "circular": letter.circular,
        "date": _date_json(letter.date),
        "urgency": letter.urgency.value if letter.urgency else None,
        "issuer": letter.issuer,
        "address": letter.address,
        "subject": letter.subject,
        "salutation": letter.salutation,
        "addressees": list(letter.addressees),
        "references": [_citation_json(c) for c in letter.references],
        "enclosures": [_citation_json(c) for c in letter.enclosures],
        "receipts": [
            {
                "number": r.number,
                "date": _date_json(r.date),
                "time": _time_json(r.time),
                "agency": r.agency,
                "line": r.source.line if r.source else None,
            }
            for r in letter.receipts
        ],
        "deadlines": [
            {"date": d.date.isoformat(), "time": _time_json(d.time), "kind": d.kind, "text": d.text}
            for d in letter.deadlines
        ],
        "signer": letter.signer,
        "signer_position": letter.signer_position,
        "owner_unit": letter.owner_unit,
        "copies_to": list(letter.copies_to),
        "source": {"file": letter.source.file, "line": letter.source.line, "end_line": letter.end_line},
    }
    if letter.readings:
        out["fields"] = {r.field: reading_json(r) for r in letter.readings}
    if isinstance(letter, UnreadLetter):
        out["review"] = letter.reason
    return out
