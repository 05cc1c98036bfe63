"""Recording dispatches: one agency's letter sent on to its addressees, and their handoffs.

`records.progress.plan_route` says what each dispatch should hold (`DispatchSpec`, one per sending
agency, each with its addressees' `HandoffSpec`s); `record_dispatches` writes them with a handful of
statements per batch and returns each addressee's `HandoffState`. The writer process of a routing
run (`flows.writer`) imports this module and not `records.progress`: it needs the tables and the
event log, not networkx, the routing package or the reference data (about 0.3 s of its start-up).

Idempotent under retries and overlapping runs: UNIQUE(circular, sender, letter) and
UNIQUE(dispatch, recipient) with compare-and-write upserts mean a second writer rewrites nothing
that already says the same, and logs no event for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.tables import Dispatch, Handoff
from records.events import NewEvent, append_event_rows, default_actor
from records.snapshots import DISPATCH_COLUMNS, HANDOFF_COLUMNS, dispatch_snapshot_of

LEVEL_TITLES_TH = {
    "cabinet": "คณะรัฐมนตรี",
    "central": "ส่วนกลาง",
    "ministry": "กระทรวง",
    "department": "กรม",
    "province": "จังหวัด",
    "district": "อำเภอ",
    "local": "อปท.",
}


# Event kinds of a routing run's dispatches: one seen on file (its sender's letter is in the record)
# and one only the routing plan expects. Logs written before they were told apart hold both under
# `dispatch.recorded`, with a payload `provenance` of "recorded" or "planned"; both replay alike.
RECORDED_KIND = "dispatch.recorded"
PLANNED_KIND = "dispatch.planned"
DISPATCH_KINDS = frozenset({RECORDED_KIND, PLANNED_KIND})


def dispatch_kind(sent: bool) -> str:
    """The event kind of a dispatch: `dispatch.recorded` when its sending is on file, else planned."""
    return RECORDED_KIND if sent else PLANNED_KIND


class HandoffSpec(NamedTuple):
    """One addressee's copy of a dispatch, with its deadlines from propagation.

    HandoffSpec and HandoffState are NamedTuples, not dataclasses: a national route holds ~8,400
    of each, and a tuple of strings and dates is one the cyclic garbage collector stops tracking,
    so they do not add to the full collections of the flow's process (~0.4 s each there)."""

    recipient_id: str
    recipient_name: str
    level: str
    received_on: date | None
    forwarded_on: date | None
    due_receive: date | None
    due_forward: date | None
    expected_forward: date | None
    status: str


@dataclass(frozen=True, slots=True)
class DispatchSpec:
    """One agency sending the circular on to its addressees: the unit of one Prefect task."""

    key: str
    sender_id: str
    sender_name: str
    level: str
    letter_id: int
    letter_number: str
    letter_date: date | None
    sent_on: date
    sent: bool
    upstream: str | None
    recipients: tuple[HandoffSpec, ...]

    @property
    def recipient_summary(self) -> str:
        if len(self.recipients) == 1:
            return self.recipients[0].recipient_name
        levels = Counter(r.level for r in self.recipients)
        return ", ".join(f"{LEVEL_TITLES_TH.get(lv, lv)} ×{n}" for lv, n in levels.items())

    @property
    def run_name(self) -> str:
        """The Prefect task run name: level and agency first, so a run is findable untagged."""
        return f"{self.level} {self.sender_id} {self.sender_name} → {self.recipient_summary}"


class HandoffState(NamedTuple):
    """One handoff as a dispatch task reports it: its state and due date (see HandoffSpec)."""

    circular_id: str
    sender_id: str
    recipient_id: str
    level: str
    status: str
    due_forward: date | None
    forwarded_on: date | None


_HANDOFF_FIELDS = ("level", "sent_on", "received_on", "forwarded_on", "due_receive", "due_forward", "status")


@dataclass(frozen=True)
class _DispatchStatements:
    """record_dispatches' statements, built once per dialect: Core, so SQLAlchemy compiles each once
    and reuses it from its cache (building an upsert's `excluded` afresh cost ~1 ms a call)."""

    add_dispatches: Any
    get_dispatches: Any
    set_dispatch: Any
    get_handoffs: Any
    put_handoffs: Any


@cache
def _dispatch_statements(dialect: str) -> _DispatchStatements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    d, h = Dispatch.__table__, Handoff.__table__  # type: ignore[attr-defined]
    columns = (d.c.id, d.c.letter_id, *(d.c[k] for k in DISPATCH_COLUMNS))
    put = insert(h)
    return _DispatchStatements(
        # RETURNING names the rows this statement made; a dispatch already stored returns nothing
        # and is read by get_dispatches.
        add_dispatches=insert(d)
        .on_conflict_do_nothing(index_elements=["circular_id", "sender_id", "letter_id"])
        .returning(*columns),
        get_dispatches=sa.select(*columns).where(
            d.c.circular_id.in_(sa.bindparam("circulars", expanding=True)),
            d.c.sender_id.in_(sa.bindparam("senders", expanding=True)),
        ),
        set_dispatch=sa.update(d)
        .where(d.c.id == sa.bindparam("d_id"))
        .values(sent_on=sa.bindparam("new_sent_on"), source=sa.bindparam("new_source")),
        get_handoffs=sa.select(
            h.c.dispatch_id, h.c.recipient_id, h.c.circular_id, *(h.c[k] for k in HANDOFF_COLUMNS)
        ).where(h.c.dispatch_id.in_(sa.bindparam("ids", expanding=True))),
        put_handoffs=put.on_conflict_do_update(
            index_elements=["dispatch_id", "recipient_id"], set_={k: put.excluded[k] for k in _HANDOFF_FIELDS}
        ),
    )


def record_dispatch(
    session: Session, circular_id: str, spec: DispatchSpec, *, actor: str | None = None
) -> list[HandoffState]:
    """Write one dispatch and its handoffs; rows that already say the same are left untouched.

    The `dispatch.recorded` (or, for a dispatch only the plan expects, `dispatch.planned`) event
    carries the snapshot of the dispatch's rows as they now stand,
    built from what was read and written here rather than read back (see `records.events`).
    """
    return record_dispatches(session, [(circular_id, spec)], actor=actor)[0]


def record_dispatches(
    session: Session, items: Sequence[tuple[str, DispatchSpec]], *, actor: str | None = None
) -> list[list[HandoffState]]:
    """`record_dispatch` for several (circular id, dispatch) pairs in the caller's transaction, with
    a handful of statements for all of them (a group commit: see `flows.writer`). Each dispatch
    still gets its own event (`dispatch.recorded` or `dispatch.planned`). Returns each item's
    handoff states, in order."""
    if not items:
        return []
    # The same dispatch twice (overlapping runs in one process): the later one goes in a second
    # pass, so that it sees what the first wrote, as two separate calls would.
    keys = [(c, spec.sender_id, spec.letter_id) for c, spec in items]
    if len(set(keys)) < len(keys):
        first: list[int] = []
        rest: list[int] = []
        seen: set[tuple[str, str, int]] = set()
        for i, k in enumerate(keys):
            (rest if k in seen else first).append(i)
            seen.add(k)
        out = dict(
            zip(first, record_dispatches(session, [items[i] for i in first], actor=actor), strict=True)
        )
        out |= dict(zip(rest, record_dispatches(session, [items[i] for i in rest], actor=actor), strict=True))
        return [out[i] for i in range(len(items))]
    conn = session.connection()
    sql = _dispatch_statements(conn.dialect.name)
    made = {
        (r.circular_id, r.sender_id, r.letter_id): dict(r._mapping)
        for r in conn.execute(
            sql.add_dispatches,
            [{"circular_id": c, "letter_id": spec.letter_id, "sender_id": spec.sender_id, "sent_on": spec.sent_on,
              "level": spec.recipients[0].level, "source": "ocr" if spec.sent else "plan"} for c, spec in items],
        )
    }  # fmt: skip
    stored = made
    if len(made) < len(keys):  # some were stored before: read them
        older = [(c, s.sender_id) for (c, s), k in zip(items, keys, strict=True) if k not in made]
        params = {"circulars": sorted({c for c, _ in older}), "senders": sorted({s for _, s in older})}
        stored = {
            (r.circular_id, r.sender_id, r.letter_id): dict(r._mapping)
            for r in conn.execute(sql.get_dispatches, params)
        } | made
    dispatches = [stored[k] for k in keys]
    changed = []
    for (_, spec), dispatch in zip(items, dispatches, strict=True):
        source = "ocr" if spec.sent else "plan"
        if dispatch["sent_on"] != spec.sent_on or dispatch["source"] != source:
            changed.append({"d_id": dispatch["id"], "new_sent_on": spec.sent_on, "new_source": source})
            dispatch.update(sent_on=spec.sent_on, source=source)
    if changed:
        conn.execute(sql.set_dispatch, changed)
    changed_ids = {c["d_id"] for c in changed}
    existing: dict[int, dict[str, dict[str, Any]]] = {d["id"]: {} for d in dispatches}
    # A dispatch made by this statement has no handoffs yet (they reference it): read the others'.
    older_ids = [d["id"] for k, d in zip(keys, dispatches, strict=True) if k not in made]
    if older_ids:
        for row in conn.execute(sql.get_handoffs, {"ids": older_ids}):
            existing[row.dispatch_id][row.recipient_id] = dict(row._mapping)
    wanted: list[dict[str, Any]] = []
    events: list[NewEvent] = []
    actor = actor or default_actor()
    for (circular_id, spec), dispatch in zip(items, dispatches, strict=True):
        rows = existing[dispatch["id"]]
        written = 0
        for r in spec.recipients:
            values = {
                "level": r.level, "sent_on": spec.sent_on, "received_on": r.received_on, "forwarded_on": r.forwarded_on,
                "due_receive": r.due_receive, "due_forward": r.due_forward, "status": r.status,
            }  # fmt: skip
            have = rows.get(r.recipient_id)
            if have is not None and all(have[k] == values[k] for k in _HANDOFF_FIELDS):
                continue
            written += 1
            wanted.append({"dispatch_id": dispatch["id"], "circular_id": circular_id, "recipient_id": r.recipient_id,
                           **values})  # fmt: skip
            # What the row holds after the upsert: the new values, the overdue flag left as it was.
            flagged = have["overdue_flagged_at"] if have is not None else None
            rows[r.recipient_id] = {**values, "recipient_id": r.recipient_id, "circular_id": circular_id,
                                    "overdue_flagged_at": flagged}  # fmt: skip
        if not written and dispatch["id"] not in changed_ids:
            continue
        payload: dict[str, Any] = {
            "letter": spec.letter_number, "sent_on": spec.sent_on.isoformat(), "sent": spec.sent,
            "handoffs_written": written, "recipients": len(spec.recipients),
            # A dispatch only the routing plan expects is no fact (see routing.handoffs.Provenance).
            "provenance": "recorded" if spec.sent else "planned",
        }  # fmt: skip
        if spec.letter_date is not None:
            snapshot = dispatch_snapshot_of(dispatch, spec.letter_number, spec.letter_date, rows.values())
            payload["rows"] = {"dispatches": [snapshot]}
        events.append(NewEvent(dispatch_kind(spec.sent), f"{circular_id}:{spec.sender_id}", payload, actor))
    if wanted:
        conn.execute(sql.put_handoffs, wanted)
    if events:
        append_event_rows(session, events)
    return [
        [HandoffState(c, spec.sender_id, r.recipient_id, r.level, r.status, r.due_forward, r.forwarded_on)
         for r in spec.recipients]
        for c, spec in items
    ]  # fmt: skip
