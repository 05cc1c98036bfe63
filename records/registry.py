"""Registering by hand: the clerk's receipt register (ทะเบียนหนังสือรับ) and dispatches the OCR never saw.

Receipt numbers (เลขรับ) follow the correspondence regulation: one running series per registry
(the receiving agency) per calendar year (Asia/Bangkok), restarting at 1 on 1 January. A number
is issued as max(issued this year at this registry) + 1 inside the writing transaction, under a
lock on (registry, year): SQLite's BEGIN IMMEDIATE already admits one writer at a time; on
PostgreSQL a transaction-scoped advisory lock keyed on the registry and year serialises the
clerks of that registry only. The partial unique index on clerk receipts
UNIQUE(registry, year, number) is the last line of defence: a duplicate can never commit.

An explicit `number` records a stamp already made on paper; it must not be taken already (by
value: 011 and 11 are the same number). The next issued number continues after the highest.

Validation: an unknown letter or agency is an error naming it; so is a receipt or dispatch dated
before the letter itself (a letter cannot be received before it is written: that is a typo, not
a fact to keep). A letter deadline already past on the day of a dispatch is kept, but flagged:
the warning is returned and stored in the event.

Corrections as the regulation allows them (`void_receipt`, `correct_receipt`): an entry of the
register is never erased. A voided receipt keeps its row and its number (the series goes on after
it, the number is never issued again) and says when, why and by whom (`receipt.voided`); a
corrected one changes its date, time or number in place, the old and new values, the reason and
the actor going into `receipt.corrected`. Voided receipts are no evidence of receipt
(`records.holdings`).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.letters import Agency, Level
from models.tables import AgencyRow, DeadlineRow, Dispatch, Handoff, LetterRow, Receipt, new_row
from models.thai import BANGKOK, bangkok_datetime, now_bangkok
from records.events import append_event, default_actor
from records.reference import directory
from records.service import CORRECTABLE, correct_letter, ensure_agency, lookup_letters
from records.snapshots import agency_snapshot, dispatch_snapshot, receipt_identity, receipt_snapshot

# Namespace of the PostgreSQL advisory locks on receipt series (the second key is registry+year).
_RECEIPT_LOCK_NAMESPACE = 0x5A4A_0001
# A register's numbers run 1..RECEIPT_NUMBER_MAX in a year: a paper register of six-digit stamps.
# Bounded so that a typo (2147483648, twenty digits) can neither overflow a database integer when
# the series is read back nor push the series where the next number would be refused.
RECEIPT_NUMBER_MAX = 999_999
# Leading zeros are kept as stamped (011099), up to this many characters in all.
RECEIPT_NUMBER_WIDTH = 9
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


class RegistryError(ValueError):
    """A registration the record refuses; the message names the letter, agency or number."""


@dataclass
class DispatchOutcome:
    """A clerk dispatch: its row, its handoffs, whether anything changed, and flagged warnings."""

    dispatch: Dispatch
    handoffs: list[Handoff]
    changed: bool
    warnings: list[str] = field(default_factory=list)


# --- lookups ------------------------------------------------------------------------------------


def resolve_agency(text: str) -> Agency:
    """The agency an id (`province:54`, `opdc`) or a Thai name (`จังหวัดแพร่`) names.

    >>> resolve_agency("จังหวัดแพร่").id
    'province:54'
    >>> resolve_agency("opdc").id
    'opdc'
    """
    from routing.agencies import CENTRAL_AGENCIES, recognise_name

    wanted = text.strip()
    d = directory()
    if wanted in d:
        return d[wanted]
    for agency in CENTRAL_AGENCIES:
        if agency.id == wanted:
            return agency
    if wanted:
        named = recognise_name(wanted)
        if named is not None:
            return named
        found = d.find(wanted)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(a.id for a in found)
            raise RegistryError(f"agency {text!r} is ambiguous ({ids}): give its id")
    raise RegistryError(
        f"unknown agency {text!r}: give a directory id such as province:54 or opdc, or a Thai name such as จังหวัดแพร่"
    )


def _letter(session: Session, printed: str, on: date | None = None) -> LetterRow:
    """The one letter `printed` (and `on`, its date) names; running numbers restart each year, so
    a number alone may name letters of several years: then the clerk must say which."""
    try:
        rows = lookup_letters(session, printed, on)
    except ValueError as exc:
        raise RegistryError(f"letter {printed!r}: not a letter number ({exc})") from None
    if not rows:
        when = f" of {on.isoformat()}" if on else ""
        raise RegistryError(f"no letter {printed!r}{when} on record (ingest it first)")
    if len(rows) > 1:
        dates = ", ".join(r.date.isoformat() for r in rows)
        raise RegistryError(
            f"{printed!r} names {len(rows)} letters (dated {dates}): give the letter's date (--letter-date)"
        )
    return rows[0]


def _moment(at: datetime | None) -> datetime:
    if at is None:
        return now_bangkok()
    # A clerk's wall-clock time without a zone is Bangkok time, never the server's.
    return (at if at.tzinfo is not None else at.replace(tzinfo=BANGKOK)).astimezone(BANGKOK)


def _lock_series(session: Session, registry: str, year: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"{registry}/{year}".encode()) - 2**31  # into int4's range
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": _RECEIPT_LOCK_NAMESPACE, "key": key}
        )


def _clean_number(number: str) -> str:
    digits = number.strip().translate(_THAI_DIGITS)
    if (
        not digits.isdigit()
        or not digits.isascii()
        or len(digits) > RECEIPT_NUMBER_WIDTH
        or not 1 <= int(digits) <= RECEIPT_NUMBER_MAX
    ):
        raise RegistryError(
            f"receipt number {number!r}: expected a positive whole number such as 1515 or 011099,"
            f" from 1 to {RECEIPT_NUMBER_MAX}"
        )
    return digits


def series_value(number: str | None) -> int | None:
    """The value of a stored clerk number within the register's range, else None.

    Rows written before numbers were bounded may hold anything; such a value is no part of the
    series (it can neither overflow a cast in SQL nor push the next number out of range).

    >>> series_value("011"), series_value("2147483648"), series_value("x")
    (11, None, None)
    """
    if number is None or not number.isascii() or not number.isdigit() or len(number) > 20:
        return None
    value = int(number)
    return value if 1 <= value <= RECEIPT_NUMBER_MAX else None


def _series(registry: str, year: int) -> SelectOfScalar[Receipt]:
    return select(Receipt).where(
        Receipt.registry == registry,  # type: ignore[comparison-overlap]
        Receipt.year == year,
        Receipt.source == "clerk",
    )


def next_receipt_number(session: Session, registry: str, year: int) -> int:
    """The next number of a registry's series for `year` (1 for a new year). Call under the lock.

    Only digit strings of at most RECEIPT_NUMBER_WIDTH characters are cast (a stored number out
    of int4's range made the cast fail on PostgreSQL, and saturate on SQLite, for every later
    receipt), and values beyond RECEIPT_NUMBER_MAX are no part of the series."""
    number = col(Receipt.number)
    if session.get_bind().dialect.name == "postgresql":
        digits = number.regexp_match(f"^[0-9]{{1,{RECEIPT_NUMBER_WIDTH}}}$")
    else:
        digits = sa.and_(
            sa.not_(number.op("GLOB")("*[^0-9]*")), sa.func.length(number).between(1, RECEIPT_NUMBER_WIDTH)
        )
    # CASE keeps the cast behind the test: PostgreSQL may evaluate WHERE clauses in any order.
    value = sa.case((digits, sa.cast(number, sa.Integer)), else_=None)
    highest = session.exec(
        select(sa.func.max(value)).where(
            Receipt.registry == registry,  # type: ignore[comparison-overlap]
            Receipt.year == year,
            Receipt.source == "clerk",
            value <= RECEIPT_NUMBER_MAX,
        )
    ).one()
    issued = int(highest or 0) + 1
    if issued > RECEIPT_NUMBER_MAX:
        raise RegistryError(
            f"the receipt register of {registry} for {year} is full ({RECEIPT_NUMBER_MAX} numbers)"
        )
    return issued


# --- receive --------------------------------------------------------------------------------------


def receive(
    session: Session,
    letter_number: str,
    agency: str,
    at: datetime | None = None,
    number: str | None = None,
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
    letter_date: date | None = None,
) -> Receipt:
    """Register a letter as received by `agency`: the next receipt number of its registry and year,
    or the given `number` if not taken. Appends `receipt.registered`."""
    moment = _moment(at)
    receiver = resolve_agency(agency)
    letter = _letter(session, letter_number, letter_date)
    received_on = moment.date()
    if received_on < letter.date:
        raise RegistryError(
            f"receipt date {received_on.isoformat()} is before the date of letter {letter.number} "
            f"({letter.date.isoformat()})"
        )
    registry, year = receiver.id, received_on.year
    _lock_series(session, registry, year)
    if number is not None:
        wanted = _clean_number(number)
        for taken in session.exec(_series(registry, year)):
            if series_value(taken.number) == int(wanted):
                holder = session.get(LetterRow, taken.letter_id)
                raise RegistryError(
                    f"receipt number {wanted} of {year} is already taken at {registry}"
                    f" (letter {holder.number if holder else taken.letter_id}, {taken.date})"
                )
        issued = wanted
    else:
        issued = str(next_receipt_number(session, registry, year))
    agency_row = ensure_agency(session, receiver, actor=actor)
    assert letter.id is not None
    receipt = new_row(
        Receipt,
        letter_id=letter.id,
        agency_id=receiver.id,
        registry=registry,
        number=issued,
        year=year,
        date=received_on,
        time=time(moment.hour, moment.minute),
        received_at=moment,
        source="clerk",
    )
    session.add(receipt)
    session.flush()
    append_event(
        session,
        "receipt.registered",
        letter.number,
        {
            "letter_date": letter.date.isoformat(),
            "registry": registry,
            "number": issued,
            "year": year,
            "explicit_number": number is not None,
            "rows": {
                "agencies": [agency_snapshot(agency_row)],
                "receipts": [receipt_snapshot(session, receipt)],
            },
        },
        actor=actor or default_actor(),
        on_behalf_of=on_behalf_of,
    )
    return receipt


def receive_checked(
    session: Session,
    letter_id: int,
    agency: str,
    corrections: Mapping[str, str],
    reason: str,
    at: datetime | None = None,
    number: str | None = None,
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> Receipt:
    """Register letter `letter_id` as a clerk checked it before stamping it (the web's receive form).

    `corrections` are the fields (`records.service.CORRECTABLE`) the clerk read differently from
    the record: each one that differs is corrected first (`correct_letter`, `letter.corrected`
    with `reason`), then the receipt is registered (`receive`), all in the caller's transaction:
    a refused correction or receipt leaves nothing written. A blank value corrects nothing (a
    field is never blanked out by a form left empty).
    """
    letter = session.get(LetterRow, letter_id)
    if letter is None:
        raise RegistryError(f"no letter with id {letter_id} on record")
    for name, value in corrections.items():
        if name not in CORRECTABLE:
            raise RegistryError(f"field {name!r}: one of {', '.join(CORRECTABLE)} can be corrected")
        text = " ".join((value or "").split())
        current = getattr(letter, CORRECTABLE[name])
        shown = current.isoformat() if isinstance(current, date) else " ".join((current or "").split())
        if text and text != shown:
            correct_letter(
                session,
                letter.number,
                name,
                text,
                reason,
                on=letter.date,
                actor=actor,
                on_behalf_of=on_behalf_of,
            )
    return receive(
        session,
        letter.number,
        agency,
        at,
        number,
        actor=actor,
        on_behalf_of=on_behalf_of,
        letter_date=letter.date,
    )


# --- dispatch -------------------------------------------------------------------------------------


def dispatch(
    session: Session,
    letter_number: str,
    sender: str,
    recipients: list[str],
    at: datetime | None = None,
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
    letter_date: date | None = None,
) -> DispatchOutcome:
    """Record that `sender` sent the letter to `recipients` (ทะเบียนหนังสือส่ง), with one handoff each.

    The dispatch belongs to the letter's circular. Idempotent: recording the same dispatch again
    changes nothing and logs nothing. Appends `dispatch.registered` (with warnings, if any).
    """
    moment = _moment(at)
    letter = _letter(session, letter_number, letter_date)
    if not recipients:
        raise RegistryError("a dispatch needs at least one recipient (--to)")
    source_agency = resolve_agency(sender)
    targets = list({a.id: a for a in (resolve_agency(r) for r in recipients)}.values())
    if source_agency.id in {t.id for t in targets}:
        raise RegistryError(f"{source_agency.id} cannot send a letter to itself")
    sent_on = moment.date()
    if sent_on < letter.date:
        raise RegistryError(
            f"dispatch date {sent_on.isoformat()} is before the date of letter {letter.number} "
            f"({letter.date.isoformat()})"
        )
    if letter.circular_id is None:
        raise RegistryError(f"letter {letter.number} belongs to no circular yet")
    assert letter.id is not None
    warnings: list[str] = []
    dues = sorted(
        d.date
        for d in session.exec(
            select(DeadlineRow).where(DeadlineRow.letter_id == letter.id, DeadlineRow.kind == "due")
        )
    )
    for due in dues:
        if due < sent_on:
            warnings.append(
                f"deadline {due.isoformat()} of letter {letter.number} is before this dispatch on {sent_on.isoformat()}"
            )
    due_forward: date | None = dues[0] if dues else None

    agencies = [ensure_agency(session, a, actor=actor) for a in (source_agency, *targets)]
    row = session.exec(
        select(Dispatch).where(
            Dispatch.circular_id == letter.circular_id,
            Dispatch.sender_id == source_agency.id,
            Dispatch.letter_id == letter.id,
        )
    ).first()
    level = targets[0].level.value if targets[0].level is not Level.UNKNOWN else "unknown"
    changed = False
    if row is None:
        row = new_row(
            Dispatch,
            circular_id=letter.circular_id,
            letter_id=letter.id,
            sender_id=source_agency.id,
            sent_on=sent_on,
            sent_at=moment,
            level=level,
            source="clerk",
        )
        session.add(row)
        session.flush()
        changed = True
    elif (row.sent_on, row.sent_at, row.source) != (sent_on, moment, "clerk"):
        row.sent_on, row.sent_at, row.source = sent_on, moment, "clerk"
        changed = True
    assert row.id is not None
    existing = {h.recipient_id: h for h in session.exec(select(Handoff).where(Handoff.dispatch_id == row.id))}
    for target in targets:
        handoff = existing.get(target.id)
        if handoff is None:
            handoff = new_row(
                Handoff,
                dispatch_id=row.id,
                circular_id=letter.circular_id,
                recipient_id=target.id,
                level=target.level.value,
                sent_on=sent_on,
                due_forward=due_forward,
                status="pending",
            )
            session.add(handoff)
            existing[target.id] = handoff
            changed = True
        elif handoff.sent_on != sent_on:
            handoff.sent_on = sent_on
            changed = True
    session.flush()
    handoffs = [existing[t.id] for t in targets]
    if changed:
        append_event(
            session,
            "dispatch.registered",
            f"{letter.circular_id}:{source_agency.id}",
            {
                "letter": letter.number,
                "letter_date": letter.date.isoformat(),
                "sent_at": moment.isoformat(),
                "recipients": [t.id for t in targets],
                "warnings": warnings,
                "rows": {
                    "agencies": [agency_snapshot(a) for a in agencies],
                    "dispatches": [dispatch_snapshot(session, row, existing.values())],
                },
            },
            actor=actor or default_actor(),
            on_behalf_of=on_behalf_of,
        )
    return DispatchOutcome(row, handoffs, changed, warnings)


def agency_name(session: Session, agency_id: str) -> str:
    row = session.get(AgencyRow, agency_id)
    return row.name_th if row is not None else agency_id


# --- corrections ----------------------------------------------------------------------------------


@dataclass
class ReceiptCorrection:
    """A corrected receipt and what changed: field -> (old, new)."""

    receipt: Receipt
    changes: dict[str, tuple[Any, Any]]


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise RegistryError("a correction needs a reason (--reason): the register says why it was changed")
    return text


def find_receipt(
    session: Session, agency: str, number: str, year: int, *, letter: str | None = None
) -> Receipt:
    """The one receipt numbered `number` in `agency`'s register of `year` (by value: 011 = 11).

    The clerk's series is unique; an OCR-read stamp of that agency is found when no clerk entry
    has the number, and `letter` (its number as printed) picks one when several stamps share it."""
    receiver = resolve_agency(agency)
    value = int(_clean_number(number))
    candidates = [r for r in session.exec(_series(receiver.id, year)) if series_value(r.number) == value]
    if not candidates:
        stamped = select(Receipt).where(
            Receipt.year == year,
            Receipt.source == "ocr",
            sa.or_(col(Receipt.agency_id) == receiver.id, col(Receipt.registry) == receiver.id),
        )
        candidates = [r for r in session.exec(stamped) if series_value(r.number) == value]
    if letter is not None:
        ids = {row.id for row in lookup_letters(session, letter)}
        candidates = [r for r in candidates if r.letter_id in ids]
    if not candidates:
        on = f" of letter {letter}" if letter else ""
        raise RegistryError(f"no receipt no. {value}/{year}{on} in the register of {receiver.id}")
    if len(candidates) > 1:
        names = ", ".join(_receipt_label(session, r) for r in candidates)
        raise RegistryError(
            f"receipt no. {value}/{year} at {receiver.id} names {len(candidates)} stamps ({names}):"
            " give the letter (--letter)"
        )
    return candidates[0]


def _receipt_label(session: Session, receipt: Receipt) -> str:
    letter = session.get(LetterRow, receipt.letter_id)
    day = receipt.date.isoformat() if receipt.date else "no date"
    return f"letter {letter.number if letter else receipt.letter_id}, {day}, {receipt.source}"


def void_receipt(
    session: Session,
    receipt: Receipt,
    reason: str,
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> Receipt:
    """Void a receipt (ยกเลิกเลขรับ): the row and its number stay, marked void with the reason, the
    actor and the time; it no longer counts as the agency having received the letter. Appends
    `receipt.voided`. Voiding it again is an error naming when and by whom it was voided."""
    why = _reason(reason)
    if receipt.voided_at is not None:
        raise RegistryError(
            f"receipt no. {receipt.number}/{receipt.year} at {receipt.registry} was already voided on"
            f" {receipt.voided_at:%Y-%m-%d %H:%M} by {receipt.voided_by}: {receipt.void_reason}"
        )
    letter = session.get(LetterRow, receipt.letter_id)
    assert letter is not None
    who = actor or default_actor()
    identity = receipt_identity(receipt)
    receipt.voided_at, receipt.void_reason, receipt.voided_by = now_bangkok(), why, who
    session.flush()
    append_event(
        session,
        "receipt.voided",
        letter.number,
        {
            "letter_date": letter.date.isoformat(),
            "receipt": identity,
            "reason": why,
            "voided_at": receipt.voided_at.isoformat(),
            "voided_by": who,
        },
        actor=who,
        on_behalf_of=on_behalf_of,
    )
    return receipt


def correct_receipt(
    session: Session,
    receipt: Receipt,
    reason: str,
    *,
    on: date | None = None,
    at: time | None = None,
    number: str | None = None,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> ReceiptCorrection:
    """Correct a receipt's date, time or number (แก้ไขทะเบียนรับ) in place; appends `receipt.corrected`
    with the old and new values and the reason. The same checks as registering apply: not before
    the letter's date, a number free in its series (voided numbers stay taken)."""
    why = _reason(reason)
    if on is None and at is None and number is None:
        raise RegistryError("nothing to correct: give --date, --time or --number")
    if receipt.voided_at is not None:
        raise RegistryError(
            f"receipt no. {receipt.number}/{receipt.year} at {receipt.registry} is void: it cannot be corrected"
        )
    letter = session.get(LetterRow, receipt.letter_id)
    assert letter is not None
    new_date = on if on is not None else receipt.date
    if new_date is not None and new_date < letter.date:
        raise RegistryError(
            f"receipt date {new_date.isoformat()} is before the date of letter {letter.number}"
            f" ({letter.date.isoformat()})"
        )
    new_time = at if at is not None else receipt.time
    new_year = new_date.year if new_date is not None else receipt.year
    new_number = _clean_number(number) if number is not None else receipt.number
    moved = new_year != receipt.year or (
        number is not None and series_value(new_number) != series_value(receipt.number)
    )
    if receipt.source == "clerk" and moved and new_year is not None:
        _lock_series(session, receipt.registry, new_year)
        for taken in session.exec(_series(receipt.registry, new_year)):
            if (
                taken.id != receipt.id
                and new_number is not None
                and series_value(taken.number) == int(new_number)
            ):
                holder = session.get(LetterRow, taken.letter_id)
                raise RegistryError(
                    f"receipt number {new_number} of {new_year} is already taken at {receipt.registry}"
                    f" (letter {holder.number if holder else taken.letter_id}, {taken.date})"
                    + (", void: a voided number is never issued again" if taken.voided_at else "")
                )
    received_at = receipt.received_at
    if (
        new_date is not None
        and (new_date, new_time) != (receipt.date, receipt.time)
        and (new_time is not None or receipt.received_at is not None)
    ):
        received_at = bangkok_datetime(new_date, new_time)
    wanted = {
        "date": new_date,
        "time": new_time,
        "year": new_year,
        "number": new_number,
        "received_at": received_at,
    }
    changes = {k: (getattr(receipt, k), v) for k, v in wanted.items() if getattr(receipt, k) != v}
    if not changes:
        raise RegistryError(
            f"receipt no. {receipt.number}/{receipt.year} at {receipt.registry} already says that: nothing to correct"
        )
    who = actor or default_actor()
    identity = receipt_identity(receipt)
    for key, (_old, new) in changes.items():
        setattr(receipt, key, new)
    session.flush()
    append_event(
        session,
        "receipt.corrected",
        letter.number,
        {
            "letter_date": letter.date.isoformat(),
            "receipt": identity,
            "reason": why,
            "changes": {k: [_iso(old), _iso(new)] for k, (old, new) in changes.items()},
        },
        actor=who,
        on_behalf_of=on_behalf_of,
    )
    return ReceiptCorrection(receipt, changes)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time) else value
