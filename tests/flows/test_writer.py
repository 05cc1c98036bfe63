"""`flows.writer`: dispatches recorded by a writer process in group commits, from many threads."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import sqlalchemy as sa

from flows import writer as writer_module
from flows.writer import WriterError, close_writers, writing
from models.db import get_engine, session_scope
from records import dispatches, progress
from tests.records.conftest import dump_tables

AS_OF = date(2020, 6, 26)


def _route(url: str, provinces: list[str] | None = None) -> tuple[str, progress.RoutePlan]:
    with session_scope(get_engine(url)) as session:
        circular = progress.find_circular(session, "มท 0812/ว 1434")
        progress.set_plan(session, circular, "bcp-2020")
    with session_scope(get_engine(url)) as session:
        return circular.id, progress.plan_route(session, circular.id, as_of=AS_OF, provinces=provinces)


def _scalar(url: str, sql: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


@pytest.fixture(autouse=True)
def _no_writer_left() -> object:
    yield
    close_writers()


def test_many_threads_are_recorded_in_group_commits(chain_db: str, tmp_path: object) -> None:
    circular_id, route = _route(chain_db, ["21", "54"])
    with writing(chain_db) as writer, ThreadPoolExecutor(8) as pool:
        assert writer.ready.wait(60)
        results = list(pool.map(lambda spec: writer.record(circular_id, spec), route.dispatches))
    assert [len(r) for r in results] == [len(spec.recipients) for spec in route.dispatches]
    assert {s.recipient_id for r in results for s in r} == {
        h.recipient_id for spec in route.dispatches for h in spec.recipients
    }
    assert _scalar(chain_db, "SELECT count(*) FROM dispatch") == len(route.dispatches)
    events = "FROM event WHERE kind IN ('dispatch.recorded', 'dispatch.planned')"
    assert _scalar(chain_db, f"SELECT count(*) {events}") == len(route.dispatches)
    # One transaction stamps its events with one moment: fewer moments than dispatches means
    # dispatches were committed together (8 threads queue faster than one process commits).
    assert _scalar(chain_db, f"SELECT count(DISTINCT at) {events}") < len(route.dispatches)
    with session_scope(get_engine(chain_db), readonly=True) as session:
        from records.audit import verify

        assert verify(session).ok


def test_dispatches_are_written_here_until_the_writer_process_is_up(chain_db: str) -> None:
    # The top of a route waits on each dispatch in turn: none waits for the process to start.
    circular_id, route = _route(chain_db, ["21"])
    first, *rest = route.dispatches
    with writing(chain_db) as writer:
        assert not writer.ready.is_set()  # a new interpreter takes far longer than this to import
        states = writer.record(circular_id, first)
        assert writer.written_here == 1
        assert writer.ready.wait(60)
        later = [writer.record(circular_id, spec) for spec in rest]
        assert writer.written_here == 1  # the rest went through the process
    assert [s.recipient_id for s in states] == [h.recipient_id for h in first.recipients]
    assert [len(r) for r in later] == [len(spec.recipients) for spec in rest]
    assert _scalar(chain_db, "SELECT count(*) FROM dispatch") == len(route.dispatches)
    events = "FROM event WHERE kind IN ('dispatch.recorded', 'dispatch.planned')"
    assert _scalar(chain_db, f"SELECT count(*) {events}") == len(route.dispatches)
    with session_scope(get_engine(chain_db), readonly=True) as session:
        from records.audit import verify

        assert verify(session).ok


def test_a_batch_leaves_the_same_state_as_one_dispatch_at_a_time(chain_db: str, tmp_path: object) -> None:
    circular_id, route = _route(chain_db, ["21"])
    one_by_one = f"sqlite:///{tmp_path}/one.db"  # type: ignore[str-bytes-safe]
    with (
        sqlite3.connect(chain_db.removeprefix("sqlite:///")) as src,
        sqlite3.connect(one_by_one.removeprefix("sqlite:///")) as dst,
    ):
        src.backup(dst)
    for spec in route.dispatches:
        with session_scope(get_engine(one_by_one)) as session:
            dispatches.record_dispatch(session, circular_id, spec)
    with session_scope(get_engine(chain_db)) as session:
        dispatches.record_dispatches(session, [(circular_id, spec) for spec in route.dispatches])
    skip = ("ingest_log", "event")
    assert dump_tables(get_engine(chain_db), skip=skip) == dump_tables(get_engine(one_by_one), skip=skip)


def test_the_same_dispatch_twice_in_a_batch_is_written_once(chain_db: str) -> None:
    circular_id, route = _route(chain_db, ["21"])
    spec = route.dispatches[-1]
    with session_scope(get_engine(chain_db)) as session:
        twice = dispatches.record_dispatches(session, [(circular_id, spec), (circular_id, spec)])
    assert twice[0] == twice[1]
    assert _scalar(chain_db, "SELECT count(*) FROM handoff") == len(spec.recipients)
    events = "FROM event WHERE kind IN ('dispatch.recorded', 'dispatch.planned')"
    assert _scalar(chain_db, f"SELECT count(*) {events}") == 1


def test_a_bad_dispatch_fails_alone(chain_db: str) -> None:
    circular_id, route = _route(chain_db, ["21"])
    good = route.dispatches
    bad = dataclasses.replace(good[-1], key="ghost", sender_id="province:ghost")  # no such agency
    with writing(chain_db) as writer, ThreadPoolExecutor(8) as pool:
        assert writer.ready.wait(60)
        futures = [pool.submit(writer.record, circular_id, spec) for spec in (bad, *good)]
        with pytest.raises(WriterError, match="IntegrityError"):
            futures[0].result()
        assert all(len(f.result()) for f in futures[1:])
    assert _scalar(chain_db, "SELECT count(*) FROM dispatch") == len(good)


def test_a_dead_writer_is_an_error_and_the_next_holder_gets_a_new_one(chain_db: str) -> None:
    circular_id, route = _route(chain_db, ["21"])
    with writing(chain_db) as first:
        first.record(circular_id, route.dispatches[0])
        os.kill(first._proc.pid, signal.SIGKILL)
        first._proc.wait()
        first._reader.join(timeout=10)
        with pytest.raises(WriterError, match="died"):
            first.record(circular_id, route.dispatches[1])
    with writing(chain_db) as second:
        assert second is not first
        assert second.record(circular_id, route.dispatches[1])


def test_a_writer_lingers_then_exits(chain_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "LINGER_SECONDS", 0.2)
    circular_id, route = _route(chain_db, ["21"])
    with writing(chain_db) as first:
        first.record(circular_id, route.dispatches[0])
    with writing(chain_db) as again:  # within the linger: the same process
        assert again is first
    assert first._proc.wait(timeout=30) == 0
