"""Audit: check that the record is what its event log says, rebuild it from the log, show history.

`verify` checks four things:

1. the hash chain (`records.events.verify_chain`): editing, deleting or reordering any event
   without recomputing the hashes after it breaks it, and the first event that does not fit is
   named;
2. the anchors given (`head` printed earlier and kept outside the database): the chain must still
   hold that entry with that hash. The chain is unkeyed, so only an anchor catches a log cut short
   at its end (the newest events deleted with the rows they wrote) or rewritten with recomputed
   hashes; an anchor fixes every event up to its sequence number;
3. the state tables: the log is replayed into a scratch in-memory SQLite database (`replay`) and
   the two states are compared table by table, row by row, on natural keys (a letter is its
   number and date, a dispatch its circular, sender and letter...), so surrogate ids, which differ
   between backends and after rolled-back transactions, do not matter. A row changed, added or
   deleted behind the application's back is named with the field that differs and the last event
   that logged a change to it;
4. the ingest log, as far as the chain vouches for it: every `ingest.file` event must have its
   `ingest_log` row (same file and sha256, written just after the event in its transaction, and
   the counts if the event carries them), and a row claiming letters added or merged must have an
   event.
   Rows of re-ingests that changed nothing have no event by design (a retried ingest leaves the
   chain as it was) and cannot be checked: verify counts them.

Replay works because every state change is logged with enough to redo it:

- `ingest.file` carries the letters a file yielded (their full JSON): replay ingests the same
  letters in the same order, and the service layer's determinism does the rest (the
  fine-grained `letter.*`, `citation.*` and `circular.*` events of that transaction are its
  effects and are skipped);
- corrections carry the row they change (its natural key before) and the new values:
  `receipt.voided` (the void stamp, reason and actor), `receipt.corrected` and `letter.corrected`
  (field, old and new value);
- clerk receipts and dispatches (`receipt.registered`, `dispatch.registered`) and the summary
  events of the flows (`dispatch.recorded` and `dispatch.planned`, `handoffs.flagged_overdue`,
  `agencies.synced`) carry a `rows` snapshot of the state rows they wrote (see
  `records.snapshots.snapshot_rows`), applied as upserts. A routing run logs a dispatch only its
  plan expects as `dispatch.planned`; logs written before that hold it as `dispatch.recorded` with
  `provenance: planned`, and both replay the same;
- `agency.added`, `agency.updated` and `circular.plan_set` carry their fields;
- the sweep's digests (`alert.digest`, one per responsible agency) change no state: replay reads
  them and redoes nothing;
- the wall-clock stamps `merge.made_at` and `circular.created_at` ride in the events announcing
  the rows (`letter.alias_merged`, `circular.created`; see `records.snapshots.stamp_fields`) and are restored
  after the replay. Events written before they did carry no stamp: the replay then puts the
  event's own time, and verify accepts a stamp within `STAMP_WINDOW` before it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col, or_, select

from models.letters import Letter
from models.tables import (
    STATE_TABLES,
    AgencyRow,
    Circular,
    Dispatch,
    Event,
    Handoff,
    IngestLog,
    LetterRow,
    Merge,
    Receipt,
    new_row,
)
from records.digests import DIGEST_KIND
from records.events import GENESIS_HASH, REPLAYING, VerifyResult, verify_chain
from records.reference import directory
from records.registry import resolve_agency
from records.service import ingest_letters, lookup_letter
from records.snapshots import HANDOFF_COLUMNS, merge_of

# The spelling of values in snapshots, also this module's in dumps (tests spell stamps with it).
from records.snapshots import jsonable as _jsonable

# Re-exported: the tests take a snapshot through the audit, as the replay reads them.
from records.snapshots import snapshot_rows as snapshot_rows

# Effects of an `ingest.file` in the same transaction: replaying the ingest redoes them.
DERIVED_KINDS = frozenset(
    {
        "letter.added", "letter.realised", "letter.merged", "letter.placeholder",
        "letter.placeholder_removed", "letter.alias_merged", "letter.alias_removed",
        "citation.ambiguous", "citation.resolved", "citation.dropped_duplicate",
        "circular.created", "circular.updated", "circular.members_added", "circular.removed",
    }
)  # fmt: skip

# Events that announce and change no state row: the sweep's digests (`records.digests`).
NOTICE_KINDS = frozenset({DIGEST_KIND})

_LETTER_FKS = ("letter_id", "citing_letter_id", "cited_letter_id", "kept_letter_id", "root_letter_id")
# Natural key of each state table (after ids are replaced by natural keys); None: the whole row.
_KEYS: dict[str, tuple[str, ...] | None] = {
    "agency": ("id",),
    "letter": ("number", "date"),
    "letter_variant": ("letter_id", "printed"),
    "citation": ("citing_letter_id", "cited_letter_id", "kind"),
    "merge": ("kept_letter_id", "alias"),
    "receipt": ("letter_id", "registry", "number", "date", "source"),
    "deadline": None,
    "circular": ("id",),
    "dispatch": ("circular_id", "sender_id", "letter_id"),
    "handoff": ("dispatch_id", "recipient_id"),
}
_UNCOMPARED = {"merge": ("id",)}
# Wall-clock stamps of row creation, carried by the event announcing the row (since events carry
# them): kind -> (table, column). See `records.snapshots.stamp_fields`.
_STAMPED = {"letter.alias_merged": ("merge", "made_at"), "circular.created": ("circular", "created_at")}
# How long before its event a row stamp (and how long after its `ingest.file` event an ingest log
# row) may have been taken: both are taken in the event's transaction, in the same process,
# milliseconds apart; a minute leaves room for a slow machine, not for a forged time.
STAMP_WINDOW = timedelta(seconds=60)


class AuditError(ValueError):
    """A request the audit cannot answer (unknown letter, non-empty replay target...)."""


class ReplayError(AuditError):
    """An event the replay cannot redo; names the event."""


# --- natural keys ------------------------------------------------------------------------------------


def _letter_key(row: LetterRow) -> str:
    return f"{row.number} @ {row.date.isoformat()}"


# --- anchors: the head of the log, kept outside the database -----------------------------------------

_ANCHOR = re.compile(r"([0-9]+):(\S*)")


@dataclass(frozen=True)
class Anchor:
    """One entry of the log, `SEQ:HASH`, as an auditor keeps it outside the database.

    Since every hash covers the previous one, an anchor that still matches fixes every event up to
    `seq`. `at` and `kind` say what the entry was; they are not part of the anchor.
    """

    seq: int
    hash: str
    at: datetime | None = field(default=None, compare=False)
    kind: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @property
    def short(self) -> str:
        return f"{self.seq}:{self.hash[:16]}…"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read `SEQ:HASH` (what `saraban audit head` prints).

        >>> Anchor.parse(" 12:" + "AB" * 32).hash == "ab" * 32
        True
        """
        match = _ANCHOR.fullmatch(text.strip())
        if match is None:
            raise AuditError(
                f"expected SEQ:HASH, a sequence number and a sha256 as `saraban audit head` prints, "
                f"not {text.strip()!r}"
            )
        digest = match.group(2).lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise AuditError(
                f"hash {match.group(2)!r} of anchor {match.group(1)} is not 64 hexadecimal digits"
            )
        return cls(int(match.group(1)), digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "anchor": str(self),
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at.isoformat() if self.at else None,
            "kind": self.kind,
        }


def parse_anchors(text: str, source: str) -> list[Anchor]:
    """Anchors from a file's text: one per line, first word `SEQ:HASH` (the rest of the line is a
    note); blank lines and lines starting with `#` are skipped. Errors name `source` and the line."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        try:
            out.append(Anchor.parse(words[0]))
        except AuditError as exc:
            raise AuditError(f"{source}:{number}: {exc}") from None
    return out


def head(session: Session) -> Anchor:
    """The newest entry of the event log (`0:000…0`, the genesis, when the log is empty).

    Publish it somewhere the database's writers cannot rewrite (a report, a Prefect artifact, a
    signed mail); `verify(session, anchors=[it])` later fails if the log no longer holds it. Inside
    a write transaction it includes the events that transaction appended.
    """
    event = session.exec(select(Event).order_by(col(Event.seq).desc()).limit(1)).first()
    if event is None:
        return Anchor(0, GENESIS_HASH)
    return Anchor(event.seq, event.hash, event.at, event.kind)


@dataclass(frozen=True)
class AnchorCheck:
    """Whether the log still holds one anchor; `problem` says how it does not."""

    anchor: Anchor
    problem: str | None = None
    kind: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        if self.ok:
            what = f"event #{self.anchor.seq} {self.kind}" if self.kind else "the genesis"
            return f"anchor {self.anchor.short}: held ({what})"
        return f"anchor {self.anchor.short}: {self.problem}"


def check_anchors(session: Session, anchors: Iterable[Anchor]) -> tuple[AnchorCheck, ...]:
    """Check that the log still holds each anchor (same sequence number, same hash)."""
    last = session.exec(select(sa.func.max(Event.seq))).one() or 0
    out = []
    for anchor in anchors:
        if anchor.seq == 0:
            problem = None if anchor.hash == GENESIS_HASH else "sequence 0 is the genesis, whose hash is 0…0"
            out.append(AnchorCheck(anchor, problem))
            continue
        if anchor.seq > last:
            out.append(AnchorCheck(anchor, f"the log ends at seq {last}: the entries from #{last + 1} on are "
                                           "gone (the log was cut short, or replaced)"))  # fmt: skip
            continue
        event = session.exec(select(Event).where(Event.seq == anchor.seq)).first()
        if event is None:
            out.append(AnchorCheck(anchor, f"no event #{anchor.seq} in the log (deleted)"))
        elif event.hash != anchor.hash:
            problem = (f"event #{anchor.seq} has hash {event.hash[:16]}…, not the anchored one: the log "
                       f"was rewritten at or before seq {anchor.seq}")  # fmt: skip
            out.append(AnchorCheck(anchor, problem, event.kind))
        else:
            out.append(AnchorCheck(anchor, None, event.kind))
    return tuple(out)


# --- applying rows (replay) -------------------------------------------------------------------------


def _parse_value(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    column_type = column.type
    if isinstance(column_type, sa.types.TypeDecorator):
        column_type = column_type.impl_instance
    python_type = column_type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is time:
        return time.fromisoformat(value)
    return value


def _column(table: type[SQLModel], name: str) -> sa.Column[Any]:
    return table.__table__.c[name]  # type: ignore[attr-defined,no-any-return]


def _letter_id(session: Session, number: str, on: str) -> int:
    row = session.exec(
        select(LetterRow).where(LetterRow.number == number, LetterRow.date == date.fromisoformat(on))
    ).first()
    if row is None or row.id is None:
        raise ReplayError(f"letter {number} of {on} is not in the replayed record")
    return row.id


def _ensure_agency_fields(session: Session, fields: dict[str, Any]) -> None:
    if session.get(AgencyRow, fields["id"]) is None:
        session.add(new_row(AgencyRow, **fields))
        session.flush()


def apply_rows(session: Session, rows: dict[str, Any]) -> None:
    """Write a `rows` snapshot (agencies, receipts, dispatches with handoffs) as upserts."""
    for fields in rows.get("agencies", []):
        _ensure_agency_fields(session, fields)
    missing = [i for i in rows.get("agency_ids", []) if session.get(AgencyRow, i) is None]
    if missing:
        d = directory()
        for agency_id in missing:
            if agency_id not in d:
                raise ReplayError(f"agency {agency_id!r} is neither in the replayed record nor the directory")
            a = d[agency_id]
            _ensure_agency_fields(
                session,
                {"id": a.id, "name_th": a.name_th, "name_en": a.name_en, "level": a.level.value,
                 "parent_id": a.parent},
            )  # fmt: skip
    for r in rows.get("receipts", []):
        values = {
            k: _parse_value(_column(Receipt, k), v)
            for k, v in r.items()
            if k not in ("letter", "letter_date")
        }
        letter_id = _letter_id(session, r["letter"], r["letter_date"])
        exists = session.exec(
            select(Receipt).where(
                Receipt.letter_id == letter_id,
                Receipt.registry == values["registry"],
                Receipt.number == values["number"],
                Receipt.date == values["date"],
                Receipt.source == values["source"],
            )
        ).first()
        if exists is None:
            session.add(new_row(Receipt, letter_id=letter_id, **values))
    for d in rows.get("dispatches", []):
        _apply_dispatch(session, d)
    session.flush()


def _apply_dispatch(session: Session, d: dict[str, Any]) -> None:
    letter_id = _letter_id(session, d["letter"], d["letter_date"])
    values = {k: _parse_value(_column(Dispatch, k), d[k]) for k in ("sent_on", "sent_at", "level", "source")}
    dispatch = session.exec(
        select(Dispatch).where(
            Dispatch.circular_id == d["circular"],
            Dispatch.sender_id == d["sender"],
            Dispatch.letter_id == letter_id,
        )
    ).first()
    if dispatch is None:
        dispatch = new_row(
            Dispatch, circular_id=d["circular"], letter_id=letter_id, sender_id=d["sender"], **values
        )
        session.add(dispatch)
        session.flush()
    else:
        for k, v in values.items():
            setattr(dispatch, k, v)
    existing = {
        h.recipient_id: h for h in session.exec(select(Handoff).where(Handoff.dispatch_id == dispatch.id))
    }
    for h in d["handoffs"]:
        hv = {k: _parse_value(_column(Handoff, k), h[k]) for k in HANDOFF_COLUMNS}
        row = existing.get(h["recipient"])
        if row is None:
            assert dispatch.id is not None
            session.add(
                new_row(
                    Handoff,
                    dispatch_id=dispatch.id,
                    circular_id=h["circular"],
                    recipient_id=h["recipient"],
                    **hv,
                )
            )
        else:
            row.circular_id = h["circular"]
            for k, v in hv.items():
                setattr(row, k, v)


# --- replay -----------------------------------------------------------------------------------------


INGEST_COUNTS = ("added", "merged", "unchanged")


@dataclass(frozen=True)
class IngestRun:
    """One ingest logged by an `ingest.file` event: what its `ingest_log` row must say. `counts`
    only when the event carries them (`counts` in its payload): what a replay counts depends on
    the version of the ingest code, so it is no evidence of what the original run wrote."""

    seq: int
    at: datetime
    file: str
    sha256: str
    counts: dict[str, int] | None = None


@dataclass(frozen=True)
class Bound:
    """A row stamp that an old event (written before events carried it) only bounds by its time."""

    column: str
    seq: int
    kind: str
    at: datetime


@dataclass
class ReplayReport:
    """What a replay did: events read, events redone (the rest were effects of those), the ingests
    redone, and the row stamps the log only bounds (table, natural key -> bound)."""

    events: int = 0
    replayed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    ingests: list[IngestRun] = field(default_factory=list)
    bounded: dict[tuple[str, tuple[Any, ...]], Bound] = field(default_factory=dict)


def _replay_event(session: Session, event: Event, report: ReplayReport) -> bool:
    payload = json.loads(event.payload)
    kind = event.kind
    if kind == "ingest.file":
        letters = [Letter.model_validate(item) for item in payload["letters"]]
        ingest_letters(session, letters, file=event.subject, sha256=payload["sha256"], actor=event.actor)
        # The run's own time is not in the log; its event's, taken just before in the same
        # transaction, is the closest the log can say.
        logged = session.exec(select(IngestLog).order_by(col(IngestLog.id).desc()).limit(1)).first()
        if logged is not None:
            logged.at = event.at
        counts = payload.get("counts")
        if logged is not None and isinstance(counts, dict):
            for name in INGEST_COUNTS:  # the copy says what the original run wrote, as logged
                setattr(logged, name, counts.get(name, 0))
        report.ingests.append(
            IngestRun(
                event.seq,
                event.at,
                event.subject,
                payload["sha256"],
                counts if isinstance(counts, dict) else None,
            )
        )
    elif kind == "agency.added":
        _ensure_agency_fields(
            session, {k: payload[k] for k in ("id", "name_th", "name_en", "level", "parent_id")}
        )
    elif kind == "agency.updated":
        row = session.get(AgencyRow, event.subject)
        if row is None:
            raise ReplayError(f"event #{event.seq} ({kind}): no agency {event.subject!r} to update")
        for key, value in payload["after"].items():
            setattr(row, key, value)
        session.flush()
    elif kind == "circular.plan_set":
        circular = session.get(Circular, event.subject)
        if circular is None:
            raise ReplayError(f"event #{event.seq} ({kind}): no circular {event.subject!r}")
        circular.plan_id = payload["plan"]
        session.flush()
    elif kind in ("receipt.voided", "receipt.corrected"):
        _apply_receipt_change(session, event, payload)
    elif kind == "letter.corrected":
        _apply_letter_correction(session, event, payload)
    elif "rows" in payload:
        apply_rows(session, payload["rows"])
    elif kind in DERIVED_KINDS or kind in NOTICE_KINDS:
        return False
    else:
        raise ReplayError(
            f"event #{event.seq} ({kind}) cannot be replayed: its payload does not say what to write"
        )
    return True


def _apply_receipt_change(session: Session, event: Event, payload: dict[str, Any]) -> None:
    """Redo a `receipt.voided` (the void stamp) or `receipt.corrected` (the new values)."""
    letter_id = _letter_id(session, event.subject, payload["letter_date"])
    query = select(Receipt).where(Receipt.letter_id == letter_id)
    for key, value in payload["receipt"].items():
        column = col(getattr(Receipt, key))
        parsed = _parse_value(_column(Receipt, key), value)
        query = query.where(column.is_(None) if parsed is None else column == parsed)
    receipt = session.exec(query).first()
    if receipt is None:
        raise ReplayError(
            f"event #{event.seq} ({event.kind}): no receipt {payload['receipt']} of letter {event.subject}"
        )
    if event.kind == "receipt.voided":
        receipt.voided_at = datetime.fromisoformat(payload["voided_at"])
        receipt.void_reason = payload["reason"]
        receipt.voided_by = payload["voided_by"]
    else:
        for key, (_old, new) in payload["changes"].items():
            setattr(receipt, key, _parse_value(_column(Receipt, key), new))
    session.flush()


def _apply_letter_correction(session: Session, event: Event, payload: dict[str, Any]) -> None:
    """Redo a `letter.corrected`: the field of the letter (number and date before) gets its new value."""
    row = session.get(LetterRow, _letter_id(session, event.subject, payload["date"]))
    assert row is not None
    column = payload["column"]
    setattr(row, column, _parse_value(_column(LetterRow, column), payload["new"]))
    session.flush()


def _stamp_key(event: Event) -> tuple[str, tuple[Any, ...]]:
    """The row an event of `_STAMPED` announces: (table, natural key as in `state_dump`)."""
    payload = json.loads(event.payload)
    if event.kind == "letter.alias_merged":
        return "merge", (f"{event.subject} @ {payload['date']}", payload["alias"])
    return "circular", (event.subject,)


def _restore_stamps(
    session: Session, announced: dict[tuple[str, tuple[Any, ...]], Event]
) -> dict[tuple[str, tuple[Any, ...]], Bound]:
    """Give the replayed rows the stamps their (newest) announcing events carry; an event without
    one puts its own time, and the row goes into the returned bounds."""
    bounded = {}
    for (table, key), event in announced.items():
        column = _STAMPED[event.kind][1]
        row: Merge | Circular | None
        if table == "merge":
            number, _, on = key[0].partition(" @ ")
            row = merge_of(session, number, on, key[1])
        else:
            row = session.get(Circular, key[0])
        if row is None:  # made, then dropped again by a later change
            continue
        stamp = json.loads(event.payload).get(column)
        if stamp is None:
            setattr(row, column, event.at)
            bounded[(table, key)] = Bound(column, event.seq, event.kind, event.at)
        else:
            setattr(row, column, datetime.fromisoformat(stamp))
    session.flush()
    return bounded


def replay_into(session: Session, events: Iterable[Event]) -> ReplayReport:
    """Redo `events` (in order) in `session`'s transaction, writing no new events."""
    report = ReplayReport()
    announced: dict[tuple[str, tuple[Any, ...]], Event] = {}
    session.info[REPLAYING] = True
    try:
        for event in events:
            report.events += 1
            try:
                if event.kind in _STAMPED:
                    announced[_stamp_key(event)] = event  # a row made again: the newest event
                redone = _replay_event(session, event, report)
            except ReplayError:
                raise
            except Exception as exc:
                raise ReplayError(f"event #{event.seq} ({event.kind}): {type(exc).__name__}: {exc}") from exc
            if redone:
                report.replayed += 1
                report.by_kind[event.kind] = report.by_kind.get(event.kind, 0) + 1
        report.bounded = _restore_stamps(session, announced)
    finally:
        session.info.pop(REPLAYING, None)
    return report


def _detached(event: Event) -> Event:
    return Event(**{k: getattr(event, k) for k in Event.model_fields})


def is_empty(session: Session) -> bool:
    """Whether the database holds no event and no state row."""
    tables: tuple[Any, ...] = (Event, *STATE_TABLES)
    return not any(session.exec(select(sa.func.count()).select_from(t)).one() for t in tables)


def replay(source: Session, target_engine: Engine) -> ReplayReport:
    """Rebuild the state of `source`'s log in the empty database `target_engine` (migrated first),
    and copy the log itself, so the target verifies. One transaction: all or nothing."""
    from models.db import init_db, session_scope

    init_db(target_engine)
    events = [_detached(e) for e in source.exec(select(Event).order_by(col(Event.seq)))]
    with session_scope(target_engine) as target:
        if not is_empty(target):
            raise AuditError(f"{target_engine.url.render_as_string()}: target database is not empty")
        report = replay_into(target, events)
        for event in events:
            target.add(event)
        target.flush()
    return report


def scratch_engine() -> Engine:
    """A private in-memory SQLite database with the current schema (for `verify`)."""
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    return engine


# --- state dumps and their comparison ---------------------------------------------------------------


def state_dump(
    session: Session, *, stamps: bool = False
) -> dict[str, dict[tuple[Any, ...], list[tuple[tuple[str, Any], ...]]]]:
    """Every state row, ids replaced by natural keys: table -> natural key -> sorted row values.

    The wall-clock stamps of row creation (`merge.made_at`, `circular.created_at`) only with
    `stamps`: two honest runs of the same work differ in them; a record and its replay do not.
    """
    letters = {r.id: _letter_key(r) for r in session.exec(select(LetterRow))}
    dispatch_keys = {
        d.id: f"{d.circular_id} / {d.sender_id} / {letters.get(d.letter_id)}"
        for d in session.exec(select(Dispatch))
    }
    out: dict[str, dict[tuple[Any, ...], list[tuple[tuple[str, Any], ...]]]] = {}
    for table in STATE_TABLES:
        name = str(table.__table__.name)  # type: ignore[attr-defined]
        skip = _UNCOMPARED.get(name, ()) + (() if name in ("agency", "circular") else ("id",))
        if not stamps:
            skip += tuple(column for table_name, column in _STAMPED.values() if table_name == name)
        rows: dict[tuple[Any, ...], list[tuple[tuple[str, Any], ...]]] = defaultdict(list)
        for row in session.exec(select(table)):
            values: dict[str, Any] = {}
            for column in table.__table__.columns:  # type: ignore[attr-defined]
                if column.name in skip:
                    continue
                value = getattr(row, column.name)
                if column.name in _LETTER_FKS and value is not None:
                    value = letters.get(value, f"<missing letter id {value}>")
                elif column.name == "dispatch_id":
                    value = dispatch_keys.get(value, f"<missing dispatch id {value}>")
                values[column.name] = _jsonable(value)
            keys = _KEYS[name] or tuple(values)
            rows[tuple(values[k] for k in keys)].append(tuple(sorted(values.items())))
        out[name] = {k: sorted(v, key=repr) for k, v in rows.items()}
    return out


def _unreadable(session: Session) -> str:
    """Which state table holds a value its column type cannot read (altered behind the app's back)."""
    for table in STATE_TABLES:
        try:
            for _ in session.exec(select(table).execution_options(yield_per=1000)):
                pass
        except (ValueError, TypeError, LookupError):
            return f"table {table.__table__.name}"  # type: ignore[attr-defined]
    return "table unknown"


@dataclass(frozen=True)
class Difference:
    """One state row that is not what the log says."""

    table: str
    key: tuple[Any, ...]
    problem: str
    last_event: str | None = None

    def __str__(self) -> str:
        where = " | ".join("" if k is None else str(k) for k in self.key)
        last = f" (last logged change: {self.last_event})" if self.last_event else ""
        return f"{self.table} [{where}]: {self.problem}{last}"


def _describe(db: list[Any], log: list[Any]) -> str:
    if not log:
        return "in the database but not in the log (added behind the application's back?)"
    if not db:
        return "in the log but not in the database (deleted behind the application's back?)"
    if len(db) == 1 and len(log) == 1:
        a, b = dict(db[0]), dict(log[0])
        fields = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        return "; ".join(f"{k} is {a.get(k)!r} in the database but {b.get(k)!r} by the log" for k in fields)
    return f"{len(db)} row(s) in the database, {len(log)} by the log, and they differ"


def compare_states(
    db: dict[str, dict[tuple[Any, ...], list[Any]]], log: dict[str, dict[tuple[Any, ...], list[Any]]]
) -> list[Difference]:
    """Rows that differ between the database's state and the state replayed from the log."""
    out: list[Difference] = []
    for table in db.keys() | log.keys():
        mine, theirs = db.get(table, {}), log.get(table, {})
        for key in sorted(mine.keys() | theirs.keys(), key=repr):
            a, b = mine.get(key, []), theirs.get(key, [])
            if a != b:
                out.append(Difference(table, key, _describe(a, b)))
    return sorted(out, key=lambda d: (list(_KEYS).index(d.table), repr(d.key)))


def _subject_of(diff: Difference) -> str | None:
    if diff.table in ("agency", "circular", "letter"):
        return str(diff.key[0])
    if diff.table in ("receipt", "letter_variant", "merge", "deadline"):
        return str(diff.key[0]).split(" @ ")[0]
    if diff.table == "citation":
        return str(diff.key[1]).split(" @ ")[0]
    if diff.table == "dispatch":
        return f"{diff.key[0]}:{diff.key[1]}"
    if diff.table == "handoff":
        circular, _, rest = str(diff.key[0]).partition(" / ")
        return f"{circular}:{rest.partition(' / ')[0]}"
    return None


def _with_last_event(session: Session, diff: Difference) -> Difference:
    subject = _subject_of(diff)
    if subject is None:
        return diff
    event = session.exec(
        select(Event).where(Event.subject == subject).order_by(col(Event.seq).desc()).limit(1)
    ).first()
    if event is None:
        return diff
    return Difference(diff.table, diff.key, diff.problem, f"event #{event.seq} {event.kind}")


# --- the ingest log, stamps the log only bounds ---------------------------------------------------


def check_ingest_log(
    session: Session, runs: Iterable[IngestRun]
) -> tuple[list[Difference], tuple[int, int, int]]:
    """Hold the `ingest_log` rows to the ingests the log redid (`runs`).

    Each run's row is written just after its `ingest.file` event in the same transaction: same file
    and sha256, taken within STAMP_WINDOW after the event, and the counts the event carries, if it
    does. A row no event accounts for must be a run that changed nothing (such a run appends no
    event, by design); one that claims letters added or merged is named. Returns the differences
    and (rows matched to an event, rows of runs that changed nothing, which nothing can check,
    matched rows whose event carries no counts to compare).
    """
    rows = list(session.exec(select(IngestLog).order_by(col(IngestLog.id))))
    claimed: set[int | None] = set()
    out: list[Difference] = []
    matched = uncounted = 0
    for run in runs:
        key = (run.file, f"event #{run.seq}")
        last = f"event #{run.seq} ingest.file"
        candidates = [
            r
            for r in rows
            if r.id not in claimed
            and r.file == run.file
            and r.sha256 == run.sha256
            and run.at <= r.at <= run.at + STAMP_WINDOW
        ]
        if not candidates:
            problem = (f"no ingest_log row for the run logged by event #{run.seq} (deleted, or its file, "
                       "sha256 or time altered behind the application's back?)")  # fmt: skip
            out.append(Difference("ingest_log", key, problem, last))
            continue
        row = min(candidates, key=lambda r: r.at - run.at)
        claimed.add(row.id)
        matched += 1
        uncounted += run.counts is None
        logged = run.counts or {}
        wrong = [
            f"{name} is {getattr(row, name)} in the database but {logged.get(name, 0)} by the log"
            for name in INGEST_COUNTS
            if run.counts is not None and getattr(row, name) != logged.get(name, 0)
        ]
        if wrong:
            out.append(Difference("ingest_log", key, "; ".join(wrong), last))
    idle = 0
    for row in rows:
        if row.id in claimed:
            continue
        if row.added or row.merged:
            problem = (f"claims {row.added} added, {row.merged} merged, but no ingest.file event logs that "
                       "run (added or altered behind the application's back?)")  # fmt: skip
            out.append(Difference("ingest_log", (row.file, _jsonable(row.at)), problem))
        else:
            idle += 1
    return out, (matched, idle, uncounted)


def _settle_bounded(
    db: dict[str, dict[tuple[Any, ...], list[Any]]],
    log: dict[str, dict[tuple[Any, ...], list[Any]]],
    bounded: dict[tuple[str, tuple[Any, ...]], Bound],
) -> list[Difference]:
    """For stamps an old event only bounds: name the database's stamp if it lies outside the bound,
    and in either case put the log's value in `db` so that `compare_states` compares the rest."""
    out = []
    for (table, key), bound in bounded.items():
        mine, theirs = db.get(table, {}).get(key), log.get(table, {}).get(key)
        if not mine or not theirs or len(mine) != 1 or len(theirs) != 1:
            continue  # a row missing on one side: compare_states names it
        a, b = dict(mine[0]), dict(theirs[0])
        value = a.get(bound.column)
        try:
            stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            stamp = None
        if stamp is None or stamp.tzinfo is None or not bound.at - STAMP_WINDOW <= stamp <= bound.at:
            problem = (f"{bound.column} is {value!r} in the database, but event #{bound.seq} {bound.kind} "
                       f"(written before events carried it) puts it within {int(STAMP_WINDOW.total_seconds())} s "
                       f"before {_jsonable(bound.at)}")  # fmt: skip
            out.append(Difference(table, key, problem, f"event #{bound.seq} {bound.kind}"))
        a[bound.column] = b.get(bound.column)
        db[table][key] = [tuple(sorted(a.items()))]
    return out


# --- verify -----------------------------------------------------------------------------------------

_NO_ANCHOR = (
    "no anchor given: a log cut short at its end (its newest events deleted with the rows they "
    "wrote), or rewritten with recomputed hashes, would pass; keep `saraban audit head` outside the "
    "database and pass it with --anchor"
)


@dataclass(frozen=True)
class AuditReport:
    """Outcome of `verify`: the chain's check, the anchors', then the state's and the ingest log's
    against a replay of the log."""

    chain: VerifyResult
    differences: tuple[Difference, ...] = ()
    replay_error: str | None = None
    replayed: int = 0
    anchors: tuple[AnchorCheck, ...] = ()
    head: Anchor | None = None
    ingest_runs: tuple[int, int] | None = None  # (matched to an event, runs that changed nothing)
    uncounted: int = 0  # matched runs whose event carries no counts (compared: file, sha256, time)
    state_error: str | None = None  # the state tables could not be read

    @property
    def ok(self) -> bool:
        return (
            self.chain.ok
            and not self.differences
            and self.replay_error is None
            and self.state_error is None
            and all(a.ok for a in self.anchors)
        )

    def lines(self, limit: int = 20) -> list[str]:
        out = [str(self.chain)]
        out += [str(a) for a in self.anchors] if self.anchors else [_NO_ANCHOR]
        if not self.chain.ok:
            out.append("state not checked: the log itself cannot be trusted")
            return out
        if self.replay_error:
            out.append(f"state not checked: the log cannot be replayed: {self.replay_error}")
            return out
        if self.state_error:
            out.append(f"state not checked: {self.state_error}")
            return out
        state = [d for d in self.differences if d.table != "ingest_log"]
        ingest = [d for d in self.differences if d.table == "ingest_log"]
        if state:
            out.append(f"state differs from the log in {len(state)} row(s):")
            out += [f"  {d}" for d in state[:limit]]
            if len(state) > limit:
                out.append(f"  ... and {len(state) - limit} more")
        else:
            out.append(f"state matches the log ({self.replayed} events replayed)")
        if ingest:
            out.append(f"ingest log differs from the log in {len(ingest)} row(s):")
            out += [f"  {d}" for d in ingest[:limit]]
            if len(ingest) > limit:
                out.append(f"  ... and {len(ingest) - limit} more")
        if self.ingest_runs is not None:
            matched, idle = self.ingest_runs
            counts = f" ({self.uncounted} without logged counts, not compared)" if self.uncounted else ""
            out.append(
                f"ingest log: {matched} run(s) match their ingest.file events{counts}; {idle} run(s) "
                "that changed nothing are outside the chain (not checked)"
            )
        if self.ok and self.head is not None:
            out.append(f"head of the log: {self.head}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


_TABLE_ORDER = [*_KEYS, "ingest_log"]


def verify(session: Session, anchors: Iterable[Anchor] = ()) -> AuditReport:
    """Check the event chain and the `anchors` (see `head`), then replay the log into a scratch
    database and compare the states and the ingest log."""
    chain = verify_chain(session)
    checks = check_anchors(session, anchors)
    tip = head(session)
    if not chain.ok:
        return AuditReport(chain, anchors=checks, head=tip)
    events = [_detached(e) for e in session.exec(select(Event).order_by(col(Event.seq)))]
    scratch = scratch_engine()
    try:
        with Session(scratch, expire_on_commit=False) as replayed, replayed.begin():
            try:
                report = replay_into(replayed, events)
            except ReplayError as exc:
                return AuditReport(chain, replay_error=str(exc), anchors=checks, head=tip)
            expected = state_dump(replayed, stamps=True)
    finally:
        scratch.dispose()
    try:
        actual = state_dump(session, stamps=True)
    except (ValueError, TypeError, LookupError) as exc:  # a value no column type can read back
        problem = (f"{_unreadable(session)} holds a value the application cannot read "
                   f"({type(exc).__name__}: {exc}): altered behind the application's back?")  # fmt: skip
        return AuditReport(chain, state_error=problem, replayed=report.replayed, anchors=checks, head=tip)
    differences = _settle_bounded(actual, expected, report.bounded) + compare_states(actual, expected)
    logged, (matched, idle, uncounted) = check_ingest_log(session, report.ingests)
    differences = sorted(differences + logged, key=lambda d: (_TABLE_ORDER.index(d.table), repr(d.key)))
    return AuditReport(
        chain,
        tuple(d if d.last_event else _with_last_event(session, d) for d in differences[:200]),
        None,
        report.replayed,
        checks,
        tip,
        (matched, idle),
        uncounted,
    )


# --- history ----------------------------------------------------------------------------------------


def log(
    session: Session, letter: str | None = None, agency: str | None = None, limit: int = 200
) -> list[Event]:
    """The newest `limit` events (oldest first) about a letter (any printed form) and/or an agency."""
    query = select(Event)
    if letter is not None:
        try:
            row = lookup_letter(session, letter)
        except ValueError as exc:
            raise AuditError(f"--letter {letter!r}: {exc}") from None
        if row is None:
            raise AuditError(f"no letter {letter!r} on record")
        quoted = json.dumps(row.number, ensure_ascii=False)
        query = query.where(
            or_(Event.subject == row.number, col(Event.payload).contains(quoted, autoescape=True))
        )
    if agency is not None:
        agency_id = resolve_agency(agency).id
        quoted = json.dumps(agency_id, ensure_ascii=False)
        query = query.where(
            or_(
                Event.subject == agency_id,
                col(Event.subject).endswith(f":{agency_id}", autoescape=True),
                col(Event.payload).contains(quoted, autoescape=True),
            )
        )
    newest = list(session.exec(query.order_by(col(Event.seq).desc()).limit(limit)))
    return newest[::-1]


def event_json(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "on_behalf_of": event.on_behalf_of,
        "kind": event.kind,
        "subject": event.subject,
        "payload": json.loads(event.payload),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
