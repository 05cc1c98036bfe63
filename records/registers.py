"""The registers of the correspondence regulation, per agency and year: what it received
(ทะเบียนหนังสือรับ) and what it sent (ทะเบียนหนังสือส่ง), in the regulation's columns.

One read model for the CLI's exports and the dashboard's register page alike. Only facts make an
entry, never what a routing plan expects:

- received: every receipt of the agency (ตรารับ read from a letter, or a clerk's registration),
  voided ones included and marked so (a register never loses an entry);
- sent: every letter the agency issued (its own number is the entry of its dispatch register;
  a letter known only because another cites it is still one it sent), and every dispatch a clerk
  registered for it (`saraban dispatch`). The dispatch rows a routing run writes are not read:
  their facts are those same issued letters (`records.progress` derives them so), paired with
  the one letter a dispatch hands on, which need not be the one sent that day.

A register is one calendar year (running numbers restart on 1 January), Gregorian in the record
and Buddhist era on paper (`Register.be_year`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.numbering import LetterNumberError, parse_letter_number
from models.tables import AgencyRow, CitationRow, Dispatch, Handoff, LetterRow, Receipt
from models.thai import BE_OFFSET, MAX_CE_YEAR, MIN_CE_YEAR, format_thai_date, format_thai_time, now_bangkok
from models.thai import to_arabic_digits as _arabic
from records.registry import RegistryError, resolve_agency, series_value
from visualize.registers import COLUMNS_TH, DAY_TH, KINDS, TITLE_TH, Kind, Register, RegisterEntry

__all__ = [
    "COLUMNS_TH",
    "DAY_TH",
    "KINDS",
    "TITLE_TH",
    "Kind",
    "Register",
    "RegisterEntry",
    "RegisterError",
    "gregorian_year",
    "received_register",
    "register",
    "sent_register",
]

# A clerk's dispatch to many addressees names this many in the ถึง column, then counts the rest.
ADDRESSEES_SHOWN = 3


class RegisterError(ValueError):
    """A register that cannot be made: an unknown agency, a year that is no year."""


def gregorian_year(value: int | str) -> int:
    """A register's year as given: Buddhist era (2563, ๒๕๖๓) or Gregorian (2020).

    >>> gregorian_year(2563), gregorian_year("2020"), gregorian_year("๒๕๖๓")
    (2020, 2020, 2020)
    """
    text = _arabic(str(value)).strip()
    year = int(text) if text.isascii() and text.isdigit() else 0
    if MIN_CE_YEAR + BE_OFFSET <= year <= MAX_CE_YEAR + BE_OFFSET:
        return year - BE_OFFSET
    if MIN_CE_YEAR <= year <= MAX_CE_YEAR:
        return year
    raise RegisterError(f"{value!r} is neither a Buddhist-era year (2563) nor a Gregorian one (2020)")


def register(session: Session, kind: Kind, agency: str, year: int | str | None = None) -> Register:
    """The agency's register of `kind` for `year` (BE or CE; default: its latest year with
    entries, else this year). `agency` is an id (`province:21`) or a Thai name."""
    if kind not in KINDS:
        raise RegisterError(f"no register {kind!r}: received or sent")
    row = _agency(session, agency)
    years = tuple(sorted(_years(session, kind, row.id), reverse=True))
    wanted = gregorian_year(year) if year is not None else (years[0] if years else now_bangkok().year)
    entries = (_received if kind == "received" else _sent)(session, row.id, wanted)
    return Register(kind, row.id, row.name_th, wanted, tuple(entries), years)


def received_register(session: Session, agency: str, year: int | str | None = None) -> Register:
    """ทะเบียนหนังสือรับ: the agency's receipts of one year, in the order they were received."""
    return register(session, "received", agency, year)


def sent_register(session: Session, agency: str, year: int | str | None = None) -> Register:
    """ทะเบียนหนังสือส่ง: the letters the agency sent in one year, in the order they went out."""
    return register(session, "sent", agency, year)


# --- the agency and its years -------------------------------------------------------------------


def _agency(session: Session, text: str) -> AgencyRow:
    """The agency's row: by id, else by the directory's reading of an id or a Thai name."""
    row = session.get(AgencyRow, text.strip())
    if row is not None:
        return row
    try:
        found = resolve_agency(text)
    except RegistryError as exc:
        raise RegisterError(str(exc)) from None
    row = session.get(AgencyRow, found.id)
    # An agency the record never met has empty registers, under its directory name.
    return row if row is not None else AgencyRow(id=found.id, name_th=found.name_th, level=found.level.value)


def _years(session: Session, kind: Kind, agency_id: str) -> set[int]:
    """The years the agency's register of `kind` has entries in (of the days `_in_year` filters on)."""
    days: list[tuple[Any, sa.ColumnElement[bool]]] = (
        [(col(Receipt.date), col(Receipt.agency_id) == agency_id)]
        if kind == "received"
        else [
            (col(LetterRow.date), col(LetterRow.issuer_id) == agency_id),
            (
                col(Dispatch.sent_on),
                sa.and_(col(Dispatch.sender_id) == agency_id, col(Dispatch.source) == "clerk"),
            ),
        ]
    )
    return {
        int(y)
        for day, where in days
        for y in session.exec(select(sa.extract("year", day)).where(where, day.is_not(None)).distinct())
    }


def _in_year(column: Any, year: int) -> sa.ColumnElement[bool]:
    return col(column).between(date(year, 1, 1), date(year, 12, 31))


# --- what fills the columns ---------------------------------------------------------------------


def _short(day: date) -> str:
    return format_thai_date(day, abbreviated=True, thai_digits=False)


def _names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {a.id: a.name_th for a in session.exec(select(AgencyRow).where(col(AgencyRow.id).in_(wanted)))}


def _issuer(letter: LetterRow, names: dict[str, str]) -> str:
    return letter.issuer_name or names.get(letter.issuer_id or "", letter.issuer_id or "")


def _running(letter: LetterRow) -> str:
    """The running number of a letter's own number: its entry in its issuer's dispatch register."""
    try:
        return parse_letter_number(letter.number).running
    except LetterNumberError:
        return ""


def _receipt_sort(r: Receipt) -> tuple[date, time, int, int]:
    assert r.date is not None
    return (r.date, r.time or time.max, series_value(r.number) or 10**9, r.id or 0)


def _received(session: Session, agency_id: str, year: int) -> list[RegisterEntry]:
    rows = session.exec(
        select(Receipt, LetterRow)
        .join(LetterRow, col(LetterRow.id) == col(Receipt.letter_id))
        .where(Receipt.agency_id == agency_id, _in_year(col(Receipt.date), year))
    ).all()
    rows = sorted(rows, key=lambda pair: _receipt_sort(pair[0]))
    letter_ids = sorted({letter.id for _, letter in rows if letter.id is not None})
    names = _names(session, [agency_id, *(letter.issuer_id for _, letter in rows)])
    actions = _onward(session, agency_id, letter_ids)
    own = names.get(agency_id, agency_id)
    out = []
    for receipt, letter in rows:
        assert receipt.date is not None and letter.id is not None
        remarks = []
        if receipt.time is not None:
            remarks.append(f"เวลา {format_thai_time(receipt.time, thai_digits=False)}")
        if receipt.registry not in (agency_id, own):
            remarks.append(f"ทะเบียนของ {receipt.registry}")
        if not receipt.number:
            remarks.append("เลขรับอ่านไม่ออก")
        if receipt.source == "ocr":
            remarks.append("จากตรารับบนหนังสือ")
        if receipt.voided_at is not None:
            remarks.append(f"ยกเลิกเมื่อ {_short(receipt.voided_at.date())}: {receipt.void_reason}")
        out.append(
            RegisterEntry(
                day=receipt.date,
                number=receipt.number or "",
                letter_number=letter.number,
                letter_date=letter.date,
                sender=_issuer(letter, names),
                addressee=letter.salutation or own,
                subject=letter.subject or "",
                action="; ".join(text for _, text in actions.get(letter.id, ())),
                remarks="; ".join(remarks),
            )
        )
    return out


def _onward(session: Session, agency_id: str, letter_ids: list[int]) -> dict[int, list[tuple[date, str]]]:
    """What the agency did with each received letter, as the record shows it: its own letters
    that enclose or cite it, and its clerks' dispatches of it; (day, text) in date order."""
    found: dict[int, list[tuple[date, str]]] = defaultdict(list)
    if not letter_ids:
        return found
    citing = session.exec(
        select(CitationRow, LetterRow)
        .join(LetterRow, col(LetterRow.id) == col(CitationRow.citing_letter_id))
        .where(col(CitationRow.cited_letter_id).in_(letter_ids), LetterRow.issuer_id == agency_id)
    ).all()
    for citation, letter in citing:
        how = "ส่งต่อพร้อมหนังสือ" if citation.kind == "encloses" else "อ้างถึงในหนังสือ"
        found[citation.cited_letter_id].append(
            (letter.date, f"{how} {letter.number} ลงวันที่ {_short(letter.date)}")
        )
    dispatched = session.exec(
        select(Dispatch).where(
            col(Dispatch.letter_id).in_(letter_ids),
            Dispatch.sender_id == agency_id,
            Dispatch.source == "clerk",
        )
    ).all()
    for d in dispatched:
        found[d.letter_id].append((d.sent_on, f"ส่งต่อเมื่อ {_short(d.sent_on)} (ทะเบียนหนังสือส่ง)"))
    for items in found.values():
        items.sort()
    return found


def _sent(session: Session, agency_id: str, year: int) -> list[RegisterEntry]:
    issued = session.exec(
        select(LetterRow).where(LetterRow.issuer_id == agency_id, _in_year(col(LetterRow.date), year))
    ).all()
    clerk = session.exec(
        select(Dispatch, LetterRow)
        .join(LetterRow, col(LetterRow.id) == col(Dispatch.letter_id))
        .where(
            Dispatch.sender_id == agency_id, Dispatch.source == "clerk", _in_year(col(Dispatch.sent_on), year)
        )
    ).all()
    addressees = _addressees(session, [d.id for d, _ in clerk if d.id is not None])
    # One entry per letter: a clerk's dispatch of the agency's own letter dates and addresses it.
    by_letter: dict[int, tuple[LetterRow, Dispatch | None]] = {
        r.id: (r, None) for r in issued if r.id is not None
    }
    for sent, letter in clerk:
        kept = by_letter.get(sent.letter_id)
        if kept is None or kept[1] is None or sent.sent_on < kept[1].sent_on:
            by_letter[sent.letter_id] = (letter, sent)
    names = _names(session, [agency_id, *(r.issuer_id for r, _ in by_letter.values())])
    stamps = _stamped_by_others(session, agency_id, list(by_letter))
    out = []
    for letter_id, (letter, d) in by_letter.items():
        own = letter.issuer_id == agency_id
        remarks = []
        if letter.known_only_by_citation:
            remarks.append("ทราบจากการอ้างถึงในหนังสืออื่นเท่านั้น")
        if d is not None:
            remarks.append("ลงทะเบียนส่งโดยเจ้าหน้าที่")
        out.append(
            RegisterEntry(
                day=d.sent_on if d is not None else letter.date,
                number=_running(letter) if own else "",
                letter_number=letter.number,
                letter_date=letter.date,
                sender=_issuer(letter, names) if own else names.get(agency_id, agency_id),
                addressee=addressees.get(d.id or 0, "") if d is not None else (letter.salutation or ""),
                subject=letter.subject or "",
                action="; ".join(stamps.get(letter_id, ())),
                remarks="; ".join(remarks),
            )
        )
    return sorted(out, key=lambda e: (e.day, series_value(e.number) or 10**9, e.letter_number))


def _addressees(session: Session, dispatch_ids: list[int]) -> dict[int, str]:
    """A clerk dispatch's addressees, as the ถึง column names them."""
    if not dispatch_ids:
        return {}
    named: dict[int, list[str]] = defaultdict(list)
    for dispatch_id, name in session.exec(
        select(Handoff.dispatch_id, AgencyRow.name_th)
        .join(AgencyRow, col(AgencyRow.id) == col(Handoff.recipient_id))
        .where(col(Handoff.dispatch_id).in_(dispatch_ids))
        .order_by(col(AgencyRow.id))
    ):
        named[dispatch_id].append(name)
    out = {}
    for dispatch_id, names in named.items():
        more = len(names) - ADDRESSEES_SHOWN
        out[dispatch_id] = ", ".join(names[:ADDRESSEES_SHOWN]) + (f" และอีก {more} แห่ง" if more > 0 else "")
    return out


def _stamped_by_others(session: Session, agency_id: str, letter_ids: list[int]) -> dict[int, list[str]]:
    """Who else stamped a receipt on each letter sent: the register's การปฏิบัติ of a sent letter."""
    found: dict[int, list[str]] = defaultdict(list)
    if not letter_ids:
        return found
    rows = session.exec(
        select(Receipt, AgencyRow)
        .join(AgencyRow, col(AgencyRow.id) == col(Receipt.agency_id))
        .where(
            col(Receipt.letter_id).in_(letter_ids),
            Receipt.agency_id != agency_id,
            col(Receipt.voided_at).is_(None),
            col(Receipt.date).is_not(None),
        )
    ).all()
    for receipt, agency in sorted(rows, key=lambda pair: _receipt_sort(pair[0])):
        assert receipt.date is not None
        number = f"รับที่ {receipt.number}" if receipt.number else "ลงรับ"
        found[receipt.letter_id].append(f"{agency.name_th} {number} ({_short(receipt.date)})")
    return found
