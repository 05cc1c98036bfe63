"""The hash-chained event log: appends, verification, tamper detection, concurrent writers."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from models.db import session_scope
from models.tables import Event
from records.events import GENESIS_HASH, append_event, canonical_json, default_actor, event_hash, verify_chain


def _append(engine: Engine, n: int, *, actor: str = "tester") -> None:
    for i in range(n):
        with session_scope(engine) as s:
            append_event(s, "test.thing", f"subject {i}", {"i": i, "ชื่อ": "ทดสอบ"}, actor=actor)


def test_appends_form_a_gap_free_chain(engine: Engine) -> None:
    _append(engine, 5)
    with session_scope(engine) as s:
        events = list(s.exec(select(Event).order_by(Event.seq)))
        result = verify_chain(s)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert result.ok and result.count == 5 and result.first_bad_seq is None


def test_event_time_is_aware_and_hash_reproducible(engine: Engine) -> None:
    _append(engine, 1)
    with session_scope(engine) as s:
        e = s.exec(select(Event)).one()
    assert isinstance(e.at, datetime) and e.at.utcoffset() is not None
    assert json.loads(e.payload) == {"i": 0, "ชื่อ": "ทดสอบ"}
    assert e.payload == canonical_json({"ชื่อ": "ทดสอบ", "i": 0})
    assert e.hash == event_hash(
        e.prev_hash,
        seq=1,
        at=e.at,
        actor="tester",
        on_behalf_of=None,
        kind=e.kind,
        subject=e.subject,
        payload=e.payload,
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [("payload", '{"i":99,"ชื่อ":"ทดสอบ"}'), ("actor", "mallory"), ("kind", "test.other"), ("subject", "x")],
)
def test_verify_names_the_first_tampered_row(engine: Engine, column: str, value: str) -> None:
    _append(engine, 4)
    with engine.begin() as conn:
        conn.execute(sa.update(Event.__table__).where(Event.__table__.c.seq == 3).values({column: value}))
    with session_scope(engine) as s:
        result = verify_chain(s)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "seq 3" in str(result)


def test_verify_detects_a_deleted_event(engine: Engine) -> None:
    _append(engine, 4)
    with engine.begin() as conn:
        conn.execute(sa.delete(Event.__table__).where(Event.__table__.c.seq == 2))
    with session_scope(engine) as s:
        result = verify_chain(s)
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_a_rolled_back_transaction_leaves_no_event(engine: Engine) -> None:
    _append(engine, 1)
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        append_event(s, "test.thing", "doomed", {}, actor="tester")
        raise RuntimeError("boom")
    _append(engine, 1)
    with session_scope(engine) as s:
        assert [e.seq for e in s.exec(select(Event).order_by(Event.seq))] == [1, 2]
        assert verify_chain(s).ok


def test_concurrent_writers_serialise(engine: Engine) -> None:
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            _append(engine, 8, actor=name)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_scope(engine) as s:
        seqs = [e.seq for e in s.exec(select(Event).order_by(Event.seq))]
        assert seqs == list(range(1, 33))
        assert verify_chain(s).ok


def test_default_actor_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SARABAN_ACTOR", "clerk-7")
    assert default_actor() == "clerk-7"
    monkeypatch.delenv("SARABAN_ACTOR")
    assert default_actor()


def test_creation_stamps_ride_in_their_events(engine: Engine) -> None:
    """`letter.alias_merged` and `circular.created` carry the wall-clock stamp of the row they
    announce (`made_at`, `created_at`), read in the same transaction, so `audit verify` can compare
    the row's stamp exactly and `audit replay` can restore it."""
    from pathlib import Path

    from models.tables import Circular, LetterRow, Merge
    from records.audit import _jsonable
    from records.ingest import ingest_file

    for path in sorted((Path(__file__).parents[2] / "demo" / "letters").glob("*.txt")):
        ingest_file(path, engine, actor="tester")
    with session_scope(engine) as s:
        merges = {
            (letter.number, letter.date.isoformat(), m.alias): _jsonable(m.made_at)
            for m, letter in s.exec(select(Merge, LetterRow).where(Merge.kept_letter_id == LetterRow.id))
        }
        circulars = {c.id: _jsonable(c.created_at) for c in s.exec(select(Circular))}
        events = list(s.exec(select(Event).order_by(col(Event.seq))))
    stamped: dict[tuple[str, ...], str] = {}
    for e in events:
        payload = json.loads(e.payload)
        if e.kind == "letter.alias_merged":
            stamped[(e.subject, payload["date"], payload["alias"])] = payload["made_at"]
        elif e.kind == "circular.created":
            stamped[(e.subject,)] = payload["created_at"]
    assert merges and circulars
    # The newest event about each row (rows can be dropped and made again) holds its stamp.
    assert {k: stamped[k] for k in merges} == merges
    assert {k: stamped[(k,)] for k in circulars} == circulars
