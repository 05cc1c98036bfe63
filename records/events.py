"""The event log: an append-only, hash-chained record of every change (who, when, what).

Each event's hash is sha256 over the previous event's hash followed by the canonical JSON of the
event (seq, time, actor, on-behalf-of, kind, subject, payload), so editing, deleting or reordering
any row breaks every hash after it; `verify_chain` names the first bad row.

Appends are serialised: on SQLite every write transaction starts with BEGIN IMMEDIATE
(`models.db`), on PostgreSQL the appender takes a transaction-scoped advisory lock before reading
the chain's tail. Sequence numbers are therefore gap-free and the chain never forks
(UNIQUE(prev_hash) would refuse a fork anyway).

Some writers log a summary (`dispatch.recorded` says how many handoffs it wrote, not which); for
those kinds (`SNAPSHOT_KINDS`) the payload also carries `rows`, a snapshot of the state rows the
event is about, taken in the same transaction by `records.snapshots.snapshot_rows`, so that the log
alone can rebuild the state (`saraban audit replay`) and check it (`saraban audit verify`).

Two events announce a row stamped with the wall clock when it is made: `letter.alias_merged`
(`merge.made_at`) and `circular.created` (`circular.created_at`). For those kinds
(`STAMPED_KINDS`) the payload also carries the stamp, read back in the same transaction by
`records.snapshots.stamp_fields`, so that verify compares it exactly and replay restores it. Logs
written before this carry no stamp; verify then bounds it by the event's own time instead.

The chain is unkeyed: anyone who can write the database can recompute it. What it proves, and
what only an anchor kept outside the database (`records.audit.head`) proves, is set out in
`records.audit` and docs/reliability.md.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.tables import Event, EventBase
from models.thai import BANGKOK, now_bangkok
from records.snapshots import snapshot_rows, stamp_fields

GENESIS_HASH = "0" * 64
ENV_ACTOR = "SARABAN_ACTOR"
# Arbitrary, fixed key of the PostgreSQL advisory lock guarding the tail of the chain.
_ADVISORY_LOCK_KEY = 0x5A4A_BA11
# Kinds whose writers log a summary; the payload gains a `rows` snapshot (see module docstring).
SNAPSHOT_KINDS = frozenset(
    {"dispatch.recorded", "dispatch.planned", "handoffs.flagged_overdue", "agencies.synced"}
)
# Kinds announcing a row stamped with the wall clock: payload field that carries the stamp.
STAMPED_KINDS: Mapping[str, str] = {"letter.alias_merged": "made_at", "circular.created": "created_at"}
# session.info keys: events appended in the session's transaction, and "replaying: write no events".
EVENTS_APPENDED = "saraban.events_appended"
REPLAYING = "saraban.replaying"


def canonical_json(value: Any) -> str:
    """The one JSON spelling used for payloads and hashes: sorted keys, Thai kept, no spaces.

    >>> canonical_json({"b": 1, "a": "ที่"})
    '{"a":"ที่","b":1}'
    """
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def default_actor() -> str:
    """Who is acting: `$SARABAN_ACTOR`, else the operating-system user."""
    actor = os.environ.get(ENV_ACTOR)
    if actor:
        return actor
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers): still record something
        return f"uid:{os.getuid()}"


def _iso(at: datetime) -> str:
    return at.astimezone(BANGKOK).isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str,
    *,
    seq: int,
    at: datetime,
    actor: str,
    on_behalf_of: str | None,
    kind: str,
    subject: str,
    payload: str,
) -> str:
    """sha256 of `prev_hash` + canonical JSON of the event's fields (payload as parsed JSON)."""
    body = canonical_json(
        {
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "on_behalf_of": on_behalf_of,
            "kind": kind,
            "subject": subject,
            "payload": json.loads(payload),
        }
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _lock_tail(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})


_TAIL = sa.select(col(Event.seq), col(Event.hash)).order_by(col(Event.seq).desc()).limit(1)
_INSERT = sa.insert(Event.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event to append (see `append_events`)."""

    kind: str
    subject: str
    payload: Mapping[str, Any]
    actor: str | None = None
    on_behalf_of: str | None = None


def append_event(
    session: Session,
    kind: str,
    subject: str,
    payload: Mapping[str, Any],
    *,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> Event:
    """Append one event in the caller's transaction and return it (written, not committed).

    Writers that log a summary (SNAPSHOT_KINDS) may pass the `rows` snapshot themselves, built
    from the rows they just wrote (see `records.snapshots.dispatch_snapshot_of`); otherwise it is read
    back here.

    While `session.info[REPLAYING]` is set (`records.audit.replay` rebuilding state from a log
    that already holds these events) nothing is written and an unsaved event is returned.
    """
    return append_events(session, [NewEvent(kind, subject, payload, actor, on_behalf_of)])[0]


def append_events(session: Session, new: Sequence[NewEvent]) -> list[Event]:
    """Append several events, in order, in the caller's transaction (see `append_event`): one read
    of the chain's tail and one INSERT for all of them."""
    return [Event(**row) for row in append_event_rows(session, new)]


def append_event_rows(session: Session, new: Sequence[NewEvent]) -> list[dict[str, Any]]:
    """`append_events` returning the rows as inserted (validated dicts), not ORM objects: for bulk
    writers that do not need them (a table model costs ~75 us to build, a national route logs ~960)."""
    if session.info.get(REPLAYING):
        return [
            {"seq": 0, "at": now_bangkok(), "actor": e.actor or "replay", "on_behalf_of": e.on_behalf_of,
             "kind": e.kind, "subject": e.subject, "payload": canonical_json(dict(e.payload)),
             "prev_hash": GENESIS_HASH, "hash": GENESIS_HASH}
            for e in new
        ]  # fmt: skip
    payloads = []
    for e in new:
        payload = e.payload
        if e.kind in SNAPSHOT_KINDS and "rows" not in payload:
            payload = {**payload, "rows": snapshot_rows(session, e.kind, e.subject, dict(payload))}
        elif e.kind in STAMPED_KINDS and STAMPED_KINDS[e.kind] not in payload:
            payload = {**payload, **stamp_fields(session, e.kind, e.subject, dict(payload))}
        payloads.append(canonical_json(dict(payload)))
        del payload  # a snapshot's rows, spelt as text now: a sweep's may be a million
    _lock_tail(session)
    last = session.execute(_TAIL).first()
    seq = 0 if last is None else last.seq
    prev_hash = GENESIS_HASH if last is None else last.hash
    at = now_bangkok()
    anyone = default_actor() if any(not e.actor for e in new) else None  # once: a user lookup
    rows = []
    for e, text in zip(new, payloads, strict=True):
        seq += 1
        fields: dict[str, Any] = {"seq": seq, "at": at, "actor": e.actor or anyone,
                                  "on_behalf_of": e.on_behalf_of, "kind": e.kind, "subject": e.subject,
                                  "payload": text}  # fmt: skip
        prev_hash, previous = event_hash(prev_hash, **fields), prev_hash
        # Table models skip validation: the row is checked through its data model first.
        checked = EventBase.model_validate({**fields, "prev_hash": previous, "hash": prev_hash})
        rows.append({"seq": seq, **checked.model_dump()})
    # A Core INSERT: the log is append-only, so the ORM's unit of work has nothing to track.
    session.execute(_INSERT, rows)
    session.info[EVENTS_APPENDED] = session.info.get(EVENTS_APPENDED, 0) + len(rows)
    return rows


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify_chain`: `first_bad_seq` is None when every event checks out."""

    ok: bool
    count: int
    first_bad_seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"event chain intact ({self.count} events)"
        return f"event chain broken at seq {self.first_bad_seq}: {self.problem}"


def verify_chain(session: Session) -> VerifyResult:
    """Recompute every hash in order; report the first event that does not fit the chain."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for event in session.exec(select(Event).order_by(col(Event.seq))):
        count += 1
        if event.seq != expected_seq:
            return VerifyResult(False, count, expected_seq, f"missing event (next stored seq is {event.seq})")
        if event.prev_hash != prev_hash:
            return VerifyResult(False, count, event.seq, "prev_hash does not match the previous event's hash")
        try:
            digest = event_hash(
                prev_hash,
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                on_behalf_of=event.on_behalf_of,
                kind=event.kind,
                subject=event.subject,
                payload=event.payload,
            )
        except json.JSONDecodeError:
            return VerifyResult(False, count, event.seq, "payload is not JSON")
        if digest != event.hash:
            return VerifyResult(False, count, event.seq, "hash does not match the event's content")
        prev_hash = event.hash
        expected_seq += 1
    return VerifyResult(True, count)
