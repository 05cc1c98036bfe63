"""Domain objects of the correspondence record: letters, citations, receipt stamps, deadlines, agencies.

These are frozen pydantic value objects; the SQLModel tables in `models.tables` store them, and
`routing` reasons over them. Nothing here touches a database, Prefect or graphviz.
"""

from __future__ import annotations

from datetime import date, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from models.numbering import LetterNumberField
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


class Deadline(_Frozen):
    """A date in the body by which something must happen, or when a meeting is held."""

    date: ThaiDate
    time: ThaiTime | None = None
    kind: str = Field(default="due", description="'due' (ภายใน...) or 'meeting' (ประชุม...) or 'event'")
    text: str = ""
    source: SourceRef | None = None


class Letter(_Frozen):
    """One official letter (หนังสือราชการ) as read from a file."""

    number: LetterNumberField
    date: ThaiDate
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

    @property
    def circular(self) -> bool:
        return self.number.circular


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


def letter_to_json(letter: Letter) -> dict[str, Any]:
    """The JSON shape of `saraban parse --json` for one letter."""
    return {
        "number": letter.number.canonical,
        "raw_number": letter.number.raw,
        "ocr_repairs": list(letter.number.ocr_repairs),
        "circular": letter.circular,
        "date": letter.date.isoformat(),
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
