"""Audit: check that the record is what its event log says, rebuild it from the log, show history.

`verify` checks two things:

1. the hash chain (`records.events.verify_chain`): editing, deleting or reordering any event
   breaks it, and the first event that does not fit is named;
2. the state tables: the log is replayed into a scratch in-memory SQLite database (`replay`) and
   the two states are compared table by table, row by row, on natural keys (a letter is its
   number and date, a dispatch its circular, sender and letter...), so surrogate ids, which differ
   between backends and after rolled-back transactions, do not matter. A row changed, added or
   deleted behind the application's back is named with the field that differs and the last event
   that logged a change to it.

Replay works because every state change is logged with enough to redo it:

- `ingest.file` carries the letters a file yielded (their full JSON): replay ingests the same
  letters in the same order, and the service layer's determinism does the rest (the
  fine-grained `letter.*`, `citation.*` and `circular.*` events of that transaction are its
  effects and are skipped);
- clerk receipts and dispatches (`receipt.registered`, `dispatch.registered`) and the summary
  events of the flows (`dispatch.recorded`, `handoffs.flagged_overdue`, `agencies.synced`) carry
  a `rows` snapshot of the state rows they wrote (see `snapshot_rows`), applied as upserts;
- `agency.added`, `agency.updated` and `circular.plan_set` carry their fields.

Two columns are bookkeeping stamped with the wall clock when a row is made and are left out of
the comparison: `merge.made_at` and `circular.created_at`. The ingest log is not state.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
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
    LetterRow,
    Receipt,
    new_row,
)
from records.events import REPLAYING, VerifyResult, verify_chain

# Effects of an `ingest.file` in the same transaction: replaying the ingest redoes them.
DERIVED_KINDS = frozenset(
    {
        "letter.added", "letter.realised", "letter.merged", "letter.placeholder",
        "letter.placeholder_removed", "letter.alias_merged", "letter.alias_removed",
        "citation.ambiguous", "citation.resolved", "citation.dropped_duplicate",
        "circular.created", "circular.updated", "circular.members_added", "circular.removed",
    }
)  # fmt: skip

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
# Wall-clock stamps of row creation: not reproducible by a replay, so not compared.
_UNCOMPARED = {"merge": ("id", "made_at"), "circular": ("created_at",)}


class AuditError(ValueError):
    """A request the audit cannot answer (unknown letter, non-empty replay target...)."""


class ReplayError(AuditError):
    """An event the replay cannot redo; names the event."""


# --- value spelling shared by snapshots and dumps ---------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _letter_key(row: LetterRow) -> str:
    return f"{row.number} @ {row.date.isoformat()}"


# --- snapshots: the rows a summary event is about ---------------------------------------------------

HANDOFF_COLUMNS = ("level", "sent_on", "received_on", "forwarded_on", "due_receive", "due_forward",
                    "status", "overdue_flagged_at")  # fmt: skip


def dispatch_snapshot(session: Session, dispatch: Dispatch, handoffs: Iterable[Handoff]) -> dict[str, Any]:
    """A dispatch and the given handoffs of it, keyed by natural keys (letter number and date)."""
    letter = session.get(LetterRow, dispatch.letter_id)
    assert letter is not None
    return dispatch_snapshot_of(
        {k: getattr(dispatch, k) for k in DISPATCH_COLUMNS},
        letter.number,
        letter.date,
        ({k: getattr(h, k) for k in ("recipient_id", "circular_id", *HANDOFF_COLUMNS)} for h in handoffs),
    )


DISPATCH_COLUMNS = ("circular_id", "sender_id", "sent_on", "sent_at", "level", "source")


def dispatch_snapshot_of(
    dispatch: dict[str, Any], letter_number: str, letter_date: date, handoffs: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """`dispatch_snapshot` from plain values: a writer that knows the rows it wrote (and the ones it
    left alone) builds the snapshot without reading them back. `dispatch` has DISPATCH_COLUMNS, each
    handoff `recipient_id`, `circular_id` and HANDOFF_COLUMNS."""
    return {
        "circular": dispatch["circular_id"],
        "letter": letter_number,
        "letter_date": letter_date.isoformat(),
        "sender": dispatch["sender_id"],
        "sent_on": dispatch["sent_on"].isoformat(),
        "sent_at": _jsonable(dispatch["sent_at"]),
        "level": dispatch["level"],
        "source": dispatch["source"],
        "handoffs": sorted(
            (
                {"recipient": h["recipient_id"], "circular": h["circular_id"]}
                | {k: _jsonable(h[k]) for k in HANDOFF_COLUMNS}
                for h in handoffs
            ),
            key=lambda h: h["recipient"],
        ),
    }


def snapshot_rows(session: Session, kind: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The state rows a summary event of `kind` is about, read in its transaction (for replay)."""
    if kind == "dispatch.recorded":
        circular_id, _, sender = subject.partition(":")
        rows = session.exec(
            select(Dispatch)
            .join(LetterRow, col(LetterRow.id) == col(Dispatch.letter_id))
            .where(
                Dispatch.circular_id == circular_id,
                Dispatch.sender_id == sender,
                LetterRow.number == payload.get("letter"),
            )
        ).all()
        return {
            "dispatches": [
                dispatch_snapshot(
                    session, d, session.exec(select(Handoff).where(Handoff.dispatch_id == d.id))
                )
                for d in rows
            ]
        }
    if kind == "handoffs.flagged_overdue":
        first = payload.get("first") or []
        probe = session.get(Handoff, first[0]) if first else None
        if probe is None or probe.overdue_flagged_at is None:
            return {"dispatches": []}
        # One sweep stamps every handoff it flags with the same moment.
        flagged = session.exec(
            select(Handoff).where(
                Handoff.overdue_flagged_at == probe.overdue_flagged_at, Handoff.status == "overdue"
            )
        ).all()
        by_dispatch: dict[int, list[Handoff]] = defaultdict(list)
        for h in flagged:
            by_dispatch[h.dispatch_id].append(h)
        out = []
        for dispatch_id, handoffs in sorted(by_dispatch.items()):
            d = session.get(Dispatch, dispatch_id)
            assert d is not None
            out.append(dispatch_snapshot(session, d, handoffs))
        return {"dispatches": out}
    if kind == "agencies.synced":
        # The writer inserts directory entries in bulk; the ids present afterwards say which.
        return {"agency_ids": sorted(session.exec(select(AgencyRow.id)).all())}
    raise AssertionError(f"no snapshot for {kind}")


def receipt_snapshot(session: Session, receipt: Receipt) -> dict[str, Any]:
    letter = session.get(LetterRow, receipt.letter_id)
    assert letter is not None
    fields = ("agency_id", "registry", "number", "year", "date", "time", "received_at", "source",
              "source_file", "source_line")  # fmt: skip
    return {"letter": letter.number, "letter_date": letter.date.isoformat()} | {
        k: _jsonable(getattr(receipt, k)) for k in fields
    }


def agency_snapshot(row: AgencyRow) -> dict[str, Any]:
    return {"id": row.id, "name_th": row.name_th, "name_en": row.name_en, "level": row.level,
            "parent_id": row.parent_id}  # fmt: skip


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
        from records.progress import directory

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


@dataclass
class ReplayReport:
    """What a replay did: events read, events redone (the rest were effects of those)."""

    events: int = 0
    replayed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _replay_event(session: Session, event: Event) -> bool:
    payload = json.loads(event.payload)
    kind = event.kind
    if kind == "ingest.file":
        from records.service import ingest_letters

        letters = [Letter.model_validate(item) for item in payload["letters"]]
        ingest_letters(session, letters, file=event.subject, sha256=payload["sha256"], actor=event.actor)
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
    elif "rows" in payload:
        apply_rows(session, payload["rows"])
    elif kind in DERIVED_KINDS:
        return False
    else:
        raise ReplayError(
            f"event #{event.seq} ({kind}) cannot be replayed: its payload does not say what to write"
        )
    return True


def replay_into(session: Session, events: Iterable[Event]) -> ReplayReport:
    """Redo `events` (in order) in `session`'s transaction, writing no new events."""
    report = ReplayReport()
    session.info[REPLAYING] = True
    try:
        for event in events:
            report.events += 1
            try:
                redone = _replay_event(session, event)
            except ReplayError:
                raise
            except Exception as exc:
                raise ReplayError(f"event #{event.seq} ({event.kind}): {type(exc).__name__}: {exc}") from exc
            if redone:
                report.replayed += 1
                report.by_kind[event.kind] = report.by_kind.get(event.kind, 0) + 1
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


def state_dump(session: Session) -> dict[str, dict[tuple[Any, ...], list[tuple[tuple[str, Any], ...]]]]:
    """Every state row, ids replaced by natural keys: table -> natural key -> sorted row values."""
    letters = {r.id: _letter_key(r) for r in session.exec(select(LetterRow))}
    dispatch_keys = {
        d.id: f"{d.circular_id} / {d.sender_id} / {letters.get(d.letter_id)}"
        for d in session.exec(select(Dispatch))
    }
    out: dict[str, dict[tuple[Any, ...], list[tuple[tuple[str, Any], ...]]]] = {}
    for table in STATE_TABLES:
        name = str(table.__table__.name)  # type: ignore[attr-defined]
        skip = _UNCOMPARED.get(name, ()) + (() if name in ("agency", "circular") else ("id",))
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


# --- verify -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditReport:
    """Outcome of `verify`: the chain's check, then the state's check against a replay of the log."""

    chain: VerifyResult
    differences: tuple[Difference, ...] = ()
    replay_error: str | None = None
    replayed: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.differences and self.replay_error is None

    def lines(self, limit: int = 20) -> list[str]:
        out = [str(self.chain)]
        if not self.chain.ok:
            out.append("state not checked: the log itself cannot be trusted")
            return out
        if self.replay_error:
            out.append(f"state not checked: the log cannot be replayed: {self.replay_error}")
            return out
        if not self.differences:
            out.append(f"state matches the log ({self.replayed} events replayed)")
            return out
        out.append(f"state differs from the log in {len(self.differences)} row(s):")
        out += [f"  {d}" for d in self.differences[:limit]]
        if len(self.differences) > limit:
            out.append(f"  ... and {len(self.differences) - limit} more")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def verify(session: Session) -> AuditReport:
    """Check the event chain, then replay the log into a scratch database and compare the states."""
    chain = verify_chain(session)
    if not chain.ok:
        return AuditReport(chain)
    events = [_detached(e) for e in session.exec(select(Event).order_by(col(Event.seq)))]
    scratch = scratch_engine()
    try:
        with Session(scratch, expire_on_commit=False) as replayed, replayed.begin():
            try:
                report = replay_into(replayed, events)
            except ReplayError as exc:
                return AuditReport(chain, replay_error=str(exc))
            expected = state_dump(replayed)
    finally:
        scratch.dispose()
    differences = compare_states(state_dump(session), expected)
    return AuditReport(
        chain, tuple(_with_last_event(session, d) for d in differences[:200]), None, report.replayed
    )


# --- history ----------------------------------------------------------------------------------------


def log(
    session: Session, letter: str | None = None, agency: str | None = None, limit: int = 200
) -> list[Event]:
    """The newest `limit` events (oldest first) about a letter (any printed form) and/or an agency."""
    query = select(Event)
    if letter is not None:
        from records.service import lookup_letter

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
        from records.registry import resolve_agency

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
