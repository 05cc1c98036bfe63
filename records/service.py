"""The service layer: every change to the record goes through here and appends its event.

Ingest is idempotent and order-independent:

- a letter is identified by (canonical number, date); the same letter read from two files (a
  circular and its copy enclosed elsewhere) is one row, and later readings only fill gaps;
- a citation keeps what was printed (`cited_number`, `cited_date`) and resolves to a letter:
  an exact real letter, else the single real letter it matches under OCR tolerance
  (`routing.citations`), else a placeholder known only by citation. Whenever a real letter
  arrives, the citations of its code/owner/date are resolved again, so the result depends only
  on the set of letters ingested, not on the order;
- merges (printed aliases with their reasons) and printed variants are derived from those
  resolutions and kept in step with them;
- re-ingesting what is already known writes nothing and appends no event;
- an ingest that changed anything ends with an `ingest.file` event carrying the letters it read
  (their full JSON), which is what `records.audit.replay` re-ingests, the counts of its
  `ingest_log` row and, when there were any, its warnings (facts stored as read but flagged).

Functions take an open `Session` and never commit: the caller's `session_scope` is the
transaction, so a failure leaves the record as it was.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.letters import Agency, Citation, Letter, Level, UnreadLetter, Urgency
from models.numbering import LetterNumber, parse_letter_number
from models.tables import (
    INGEST_EVENT_SQL,
    AgencyRow,
    Circular,
    CitationRow,
    DeadlineRow,
    Dispatch,
    Event,
    Handoff,
    IngestLog,
    LetterRow,
    LetterTerm,
    LetterVariant,
    Merge,
    Receipt,
    ReviewItem,
    new_row,
)
from models.terms import letter_terms
from models.thai import bangkok_datetime, now_bangkok
from records.events import EVENTS_APPENDED, append_event, default_actor
from routing.agencies import recognise_number
from routing.chain import receipt_agency
from routing.citations import KnownLetter, ResolutionStatus, resolve_number, same_letter

# "differs": on file, and this reading differs in a field (reported, the recorded value kept);
# "held": not added, because a letter of the same number and year but another date is on file.
Status = Literal["added", "realised", "merged", "unchanged", "differs", "held"]


@dataclass
class LetterOutcome:
    """What ingest did with one letter."""

    number: str
    date: date
    status: Status
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        more = f" ({'; '.join(self.details)})" if self.details else ""
        return f"{self.status}: {self.number} of {self.date.isoformat()}{more}"


@dataclass(frozen=True)
class AliasChange:
    """A printed number merged into a letter while resolving citations (an OCR reading of it), or
    taken off it again (`removed`: no citation resolves that printing to it any more)."""

    alias: str
    kept: str
    kept_date: date
    reason: str
    removed: bool = False

    def __str__(self) -> str:
        kept = f"{self.kept} of {self.kept_date.isoformat()}"
        if self.removed:
            return f"unmerged: {self.alias} from {kept} (no citation resolves it there any more)"
        return f"merged: {self.alias} → {kept} ({self.reason})"


@dataclass
class IngestReport:
    """What one ingest of one file did, letter by letter, and the printings it merged.

    `warnings` are `FILE:LINE: field: message`: what the parser left out of the file (a body date
    that cannot be, a deadline counted from receipt), and facts stored as read but worth a look (a
    receipt stamped before the letter's date, an agency code nobody knows, a citation without a date).
    """

    file: str
    sha256: str
    letters: list[LetterOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    aliases: list[AliasChange] = field(default_factory=list)
    review: list[ReviewEntry] = field(default_factory=list)

    @property
    def to_review(self) -> list[ReviewEntry]:
        """The letters of the file still waiting for review (new ones and ones listed before)."""
        return [r for r in self.review if r.status == "open"]

    @property
    def added(self) -> int:
        return sum(1 for o in self.letters if o.status in ("added", "realised"))

    @property
    def merged(self) -> int:
        """Letters merged into one already on record, plus printings merged into a letter."""
        letters = sum(1 for o in self.letters if o.status == "merged")
        return letters + sum(1 for a in self.aliases if not a.removed)

    def warn(self, file: str | None, line: int | None, what: str, message: str) -> None:
        self.warnings.append(f"{file or self.file}:{line or 1}: {what}: {message}")

    def note_alias(self, change: AliasChange) -> None:
        """Record a merge or unmerge; one undone later in the same ingest cancels out."""
        key = (change.alias, change.kept, change.kept_date)
        for i, seen in enumerate(self.aliases):
            if (seen.alias, seen.kept, seen.kept_date) == key and seen.removed != change.removed:
                del self.aliases[i]
                return
        self.aliases.append(change)

    @property
    def unchanged(self) -> int:
        """Letters already on record left as they were (those whose reading differs included; the
        letters held for a possible date correction are in none of the counts)."""
        return sum(1 for o in self.letters if o.status in ("unchanged", "differs"))

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "added": self.added,
            "merged": self.merged,
            "unchanged": self.unchanged,
            "letters": [
                {"number": o.number, "date": o.date.isoformat(), "status": o.status, "details": o.details}
                for o in self.letters
            ],
            "aliases": [
                {
                    "alias": a.alias,
                    "kept": a.kept,
                    "kept_date": a.kept_date.isoformat(),
                    "reason": a.reason,
                    "removed": a.removed,
                }
                for a in self.aliases
            ],
            "warnings": self.warnings,
            "review": [r.to_json() for r in self.review],
        }


@dataclass(frozen=True)
class ReviewEntry:
    """A letter of the file whose number or date could not be read: its item on the review list."""

    id: int
    file: str
    line: int
    reason: str
    status: str = "open"
    new: bool = True

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
            "status": self.status,
            "new": self.new,
        }


class ReadingNote(NamedTuple):
    """A warning of the ingest that read a letter: its line in the letter's file, and what it says."""

    line: int
    text: str  # "field: message"


def reading_notes(session: Session, letter: LetterRow) -> list[ReadingNote]:
    """What reading the letter's file flagged about this letter: the `warnings` of the file's
    `ingest.file` events that fall within the letter's lines, first seen first.

    A file may hold several letters; each owns the lines after the previous one's last line up to
    its own last line (`Letter.end_line`, as the event recorded it), the stamps above its number
    included. Found through the partial index of ingest events (`ix_event_ingest_subject`)."""
    if letter.known_only_by_citation or not letter.source_file:
        return []
    events = (
        select(Event.payload)
        .where(Event.subject == letter.source_file, sa.text(INGEST_EVENT_SQL))
        .order_by(col(Event.seq))
    )
    prefix = f"{letter.source_file}:"
    notes: dict[ReadingNote, None] = {}
    for payload in session.exec(events):
        data = json.loads(payload)
        read = data.get("letters") or []
        ends = [item.get("end_line") or item["source"]["line"] for item in read]
        for warning in data.get("warnings") or ():
            line_text, _, text = warning.removeprefix(prefix).partition(": ")
            if not warning.startswith(prefix) or not line_text.isdigit() or not read:
                continue
            line = int(line_text)
            owner = next((k for k, end in enumerate(ends) if line <= end), len(read) - 1)
            if read[owner]["source"]["line"] == letter.source_line:
                notes[ReadingNote(line, text)] = None
    return list(notes)


# --- agencies ---------------------------------------------------------------------------------


def _agency_fields(agency: Agency) -> dict[str, Any]:
    return {
        "id": agency.id,
        "name_th": agency.name_th,
        "name_en": agency.name_en,
        "level": agency.level.value,
        "parent_id": agency.parent,
    }


def ensure_agency(session: Session, agency: Agency, *, actor: str | None = None) -> AgencyRow:
    """The agency's row, created (with an `agency.added` event) if missing; never overwritten."""
    row = session.get(AgencyRow, agency.id)
    if row is not None:
        return row
    row = new_row(AgencyRow, **_agency_fields(agency))
    session.add(row)
    session.flush()
    append_event(session, "agency.added", agency.id, _agency_fields(agency), actor=actor)
    return row


def upsert_agency(session: Session, agency: Agency, *, actor: str | None = None) -> AgencyRow:
    """Create the agency, or update its stored name, level and parent to `agency`'s."""
    row = session.get(AgencyRow, agency.id)
    if row is None:
        return ensure_agency(session, agency, actor=actor)
    wanted = _agency_fields(agency)
    changes = {k: v for k, v in wanted.items() if getattr(row, k) != v}
    if not changes:
        return row
    before = {k: getattr(row, k) for k in changes}
    new_row(AgencyRow, **wanted)  # validates
    for key, value in changes.items():
        setattr(row, key, value)
    session.flush()
    append_event(session, "agency.updated", agency.id, {"before": before, "after": changes}, actor=actor)
    return row


# --- letters ----------------------------------------------------------------------------------


def _on_day(query: SelectOfScalar[LetterRow], on: date | None, year: int | None) -> SelectOfScalar[LetterRow]:
    if on is not None:
        query = query.where(col(LetterRow.date) == on)
    if year is not None:
        query = query.where(
            col(LetterRow.date) >= date(year, 1, 1), col(LetterRow.date) <= date(year, 12, 31)
        )
    return query


def find_letter(
    session: Session, number: str, on: date | None = None, *, year: int | None = None
) -> LetterRow | None:
    """The letter stored under a canonical number (and date or year, when numbers repeat across
    years); the latest of them when several fit. `find_letters` lists them all."""
    rows = find_letters(session, number, on, year=year)
    return rows[-1] if rows else None


def find_letters(
    session: Session, number: str, on: date | None = None, *, year: int | None = None
) -> list[LetterRow]:
    """Every letter stored under a canonical number, oldest first, optionally of one date or year
    (Gregorian). Running numbers restart each calendar year, so a number alone may name several."""
    query = _on_day(select(LetterRow).where(LetterRow.number == number), on, year)
    return list(session.exec(query.order_by(col(LetterRow.date))))


def _printed_forms(printed: str) -> list[str]:
    return list(
        dict.fromkeys(
            [parse_letter_number(printed).canonical, parse_letter_number(printed, repair=False).canonical]
        )
    )


def lookup_letter(
    session: Session, printed: str, on: date | None = None, *, year: int | None = None
) -> LetterRow | None:
    """The letter a printed number names: its own number, or a merged alias (any spelling); with
    `on` or `year`, only a letter of that date or year. The latest one when several letters share
    the number: `lookup_letters` lists them all, for callers that must not guess.

    Accepts Thai or Arabic digits, `ว.`, spaces, and OCR forms like `นร ๑๒๐๐/ ๖๐๐๑๓`.
    """
    forms = _printed_forms(printed)
    for form in forms:
        row = find_letter(session, form, on, year=year)
        if row is not None:
            return row
    for form in forms:
        merged = session.exec(_merged_into(form, on, year).order_by(col(Merge.id))).first()
        if merged is not None:
            return merged
    return None


def _merged_into(alias: str, on: date | None, year: int | None) -> SelectOfScalar[LetterRow]:
    """The letters `alias` was merged into (of that day or year, when given)."""
    query = (
        select(LetterRow)
        .join(Merge, col(Merge.kept_letter_id) == col(LetterRow.id))
        .where(Merge.alias == alias)
    )
    return _on_day(query, on, year)


def lookup_letters(
    session: Session, printed: str, on: date | None = None, *, year: int | None = None
) -> list[LetterRow]:
    """Every letter a printed number may name, oldest first: the letters numbered so (read as
    printed, else with its OCR repair undone) and the letters it is a merged alias of, optionally
    of one date or Gregorian year. More than one means the caller must ask which.

    Raises ValueError when `printed` is not a letter number.
    """
    forms = _printed_forms(printed)
    found: dict[int | None, LetterRow] = {}
    for form in forms:
        own = find_letters(session, form, on, year=year)
        if own:
            found.update((r.id, r) for r in own)
            break
    for form in forms:
        found.update((r.id, r) for r in session.exec(_merged_into(form, on, year)))
    return sorted(found.values(), key=lambda r: (r.date, r.number))


def _number(canonical: str) -> LetterNumber:
    return parse_letter_number(canonical, repair=False)


def _letter_fields(letter: Letter, issuer: Agency) -> dict[str, Any]:
    return {
        "number": letter.number.canonical,
        "date": letter.date,
        "circular": letter.circular,
        "urgency": letter.urgency.value if letter.urgency else None,
        "issuer_id": issuer.id,
        "issuer_name": letter.issuer,
        "subject": letter.subject,
        "salutation": letter.salutation,
        "signer": letter.signer,
        "signer_position": letter.signer_position,
        "owner_unit": letter.owner_unit,
        "source_file": letter.source.file,
        "source_line": letter.source.line,
        "source_text": letter.text or None,
    }


def _seen_in(file: str | None, line: int | None) -> str:
    return f"{file or '?'}:{line or 0}"


def _ingest_letter(session: Session, letter: Letter, actor: str, report: IngestReport) -> LetterOutcome:
    issuer = recognise_number(letter.number)
    ensure_agency(session, issuer, actor=actor)
    number = letter.number.canonical
    fields = _letter_fields(letter, issuer)
    row = session.exec(
        select(LetterRow).where(LetterRow.number == number, LetterRow.date == letter.date)
    ).first()
    details: list[str] = []
    status: Status
    if row is None or row.known_only_by_citation:
        held = _held(session, letter)
        if held is not None:
            report.warn(letter.source.file, letter.source.line, "date", held)
            return LetterOutcome(number, letter.date, "held", [held])
    differences: list[str] = []
    filled: list[str] = []
    if row is None:
        row = new_row(LetterRow, **fields, known_only_by_citation=False)
        session.add(row)
        session.flush()
        status = "added"
    elif row.known_only_by_citation:
        new_row(LetterRow, **fields)  # validates
        for key, value in fields.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
        row.known_only_by_citation = False
        session.flush()
        status = "realised"
    else:
        # The same letter read again (another file, an enclosed copy): fill gaps, keep what we have,
        # and say where this reading differs (a correction must go through `correct_letter`).
        differences = _differences(row, fields)
        filled = [k for k, v in fields.items() if v is not None and getattr(row, k) is None]
        for key in filled:
            setattr(row, key, fields[key])
        if filled:
            details.append("filled " + ", ".join(filled))
        session.flush()
        status = "unchanged"
    assert row.id is not None
    _changes(session).letters.add(row.id)
    added = _add_variant(
        session, row.id, number, letter.number.raw, _seen_in(letter.source.file, letter.source.line)
    )
    if added and status == "unchanged":
        details.append(f"new printing {letter.number.raw}")
    if status in ("added", "realised") and issuer.level is Level.UNKNOWN:
        report.warn(letter.source.file, letter.source.line, "number", _unknown_code(letter.number, issuer))
    details += _add_receipts(session, row, letter, report)
    details += _add_deadlines(session, row, letter)
    details += _add_citations(session, row, letter, actor, report)

    if status == "added":
        append_event(session, "letter.added", number, _letter_payload(row, letter), actor=actor)
    elif status == "realised":
        append_event(session, "letter.realised", number, _letter_payload(row, letter), actor=actor)
    elif details:
        status = "merged"
        append_event(
            session,
            "letter.merged",
            number,
            {
                "date": row.date.isoformat(),
                "file": letter.source.file,
                "line": letter.source.line,
                "added": details,
            },
            actor=actor,
        )
    _sync_derived(session, row, actor, report)
    if status in ("added", "realised") or {"subject", "issuer_name", "source_text"} & set(filled):
        index_terms(session, row)
    reresolve(session, letter.number, letter.date, actor=actor, report=report)
    shown = details if status == "merged" else []
    if differences:
        status = "differs" if status == "unchanged" else status
        shown = [*shown, "changed on re-reading: " + "; ".join(differences)
                 + "; kept the recorded value, use `saraban letter correct` to change it"]  # fmt: skip
    return LetterOutcome(number, letter.date, status, shown)


# Fields a reading may differ in and `correct_letter` may change: name on the command line -> column.
CORRECTABLE = {"subject": "subject", "issuer": "issuer_name", "urgency": "urgency", "salutation": "salutation",
               "signer": "signer", "signer_position": "signer_position", "date": "date"}  # fmt: skip


def _same_text(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return " ".join(a.split()) == " ".join(b.split())  # a line broken elsewhere is the same text
    return bool(a == b)


def _differences(row: LetterRow, fields: dict[str, Any]) -> list[str]:
    """`subject 'A' -> 'B'` for each field both the record and this reading have, and differ in."""
    return [
        f"{name} {getattr(row, column)!r} -> {fields[column]!r}"
        for name, column in CORRECTABLE.items()
        if column in fields
        and fields[column] is not None
        and getattr(row, column) is not None
        and not _same_text(getattr(row, column), fields[column])
    ]


def _held(session: Session, letter: Letter) -> str | None:
    """Why `letter` is not added, when a letter of the same number and year but another date is on
    file: running numbers restart each year per registry, so that is almost certainly the same
    letter with its date read (or printed) differently; a person decides, with `letter correct`."""
    number = letter.number.canonical
    others = [
        r
        for r in find_letters(session, number, year=letter.date.year)
        if r.date != letter.date and not r.known_only_by_citation
    ]
    if not others:
        return None
    other = others[0]
    return (
        f"{number} of {letter.date.isoformat()} not added: {number} of {other.date.isoformat()} is on file,"
        f" and a running number names one letter a year: probably the same letter with a corrected date."
        f" If {letter.date.isoformat()} is right: saraban letter correct '{number}' --date"
        f" {other.date.isoformat()} --field date --value {letter.date.isoformat()} --reason '...',"
        f" then ingest this file again"
    )


def _letter_payload(row: LetterRow, letter: Letter) -> dict[str, Any]:
    return {
        "date": row.date.isoformat(),
        "file": letter.source.file,
        "line": letter.source.line,
        "issuer": row.issuer_id,
        "references": len(letter.references),
        "enclosures": len(letter.enclosures),
        "receipts": len(letter.receipts),
        "deadlines": len(letter.deadlines),
    }


def index_terms(session: Session, row: LetterRow) -> None:
    """Bring the letter's search terms (`letter_term`, what `records.search` finds it by) in line
    with its subject, issuer and body: a derived index, written with the letter, no event of its own."""
    assert row.id is not None
    wanted = letter_terms(row.subject, row.issuer_name, row.source_text)
    have = set(session.exec(select(LetterTerm.term).where(LetterTerm.letter_id == row.id)))
    gone = have - wanted
    if gone:
        session.execute(
            sa.delete(LetterTerm).where(col(LetterTerm.letter_id) == row.id, col(LetterTerm.term).in_(gone))
        )
    if wanted - have:
        # One multi-row INSERT: `models.terms` makes every term 2 to 64 characters, as the table asks.
        new = [{"letter_id": row.id, "term": term} for term in sorted(wanted - have)]
        session.execute(sa.insert(LetterTerm), new)


def _add_variant(session: Session, letter_id: int, printed: str, raw: str, seen_in: str) -> bool:
    exists = session.exec(
        select(LetterVariant).where(LetterVariant.letter_id == letter_id, LetterVariant.printed == printed)
    ).first()
    if exists is not None:
        return False
    session.add(new_row(LetterVariant, letter_id=letter_id, printed=printed, raw=raw, seen_in=seen_in))
    session.flush()
    return True


def _unknown_code(number: LetterNumber, issuer: Agency) -> str:
    return (
        f"unknown agency code {number.code!r} in {number.canonical}: kept, issuer recorded as"
        f" {issuer.name_th!r} ({issuer.id})"
    )


def _add_receipts(session: Session, row: LetterRow, letter: Letter, report: IngestReport) -> list[str]:
    assert row.id is not None
    existing = {
        (r.registry, r.number, r.date)
        for r in session.exec(select(Receipt).where(Receipt.letter_id == row.id))
    }
    added: list[str] = []
    for stamp in letter.receipts:
        agency = receipt_agency(stamp, letter)
        if agency is not None:
            ensure_agency(session, agency)
        registry = (stamp.agency or "").strip() or (agency.id if agency else "unknown")
        key = (registry, stamp.number, stamp.date)
        if key in existing:
            continue
        existing.add(key)
        where = stamp.source or letter.source
        if stamp.date is not None and stamp.date < row.date:
            # A clerk's command refuses this (a typo); OCR'd text is evidence as read: keep, flag.
            report.warn(
                where.file,
                where.line,
                "receipt",
                f"receipt date {stamp.date.isoformat()} is before the date of letter {row.number}"
                f" ({row.date.isoformat()}); kept as read",
            )
        session.add(
            new_row(
                Receipt,
                letter_id=row.id,
                agency_id=agency.id if agency else None,
                registry=registry,
                number=stamp.number,
                year=stamp.date.year if stamp.date else None,
                date=stamp.date,
                time=stamp.time,
                received_at=bangkok_datetime(stamp.date, stamp.time) if stamp.date and stamp.time else None,
                source="ocr",
                source_file=stamp.source.file if stamp.source else letter.source.file,
                source_line=stamp.source.line if stamp.source else None,
            )
        )
        added.append(f"receipt {stamp.number or '(machine)'} at {registry}")
    session.flush()
    return added


def _add_deadlines(session: Session, row: LetterRow, letter: Letter) -> list[str]:
    assert row.id is not None
    existing = {
        (d.date, d.time, d.kind, d.text)
        for d in session.exec(select(DeadlineRow).where(DeadlineRow.letter_id == row.id))
    }
    added: list[str] = []
    for d in letter.deadlines:
        key = (d.date, d.time, d.kind, d.text)
        if key in existing:
            continue
        existing.add(key)
        session.add(
            new_row(DeadlineRow, letter_id=row.id, date=d.date, time=d.time, kind=d.kind, text=d.text)
        )
        added.append(f"{d.kind} {d.date.isoformat()}")
    session.flush()
    return added


def _citations_of(letter: Letter) -> Iterable[tuple[int, Citation, str]]:
    for i, c in enumerate(letter.references, start=1):
        yield i, c, "references"
    for i, c in enumerate(letter.enclosures, start=1):
        yield i, c, "encloses"


def _add_citations(
    session: Session, row: LetterRow, letter: Letter, actor: str, report: IngestReport
) -> list[str]:
    assert row.id is not None
    existing = list(session.exec(select(CitationRow).where(CitationRow.citing_letter_id == row.id)))
    facts = {(c.kind, c.cited_number, c.cited_date) for c in existing}
    targets = {(c.kind, c.cited_letter_id) for c in existing}
    added: list[str] = []
    for position, citation, kind in _citations_of(letter):
        line = _line(citation, letter)
        if citation.number is None or citation.date is None:
            report.warn(
                letter.source.file,
                line,
                kind,
                f"{letter.number.canonical}: item {position} has no letter number and date, not linked"
                f" ({citation.text[:60]!r})",
            )
            continue
        cited = citation.number.canonical
        if (kind, cited, citation.date) in facts:
            continue
        if cited == row.number and citation.date == row.date:
            report.warn(
                letter.source.file, line, kind, f"{row.number} cites itself (item {position}), ignored"
            )
            continue
        target = _target(session, citation.number, citation.date, actor, cited_by=row, line=line)
        assert target.id is not None
        if (kind, target.id) in targets:
            report.warn(
                letter.source.file,
                line,
                kind,
                f"{row.number}: items name {target.number} twice (as {cited}); the first is kept",
            )
            continue
        cited_issuer = recognise_number(citation.number)
        if cited_issuer.level is Level.UNKNOWN:
            report.warn(letter.source.file, line, kind, _unknown_code(citation.number, cited_issuer))
        facts.add((kind, cited, citation.date))
        targets.add((kind, target.id))
        session.add(
            new_row(
                CitationRow,
                citing_letter_id=row.id,
                cited_letter_id=target.id,
                kind=kind,
                position=position,
                text=citation.text,
                source_line=line,
                cited_number=cited,
                cited_raw=citation.number.raw,
                cited_date=citation.date,
            )
        )
        session.flush()
        changes = _changes(session)
        changes.letters.update((row.id, target.id))
        changes.edges.append((row.id, target.id))
        _derive_from_citation(
            session, target, cited, citation.number.raw, row.source_file, line, actor, report
        )
        added.append(f"{kind} {cited}")
    return added


def _line(citation: Citation, letter: Letter) -> int:
    return citation.source.line if citation.source else letter.source.line


def _real_candidates(session: Session, number: LetterNumber, on: date) -> list[LetterRow]:
    prefix = f"{number.code} {number.owner}/"
    query = select(LetterRow).where(
        LetterRow.date == on,
        col(LetterRow.number).startswith(prefix, autoescape=True),
        col(LetterRow.known_only_by_citation).is_(False),
    )
    return list(session.exec(query.order_by(col(LetterRow.number))))


def _resolve(
    session: Session, number: LetterNumber, on: date, candidates: Sequence[LetterRow] | None = None
) -> tuple[LetterRow | None, ResolutionStatus, list[str]]:
    """The real letter `number` of `on` names, if exactly one fits. `candidates` are the real
    letters of that code, owner and date when the caller has them already."""
    found = _real_candidates(session, number, on) if candidates is None else candidates
    reals = {r.id: r for r in found}
    known = [KnownLetter(r.id, _number(r.number), r.date) for r in reals.values()]
    resolution = resolve_number(number, on, known)
    if resolution.match is not None:
        return reals[resolution.match.key], resolution.status, []  # type: ignore[index]
    return None, resolution.status, [c.number.canonical for c in resolution.candidates]


def _target(
    session: Session, number: LetterNumber, on: date, actor: str, *, cited_by: LetterRow, line: int
) -> LetterRow:
    """The letter a citation resolves to, creating its placeholder when no real letter fits."""
    row, status, candidates = _resolve(session, number, on)
    if row is not None:
        return row
    if status is ResolutionStatus.AMBIGUOUS:
        append_event(
            session,
            "citation.ambiguous",
            number.canonical,
            {"date": on.isoformat(), "cited_by": cited_by.number, "candidates": candidates},
            actor=actor,
        )
    return _placeholder(session, number, on, actor, cited_by=cited_by, line=line)


def _placeholder(
    session: Session, number: LetterNumber, on: date, actor: str, *, cited_by: LetterRow, line: int
) -> LetterRow:
    existing = session.exec(
        select(LetterRow).where(LetterRow.number == number.canonical, LetterRow.date == on)
    ).first()
    if existing is not None:
        return existing
    issuer = recognise_number(number)
    ensure_agency(session, issuer, actor=actor)
    row = new_row(
        LetterRow,
        number=number.canonical,
        date=on,
        circular=number.circular,
        issuer_id=issuer.id,
        known_only_by_citation=True,
        source_file=cited_by.source_file,
        source_line=line,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        "letter.placeholder",
        number.canonical,
        {"date": on.isoformat(), "cited_by": cited_by.number, "issuer": issuer.id},
        actor=actor,
    )
    return row


def reresolve(
    session: Session,
    number: LetterNumber,
    on: date,
    *,
    actor: str | None = None,
    report: IngestReport | None = None,
) -> int:
    """Resolve again every citation that could name a letter with this code, owner and date.

    Called whenever a real letter appears; repoints citations (an exact or tolerant match beats a
    placeholder; a second real candidate makes a tolerant match ambiguous), drops placeholders no
    longer cited, and keeps variants and merges in step. Returns how many citations moved.
    """
    who = actor or default_actor()
    prefix = f"{number.code} {number.owner}/"
    citations = list(
        session.exec(
            select(CitationRow)
            .where(
                CitationRow.cited_date == on,
                col(CitationRow.cited_number).startswith(prefix, autoescape=True),
            )
            .order_by(col(CitationRow.id))
        )
    )
    moved = 0
    touched: dict[int, LetterRow] = {}
    # Every citation found shares the code, owner and date: the same real letters compete for all.
    reals = _real_candidates(session, number, on) if citations else []
    for citation in citations:
        cited = _number(citation.cited_number)
        row, _status, _ = _resolve(session, cited, on, reals)
        current = session.get(LetterRow, citation.cited_letter_id)
        assert current is not None
        if row is None:
            # No real letter fits: the citation belongs on the placeholder of its own number.
            if current.known_only_by_citation and current.number == citation.cited_number:
                continue
            citing = session.get(LetterRow, citation.citing_letter_id)
            assert citing is not None
            row = _placeholder(session, cited, on, who, cited_by=citing, line=citation.source_line or 1)
        if row.id == current.id:
            continue
        assert row.id is not None and current.id is not None
        clash = session.exec(
            select(CitationRow).where(
                CitationRow.citing_letter_id == citation.citing_letter_id,
                CitationRow.cited_letter_id == row.id,
                CitationRow.kind == citation.kind,
            )
        ).first()
        payload = {
            "date": on.isoformat(),
            "citing_letter_id": citation.citing_letter_id,
            "kind": citation.kind,
            "from": current.number,
            "to": row.number,
        }
        if clash is not None:
            # The citing letter already names that letter the same way under another printing.
            session.delete(citation)
            append_event(session, "citation.dropped_duplicate", citation.cited_number, payload, actor=who)
        else:
            citation.cited_letter_id = row.id
            append_event(session, "citation.resolved", citation.cited_number, payload, actor=who)
        session.flush()
        moved += 1
        touched[current.id] = current
        touched[row.id] = row
        # An edge moved away from `current`: its circular may fall apart (see `assign_circulars_of`).
        changes = _changes(session)
        changes.letters.update((current.id, row.id, citation.citing_letter_id))
        changes.split = True
    for letter in touched.values():
        _sync_derived(session, letter, who, report)
    return moved


def _sync_derived(session: Session, row: LetterRow, actor: str, report: IngestReport | None = None) -> None:
    """Bring a letter's variants and merges in line with the citations that resolve to it;
    delete it if it is a placeholder nothing cites any more. Merges made or undone go to `report`."""
    assert row.id is not None
    cited_by_files = list(
        session.exec(
            select(CitationRow, LetterRow.source_file)
            .join(LetterRow, col(LetterRow.id) == col(CitationRow.citing_letter_id))
            .where(CitationRow.cited_letter_id == row.id)
            .order_by(col(CitationRow.id))
        )
    )
    cited_by = [c for c, _ in cited_by_files]
    if row.known_only_by_citation and not cited_by:
        changes = _changes(session)
        changes.split = True
        if row.circular_id is not None:
            changes.gone.add(row.circular_id)
        for variant in session.exec(select(LetterVariant).where(LetterVariant.letter_id == row.id)):
            session.delete(variant)
        for merge in session.exec(select(Merge).where(Merge.kept_letter_id == row.id)):
            if report is not None:
                report.note_alias(AliasChange(merge.alias, row.number, row.date, merge.reason, removed=True))
            session.delete(merge)
        session.flush()
        session.delete(row)
        session.flush()
        append_event(
            session, "letter.placeholder_removed", row.number, {"date": row.date.isoformat()}, actor=actor
        )
        return

    variants = {
        v.printed: v for v in session.exec(select(LetterVariant).where(LetterVariant.letter_id == row.id))
    }
    wanted_variants: dict[str, tuple[str, str]] = {}
    own = variants.get(row.number)
    raws: list[str] = [own.raw] if own is not None else []
    for c, citing_file in cited_by_files:
        wanted_variants.setdefault(c.cited_number, (c.cited_raw, _seen_in(citing_file, c.source_line)))
        raws.append(c.cited_raw)
    for printed, variant in variants.items():
        if printed != row.number and printed not in wanted_variants:
            session.delete(variant)
    for printed, (raw, seen_in) in wanted_variants.items():
        if printed not in variants:
            session.add(new_row(LetterVariant, letter_id=row.id, printed=printed, raw=raw, seen_in=seen_in))
    session.flush()

    aliases: dict[str, str] = {}
    mine = _number(row.number)
    for form in [c.cited_number for c in cited_by] + [_unrepaired(raw) for raw in raws if raw]:
        if form is None or form == row.number or form in aliases:
            continue
        reason = same_letter(_number(form), row.date, mine, row.date)
        aliases[form] = str(reason) if reason else "resolved to this letter"
    merges = {m.alias: m for m in session.exec(select(Merge).where(Merge.kept_letter_id == row.id))}
    for alias, merge in merges.items():
        if alias not in aliases:
            if report is not None:
                report.note_alias(AliasChange(alias, row.number, row.date, merge.reason, removed=True))
            session.delete(merge)
            session.flush()
            append_event(
                session,
                "letter.alias_removed",
                row.number,
                {"date": row.date.isoformat(), "alias": alias},
                actor=actor,
            )
    for alias, why in sorted(aliases.items()):
        if alias not in merges:
            _merge_alias(session, row, alias, why, actor, report)


def _merge_alias(
    session: Session, row: LetterRow, alias: str, why: str, actor: str, report: IngestReport | None
) -> None:
    """Record `alias` as another printing of `row` (a Merge row, the report's note, the event)."""
    session.add(new_row(Merge, kept_letter_id=row.id, alias=alias, reason=why, made_at=now_bangkok()))
    session.flush()
    if report is not None:
        report.note_alias(AliasChange(alias, row.number, row.date, why))
    append_event(
        session,
        "letter.alias_merged",
        row.number,
        {"date": row.date.isoformat(), "alias": alias, "reason": why},
        actor=actor,
    )


def _derive_from_citation(
    session: Session,
    row: LetterRow,
    printed: str,
    raw: str,
    citing_file: str | None,
    line: int | None,
    actor: str,
    report: IngestReport | None,
) -> None:
    """What one new citation of `row` (printed `printed`, raw `raw`) adds to its variants and
    merges: the same as `_sync_derived` would, without reading the letter's other citations,
    which are in step already (a citation added only adds; moves and drops go through
    `_sync_derived`). Keeps the cost of a citation independent of how often the letter is cited."""
    assert row.id is not None
    exists = session.exec(
        select(LetterVariant.id).where(LetterVariant.letter_id == row.id, LetterVariant.printed == printed)
    ).first()
    if exists is None:
        session.add(
            new_row(
                LetterVariant, letter_id=row.id, printed=printed, raw=raw, seen_in=_seen_in(citing_file, line)
            )
        )
        session.flush()
    mine = _number(row.number)
    forms = {f for f in (printed, _unrepaired(raw) if raw else None) if f is not None and f != row.number}
    for alias in sorted(forms):
        merged = session.exec(
            select(Merge.id).where(Merge.kept_letter_id == row.id, Merge.alias == alias)
        ).first()
        if merged is not None:
            continue
        reason = same_letter(_number(alias), row.date, mine, row.date)
        _merge_alias(session, row, alias, str(reason) if reason else "resolved to this letter", actor, report)


def _unrepaired(raw: str) -> str | None:
    """The canonical form of `raw` as printed, without undoing OCR slips (None if unreadable)."""
    try:
        return parse_letter_number(raw, repair=False).canonical
    except ValueError:
        return None


# --- circulars --------------------------------------------------------------------------------

_CHANGES = "saraban.citation_graph_changes"
_IN_CHUNK = 500  # ids per `IN (...)` list: well under SQLite's and psycopg's parameter limits


@dataclass
class _GraphChanges:
    """What the transaction changed in the citation graph, for `assign_circulars_of` (kept in
    `session.info` by the writers above): letters added or touched, citations added (citing, cited),
    circulars of deleted placeholders, and whether an edge was moved or deleted (`split`: a
    circular may then fall apart, which only a look at all of its letters can tell)."""

    letters: set[int] = field(default_factory=set)
    edges: list[tuple[int, int]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)
    split: bool = False


def _changes(session: Session) -> _GraphChanges:
    changes = session.info.get(_CHANGES)
    if changes is None:
        changes = session.info[_CHANGES] = _GraphChanges()
    return changes


def circular_id_for(number: str, on: date) -> str:
    """The id of the circular a root letter names: year, then the number without spaces or slashes
    (`records.chain.circular_slug` spells it the same way).

    >>> circular_id_for("พร 0023.1/ว 3026", date(2020, 6, 23))
    '2020-พร-0023.1-ว-3026'
    """
    return f"{on.year}-" + re.sub(r"[\s/]+", "-", number.strip())


def _chunks(ids: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(ids)
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _letters_where(session: Session, column: Any, values: Iterable[Any]) -> list[LetterRow]:
    rows: list[LetterRow] = []
    for chunk in _chunks(values):
        rows += session.exec(select(LetterRow).where(col(column).in_(chunk)))
    return rows


class _Group:
    """Letters that end up in one circular: those loaded, and the circulars they were in."""

    def __init__(self) -> None:
        self.rows: dict[int, LetterRow] = {}
        self.circulars: set[str] = set()


def _groups(session: Session, changes: _GraphChanges) -> tuple[list[_Group], set[str]]:
    """The connected groups of the changed letters, and every circular they were in.

    Without a split, citations were only added, so components only merge: a letter's group is
    its own, joined by the new citations and by the circular each touched letter is in (a circular
    stands for all its letters, which are not read). With one, every letter of the circulars
    involved is read with the citations among them, and the components are computed afresh."""
    rows = {r.id: r for r in _letters_where(session, LetterRow.id, changes.letters) if r.id is not None}
    involved = set(changes.gone) | {r.circular_id for r in rows.values() if r.circular_id}
    parent: dict[Any, Any] = {}

    def find(x: Any) -> Any:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: Any, b: Any) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    if changes.split:
        read: set[str] = set()
        while involved - read:
            new = involved - read
            read |= new
            for r in _letters_where(session, LetterRow.circular_id, new):
                rows.setdefault(r.id, r)  # type: ignore[arg-type]
            edges = _edges_of(session, set(rows))
            missing = {i for edge in edges for i in edge} - set(rows)
            for r in _letters_where(session, LetterRow.id, missing):
                rows[r.id] = r  # type: ignore[index]
                if r.circular_id:
                    involved.add(r.circular_id)
        for a, b in _edges_of(session, set(rows)):
            union(a, b)
    else:
        for r in rows.values():
            if r.circular_id:
                union(r.id, ("circular", r.circular_id))
        for a, b in changes.edges:
            union(a, b)
    groups: dict[Any, _Group] = {}
    for letter_id, r in rows.items():
        group = groups.setdefault(find(letter_id), _Group())
        group.rows[letter_id] = r
        if r.circular_id:
            group.circulars.add(r.circular_id)
    return list(groups.values()), involved


def _edges_of(session: Session, ids: set[int]) -> set[tuple[int, int]]:
    edges: set[tuple[int, int]] = set()
    for chunk in _chunks(ids):
        for column in (CitationRow.citing_letter_id, CitationRow.cited_letter_id):
            query = select(CitationRow.citing_letter_id, CitationRow.cited_letter_id).where(
                col(column).in_(chunk)
            )
            edges.update((a, b) for a, b in session.exec(query))
    return edges


def remove_circular(
    session: Session, circular: Circular, home_of: Callable[[int | None], str | None], *, actor: str
) -> None:
    """Drop `circular`, whose letters now belong to a bigger cascade: its dispatches and handoffs
    move to the circular of its root letter (else of their own letter, `home_of`), then it goes,
    logged (circular.removed)."""
    slug = circular.id
    into = home_of(circular.root_letter_id)
    for dispatch in session.exec(select(Dispatch).where(Dispatch.circular_id == slug)):
        dispatch.circular_id = into or home_of(dispatch.letter_id) or slug
    for handoff in session.exec(select(Handoff).where(Handoff.circular_id == slug)):
        dispatch_row = session.get(Dispatch, handoff.dispatch_id)
        handoff.circular_id = dispatch_row.circular_id if dispatch_row else (into or slug)
    session.flush()
    session.delete(circular)
    session.flush()
    append_event(session, "circular.removed", slug, {"into": into}, actor=actor)


def save_circular(
    session: Session,
    circular: Circular | None,
    slug: str,
    root: LetterRow,
    members: list[LetterRow],
    *,
    actor: str,
) -> None:
    """Circular `slug` rooted at `root` with `members`: created, or its root and title updated, and
    its members moved into it; each change logged (circular.created / updated / members_added)."""
    title = root.subject or ""
    if circular is None:
        session.add(
            new_row(
                Circular,
                id=slug,
                title=title,
                root_letter_id=root.id,
                status="open",
                created_at=now_bangkok(),
            )
        )
        session.flush()
        members_json = {"root": root.number, "members": sorted(m.number for m in members)}
        append_event(session, "circular.created", slug, members_json, actor=actor)
    elif circular.root_letter_id != root.id or circular.title != title:
        circular.root_letter_id, circular.title = root.id, title
        session.flush()
        append_event(session, "circular.updated", slug, {"root": root.number, "title": title}, actor=actor)
    moved = sorted(m.number for m in members if m.circular_id != slug)
    for member in members:
        if member.circular_id != slug:
            member.circular_id = slug
    if moved and circular is not None:
        append_event(session, "circular.members_added", slug, {"letters": moved}, actor=actor)
    session.flush()


def assign_circulars_of(session: Session, *, actor: str | None = None) -> None:
    """Bring the circulars of the letters this transaction changed up to date; write (and log)
    only what changed, exactly as `records.chain.assign_circulars` would over the whole record.

    A circular is a component of the citation graph named after its earliest real letter. The
    cost follows what the new letters connect to: a letter joining a circular reads the circular's
    row and its root, not its letters; only circulars that merge, get a new root or may fall apart
    (a citation moved to another letter) are read in full."""
    changes: _GraphChanges | None = session.info.pop(_CHANGES, None)
    if changes is None or not changes.letters:
        return
    who = actor or default_actor()
    groups, involved = _groups(session, changes)
    existing = {c.id: c for c in session.exec(select(Circular).where(col(Circular.id).in_(sorted(involved))))}
    wanted: dict[str, tuple[LetterRow, _Group]] = {}
    for group in groups:
        candidates = [r for r in group.rows.values() if not r.known_only_by_citation]
        if not changes.split:  # the roots stand for the letters of their circulars, not read
            for circular_id in group.circulars:
                circular = existing.get(circular_id)
                root = (
                    session.get(LetterRow, circular.root_letter_id)
                    if circular and circular.root_letter_id
                    else None
                )
                if root is not None:
                    candidates.append(root)
        if not candidates:
            continue
        root = min(candidates, key=lambda r: (r.date, r.number))
        wanted[circular_id_for(root.number, root.date)] = (root, group)
    for c in session.exec(select(Circular).where(col(Circular.id).in_(sorted(set(wanted) - set(existing))))):
        existing[c.id] = c

    placed: dict[int, str] = {}
    for slug in sorted(wanted):
        root, group = wanted[slug]
        members = dict(group.rows)
        if not changes.split:
            for r in _letters_where(session, LetterRow.circular_id, group.circulars - {slug}):
                members.setdefault(r.id, r)  # type: ignore[arg-type]
        save_circular(session, existing.get(slug), slug, root, list(members.values()), actor=who)
        placed.update(dict.fromkeys(members, slug))

    def now_in(letter_id: int | None) -> str | None:
        if letter_id is None:
            return None
        if letter_id in placed:
            return placed[letter_id]
        row = session.get(LetterRow, letter_id)
        return row.circular_id if row is not None else None

    for slug, circular in sorted(existing.items()):
        if slug in wanted or slug not in involved:
            continue
        remove_circular(session, circular, now_in, actor=who)


# --- corrections ------------------------------------------------------------------------------


class CorrectionError(ValueError):
    """A correction the record refuses; the message names the letter, field or value."""


@dataclass(frozen=True)
class LetterCorrection:
    """A letter's field corrected: its value before and after."""

    letter: LetterRow
    field: str
    old: Any
    new: Any


def correct_letter(
    session: Session,
    printed: str,
    field_name: str,
    value: str,
    reason: str,
    *,
    on: date | None = None,
    year: int | None = None,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> LetterCorrection:
    """Correct one field of a letter on file (`CORRECTABLE`; a date as ISO, an urgency as printed:
    ด่วน, ด่วนมาก, ด่วนที่สุด), appending `letter.corrected` with the old and new values, the reason
    and the actor. Re-ingesting a reading of the old value then reports it and keeps the new."""
    why = (reason or "").strip()
    if not why:
        raise CorrectionError("a correction needs a reason (--reason)")
    if field_name not in CORRECTABLE:
        raise CorrectionError(f"field {field_name!r}: one of {', '.join(CORRECTABLE)} can be corrected")
    column = CORRECTABLE[field_name]
    try:
        rows = [r for r in lookup_letters(session, printed, on, year=year) if not r.known_only_by_citation]
    except ValueError as exc:
        raise CorrectionError(f"letter {printed!r}: not a letter number ({exc})") from None
    if not rows:
        raise CorrectionError(f"no letter {printed!r} on file" + (f" of {on or year}" if on or year else ""))
    if len(rows) > 1:
        dates = ", ".join(r.date.isoformat() for r in rows)
        raise CorrectionError(f"{printed!r} names {len(rows)} letters (dated {dates}): give --date or --year")
    row = rows[0]
    text = " ".join((value or "").split())
    new: Any = text
    if not text:
        raise CorrectionError(f"--value for {field_name} is empty")
    if column == "date":
        try:
            new = date.fromisoformat(text)
        except ValueError:
            raise CorrectionError(f"--value {value!r}: not a date (2020-06-01)") from None
        if find_letter(session, row.number, new) is not None:
            raise CorrectionError(f"{row.number} of {new.isoformat()} is on file already")
    elif column == "urgency" and text not in {u.value for u in Urgency}:
        raise CorrectionError(f"--value {value!r}: urgency is one of {', '.join(u.value for u in Urgency)}")
    old = getattr(row, column)
    if _same_text(old, new):
        raise CorrectionError(f"{row.number} of {row.date.isoformat()} already has {field_name} {old!r}")
    before = row.date
    setattr(row, column, new)
    session.flush()
    if column in ("subject", "issuer_name"):
        index_terms(session, row)
    append_event(
        session,
        "letter.corrected",
        row.number,
        {
            "date": before.isoformat(),
            "field": field_name,
            "column": column,
            "old": old.isoformat() if isinstance(old, date) else old,
            "new": new.isoformat() if isinstance(new, date) else new,
            "reason": why,
        },
        actor=actor or default_actor(),
        on_behalf_of=on_behalf_of,
    )
    return LetterCorrection(row, field_name, old, new)


# --- review list ------------------------------------------------------------------------------


def _review_snapshot(item: ReviewItem) -> dict[str, Any]:
    return {
        "file": item.file,
        "line": item.line,
        "end_line": item.end_line,
        "sha256": item.sha256,
        "reason": item.reason,
        "digest": item.digest,
        "status": item.status,
        "created_at": item.created_at.isoformat(),
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolved_by": item.resolved_by,
    }


def review_event_payload(item: ReviewItem, **fields: Any) -> dict[str, Any]:
    """The payload of a `review.*` event: what it says, and the item as stored under `rows` (the
    shape of the snapshot events; `records.audit` replays the `rows` it knows and skips the rest)."""
    return {"id": item.id, "file": item.file, "line": item.line, "reason": item.reason, **fields,
            "rows": {"review_items": [_review_snapshot(item)]}}  # fmt: skip


def _open_reviews(
    session: Session,
    unread: Sequence[UnreadLetter],
    *,
    file: str,
    sha256: str,
    actor: str,
    report: IngestReport,
) -> None:
    """Put each unread letter on the review list, once: reading the file again finds its item."""
    for letter in unread:
        data = letter.model_dump_json()
        digest = hashlib.sha256(data.encode("utf-8")).hexdigest()
        line = letter.source.line
        item = session.exec(
            select(ReviewItem).where(
                ReviewItem.file == file, ReviewItem.line == line, ReviewItem.digest == digest
            )
        ).first()
        if item is None:
            item = new_row(
                ReviewItem,
                file=file,
                line=line,
                end_line=letter.end_line,
                sha256=sha256,
                reason=letter.reason,
                unread=data,
                digest=digest,
                source_text=letter.text,
                status="open",
                created_at=now_bangkok(),
            )
            session.add(item)
            session.flush()
            append_event(session, "review.opened", f"{file}:{line}", review_event_payload(item), actor=actor)
            new = True
        else:
            new = False
        assert item.id is not None
        report.review.append(ReviewEntry(item.id, file, line, item.reason, item.status, new))


# --- ingest -----------------------------------------------------------------------------------


def ingest_letters(
    session: Session,
    letters: Sequence[Letter],
    *,
    file: str,
    sha256: str,
    actor: str | None = None,
    read_warnings: Sequence[tuple[int, str, str]] = (),
    unread: Sequence[UnreadLetter] = (),
) -> IngestReport:
    """Store the letters read from one file, in the caller's transaction.

    `read_warnings` are the parser's (line, field, message) for what it left out while reading
    the file (a body date that cannot be, a deadline counted from receipt): the report and the
    `ingest.file` event carry them with the warnings of storing. `unread` are the letters of the
    file whose number or date could not be read: each goes on the review list (`review_item`,
    with a `review.opened` event), once, and `report.review` names them.

    Idempotent: letters already known are left unchanged (or only gain what this reading adds),
    and a re-ingest writes only an `ingest_log` row. The circulars of the letters it touched are
    brought up to date at the end (`assign_circulars_of`).
    """
    who = actor or default_actor()
    report = IngestReport(file=file, sha256=sha256)
    for line, what, message in read_warnings:
        report.warn(None, line, what, message)
    before = session.info.get(EVENTS_APPENDED, 0)
    for letter in letters:
        report.letters.append(_ingest_letter(session, letter, who, report))
    assign_circulars_of(session, actor=who)
    _open_reviews(session, unread, file=file, sha256=sha256, actor=who, report=report)
    if session.info.get(EVENTS_APPENDED, 0) != before:
        # The fine-grained events above say what changed; this one carries what was read, so the
        # log alone can rebuild the state by ingesting the same letters in the same order.
        payload: dict[str, Any] = {
            "sha256": sha256,
            "letters": [letter.model_dump(mode="json") for letter in letters],
            # What this run's ingest_log row says, so the log vouches for it (`records.audit`).
            "counts": {"added": report.added, "merged": report.merged, "unchanged": report.unchanged},
        }
        if report.warnings:
            # What was stored but flagged (a receipt before its letter, an unknown agency code).
            payload["warnings"] = report.warnings
        if report.review:
            payload["review"] = [{"line": r.line, "reason": r.reason} for r in report.review]
        append_event(session, "ingest.file", file, payload, actor=who)
    session.add(
        new_row(
            IngestLog,
            file=file,
            sha256=sha256,
            at=now_bangkok(),
            added=report.added,
            merged=report.merged,
            unchanged=report.unchanged,
        )
    )
    session.flush()
    return report
