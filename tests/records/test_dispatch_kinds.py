"""Planned and recorded dispatches are logged under their own event kinds, and the audit replays
and verifies logs with either spelling: the new kinds, and the old one (every dispatch as
`dispatch.recorded`, told apart only by its payload's `provenance`)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models.db import session_scope
from models.tables import Dispatch, Event
from models.thai import BANGKOK
from records import audit, progress
from records.dispatches import PLANNED_KIND, RECORDED_KIND
from records.events import GENESIS_HASH, event_hash
from records.ingest import ingest_file
from tests.conftest import route_plainly

pytest.importorskip("models.parser")

DEMO = sorted((Path(__file__).parents[2] / "demo" / "letters").glob("*.txt"))


def _routed(engine: Engine) -> None:
    for path in DEMO:
        ingest_file(path, engine, actor="ingest-test")
    route_plainly(engine.url.render_as_string(hide_password=False), "มท 0218/ว 3182", date(2020, 6, 26))
    with session_scope(engine) as s:
        progress.sweep_overdue(s, datetime(2020, 7, 1, 9, 0, tzinfo=BANGKOK))


def _dispatch_events(engine: Engine) -> dict[str, str]:
    """subject (circular:sender) -> kind, of every routing-run dispatch event."""
    with session_scope(engine, readonly=True) as s:
        rows = s.exec(select(Event).where(col(Event.kind).in_((RECORDED_KIND, PLANNED_KIND)))).all()
        return {e.subject: e.kind for e in rows}


def test_planned_and_recorded_dispatches_have_their_own_kinds(engine: Engine) -> None:
    _routed(engine)
    kinds = _dispatch_events(engine)
    with session_scope(engine, readonly=True) as s:
        sources = {f"{d.circular_id}:{d.sender_id}": d.source for d in s.exec(select(Dispatch))}
        payloads = [json.loads(e.payload) for e in s.exec(select(Event).where(Event.kind == PLANNED_KIND))]
    assert set(kinds) == set(sources)
    # A dispatch whose sender's letter is on file is recorded; one only the plan expects is planned.
    assert {k for k, v in kinds.items() if v == RECORDED_KIND} == {
        k for k, v in sources.items() if v == "ocr"
    }
    assert {k for k, v in kinds.items() if v == PLANNED_KIND} == {
        k for k, v in sources.items() if v == "plan"
    }
    assert kinds["" + next(k for k in kinds if k.endswith(":moi"))] == RECORDED_KIND  # Interior's ว 3182
    assert kinds[next(k for k in kinds if k.endswith(":province:21"))] == PLANNED_KIND  # Rayong: none on file
    assert payloads and all(p["provenance"] == "planned" and not p["sent"] and p["rows"] for p in payloads)
    with session_scope(engine, readonly=True) as s:
        report = audit.verify(s)
    assert report.ok, str(report)
    assert report.replayed >= len(kinds)


def test_a_log_written_with_the_old_single_kind_still_replays_and_verifies(engine: Engine) -> None:
    """Rewrite the log as the previous version wrote it (planned dispatches as `dispatch.recorded`,
    chain recomputed): verify replays it to the same state; tampering is still caught."""
    _routed(engine)
    with session_scope(engine) as s:
        events = list(s.exec(select(Event).order_by(col(Event.seq))))
        prev = GENESIS_HASH
        renamed = 0
        for e in events:
            kind = RECORDED_KIND if e.kind == PLANNED_KIND else e.kind
            renamed += kind != e.kind
            digest = event_hash(prev, seq=e.seq, at=e.at, actor=e.actor, on_behalf_of=e.on_behalf_of,
                                kind=kind, subject=e.subject, payload=e.payload)  # fmt: skip
            s.execute(
                sa.update(Event).where(col(Event.seq) == e.seq).values(kind=kind, prev_hash=prev, hash=digest)
            )
            prev = digest
    assert renamed > 10
    assert set(_dispatch_events(engine).values()) == {RECORDED_KIND}
    with session_scope(engine, readonly=True) as s:
        report = audit.verify(s)
    assert report.ok, str(report)
    with engine.begin() as conn:  # a planned dispatch's row changed behind the log's back
        conn.execute(
            sa.text(
                "UPDATE dispatch SET sent_on = '2020-01-02' WHERE source = 'plan' AND sender_id = 'province:21'"
            )
        )
    with session_scope(engine, readonly=True) as s:
        tampered = audit.verify(s)
    assert not tampered.ok and any(d.table == "dispatch" for d in tampered.differences), str(tampered)
