"""Snapshots: the state rows an event is about, spelt as the event log carries them.

Below the event log (`records.events` takes a `rows` snapshot or a wall-clock stamp in the
transaction of a summary event), above only the tables: the writers build snapshots of the rows
they wrote from here, and the audit's replay reads them back (`records.audit.apply_rows`).
Rows are keyed by natural keys (a letter is its number and date), never by surrogate ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import AgencyRow, Circular, Dispatch, Handoff, LetterRow, Merge, Receipt

# --- value spelling shared by snapshots and dumps ---------------------------------------------------


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    return value


# --- snapshots: the rows a summary event is about ---------------------------------------------------

HANDOFF_COLUMNS = ("level", "sent_on", "received_on", "forwarded_on", "due_receive", "due_forward",
                    "status", "overdue_flagged_at")  # fmt: skip


def dispatch_snapshot(
    session: Session, dispatch: Dispatch, handoffs: Iterable[Handoff], letter: LetterRow | None = None
) -> dict[str, Any]:
    """A dispatch and the given handoffs of it, keyed by natural keys (letter number and date);
    `letter` is the dispatch's letter when the caller has it already."""
    letter = letter or session.get(LetterRow, dispatch.letter_id)
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
    return _spelt_dispatch(dispatch, letter_number, letter_date, [spell_handoff(h) for h in handoffs])


def spell_handoff(handoff: Mapping[Any, Any]) -> dict[str, Any]:
    """A handoff as a snapshot carries it (`recipient_id`, `circular_id` and HANDOFF_COLUMNS)."""
    return {"recipient": handoff["recipient_id"], "circular": handoff["circular_id"]} | {
        k: jsonable(handoff[k]) for k in HANDOFF_COLUMNS
    }


def _spelt_dispatch(
    dispatch: Mapping[str, Any], letter_number: str, letter_date: date, handoffs: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "circular": dispatch["circular_id"],
        "letter": letter_number,
        "letter_date": letter_date.isoformat(),
        "sender": dispatch["sender_id"],
        "sent_on": dispatch["sent_on"].isoformat(),
        "sent_at": jsonable(dispatch["sent_at"]),
        "level": dispatch["level"],
        "source": dispatch["source"],
        "handoffs": sorted(handoffs, key=lambda h: h["recipient"]),
    }


def snapshot_rows(session: Session, kind: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The state rows a summary event of `kind` is about, read in its transaction (for replay)."""
    if kind in ("dispatch.recorded", "dispatch.planned"):
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
        first = payload.get("first") or payload.get("first_late") or []
        probe = session.get(Handoff, first[0]) if first else None
        if probe is None or probe.overdue_flagged_at is None:
            return {"dispatches": []}
        # One sweep stamps every handoff it flags (overdue, or announced late) with the same moment.
        # A first sweep over a year flags a million: plain rows, not ORM objects.
        ho, dp = Handoff.__table__.c, Dispatch.__table__.c  # type: ignore[attr-defined]
        letter = LetterRow.__table__  # type: ignore[attr-defined]
        flagged = (ho.overdue_flagged_at == probe.overdue_flagged_at, ho.status.in_(("overdue", "late")))
        # Their dispatches with their letters first, in a few queries; then each handoff is spelt
        # as it is read, so that the sweep holds one copy of each.
        ids = sorted(session.execute(sa.select(ho.dispatch_id).where(*flagged).distinct()).scalars())
        senders: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), 5000):
            pairs = session.execute(
                sa.select(dp.id, *(dp[k] for k in DISPATCH_COLUMNS), letter.c.number, letter.c.date)
                .join(letter, letter.c.id == dp.letter_id)
                .where(dp.id.in_(ids[start : start + 5000]))
            )
            senders.update((d["id"], dict(d)) for d in pairs.mappings())
        spelt: dict[int, list[dict[str, Any]]] = defaultdict(list)
        columns = (ho.dispatch_id, ho.recipient_id, ho.circular_id, *(ho[k] for k in HANDOFF_COLUMNS))
        flagged_rows = session.connection().execute(
            sa.select(*columns).where(*flagged)
        )  # streamed, not all fetched
        for h in flagged_rows.mappings():
            spelt[h["dispatch_id"]].append(spell_handoff(h))
        dispatches = []
        for i in ids:
            d = senders[i]
            dispatches.append(_spelt_dispatch(d, d["number"], d["date"], spelt.pop(i)))
        return {"dispatches": dispatches}
    if kind == "agencies.synced":
        # `sync_agencies` logs the ids it added; for an event logged without them, the ids
        # present afterwards (a superset: replay adds those missing from the replayed record).
        return {"agency_ids": sorted(session.exec(select(AgencyRow.id)).all())}
    raise AssertionError(f"no snapshot for {kind}")


def receipt_snapshot(session: Session, receipt: Receipt) -> dict[str, Any]:
    letter = session.get(LetterRow, receipt.letter_id)
    assert letter is not None
    fields = ("agency_id", "registry", "number", "year", "date", "time", "received_at", "source",
              "source_file", "source_line")  # fmt: skip
    return {"letter": letter.number, "letter_date": letter.date.isoformat()} | {
        k: jsonable(getattr(receipt, k)) for k in fields
    }


def receipt_identity(receipt: Receipt) -> dict[str, Any]:
    """What finds a receipt among its letter's (its natural key without the letter), as logged by
    `receipt.voided` and `receipt.corrected` before the change."""
    return {k: jsonable(getattr(receipt, k)) for k in ("registry", "number", "date", "source")}


def agency_snapshot(row: AgencyRow) -> dict[str, Any]:
    return {"id": row.id, "name_th": row.name_th, "name_en": row.name_en, "level": row.level,
            "parent_id": row.parent_id}  # fmt: skip


def merge_of(session: Session, number: str, on: str, alias: str) -> Merge | None:
    return session.exec(
        select(Merge)
        .join(LetterRow, col(LetterRow.id) == col(Merge.kept_letter_id))
        .where(LetterRow.number == number, LetterRow.date == date.fromisoformat(on), Merge.alias == alias)
    ).first()


def stamp_fields(session: Session, kind: str, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The wall-clock stamp of the row a `letter.alias_merged` or `circular.created` event announces,
    read in its transaction (`records.events.STAMPED_KINDS`), or {} when the row is not there."""
    if kind == "letter.alias_merged":
        merge = merge_of(session, subject, payload["date"], payload["alias"])
        return {} if merge is None else {"made_at": jsonable(merge.made_at)}
    if kind == "circular.created":
        circular = session.get(Circular, subject)
        return {} if circular is None else {"created_at": jsonable(circular.created_at)}
    raise AssertionError(f"no stamp for {kind}")
