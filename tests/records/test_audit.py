"""`records.audit`: verify catches tampering with the log AND with the state; replay rebuilds the state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app
from models.db import get_engine, init_db, session_scope
from models.thai import BANGKOK
from records import audit, progress, registry
from records.ingest import ingest_file
from tests.conftest import route_plainly
from tests.records.conftest import fresh_database

pytest.importorskip("models.parser")

DEMO = sorted((Path(__file__).parents[2] / "demo" / "letters").glob("*.txt"))
CIRCULAR_LETTER = "มท 0218/ว 3182"


def build_record(engine: Engine, *, flows: bool = True) -> None:
    """An honest record touching every kind of change: ingest, clerk receipts and dispatch,
    a plan attached, a routing run (the flow's transactions, without Prefect) and a sweep."""
    for path in DEMO:
        ingest_file(path, engine, actor="ingest-test")
    with session_scope(engine) as s:
        registry.receive(s, CIRCULAR_LETTER, "province:21", datetime(2020, 6, 2, 13, 30, tzinfo=BANGKOK),
                         actor="clerk-a", on_behalf_of="ผู้ว่าราชการจังหวัดระยอง")  # fmt: skip
        registry.receive(s, CIRCULAR_LETTER, "จังหวัดนนทบุรี", datetime(2020, 6, 3, 9, 0, tzinfo=BANGKOK))
        registry.dispatch(s, "พร 0023.1/ว 3026", "province:54", ["district:5401", "district:5402"],
                          datetime(2020, 6, 24, 10, 0, tzinfo=BANGKOK), actor="clerk-b")  # fmt: skip
    if not flows:
        return
    route_plainly(engine.url.render_as_string(hide_password=False), CIRCULAR_LETTER, date(2020, 6, 26))
    with session_scope(engine) as s:
        progress.sweep_overdue(s, datetime(2020, 7, 3, 9, 0, tzinfo=BANGKOK))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def honest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One honest record per backend, shared by the module (tests roll their tampering back)."""
    for url in fresh_database(request.param, tmp_path_factory.mktemp("audit")):
        engine = get_engine(url)
        init_db(engine)
        build_record(engine)
        yield engine


def _verify_with(engine: Engine, *statements: str) -> audit.AuditReport:
    """Run `statements` behind the application's back, verify in the same transaction, roll back."""
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            for sql in statements:
                conn.exec_driver_sql(sql)
            with Session(bind=conn) as session:
                return audit.verify(session)
        finally:
            tx.rollback()


def test_honest_record_verifies(honest: Engine) -> None:
    with session_scope(honest, readonly=True) as s:
        report = audit.verify(s)
        kinds = {k for (k,) in s.exec(sa.text("SELECT DISTINCT kind FROM event"))}  # type: ignore[call-overload]
    assert report.ok, str(report)
    assert report.chain.count > 50 and report.replayed > 10
    # The record really exercised every replayable kind of change.
    assert {"ingest.file", "receipt.registered", "dispatch.registered", "circular.plan_set",
            "agencies.synced", "dispatch.recorded", "handoffs.flagged_overdue"} <= kinds  # fmt: skip


TAMPERING = {
    "letter subject": (
        "UPDATE letter SET subject = 'แก้ไข' WHERE number = 'นร 1200/ว 0018'",
        "letter [นร 1200/ว 0018 | 2020-06-18]: subject is 'แก้ไข' in the database",
    ),
    "letter date": (
        "UPDATE letter SET date = '2020-06-19' WHERE number = 'นร 1200/ว 0018'",
        "letter [นร 1200/ว 0018",
    ),
    "clerk receipt number": (
        "UPDATE receipt SET number = '99' WHERE source = 'clerk' AND registry = 'province:21'",
        "receipt [มท 0218/ว 3182 @ 2020-06-01 | province:21 | 99 | 2020-06-02 | clerk]: in the database but not",
    ),
    "receipt deleted": (
        "DELETE FROM receipt WHERE source = 'clerk' AND registry = 'province:12'",
        "receipt [มท 0218/ว 3182 @ 2020-06-01 | province:12 | 1 | 2020-06-03 | clerk]: in the log but not",
    ),
    "citation repointed": (
        "UPDATE citation SET kind = 'references' WHERE kind = 'encloses' AND cited_number = 'มท 0812/ว 1434'",
        "citation [",
    ),
    "deadline moved": ("UPDATE deadline SET date = '2020-07-31' WHERE date = '2020-06-30'", "deadline ["),
    "agency renamed": (
        "UPDATE agency SET name_th = 'ปลอม' WHERE id = 'province:54'",
        "agency [province:54]: name_th",
    ),
    "alias merge removed": ("DELETE FROM merge", "merge ["),
    "plan detached": ("UPDATE circular SET plan_id = NULL", "circular ["),
    "handoff forwarded": (
        "UPDATE handoff SET status = 'forwarded' WHERE recipient_id = 'district:5401'",
        "handoff [2020-นร-1200-ว-0013 / province:54 / พร 0023.1/ว 3026 @ 2020-06-23 | district:5401]: status",
    ),
    "dispatch date": (
        "UPDATE dispatch SET sent_on = '2020-01-01' WHERE sender_id = 'dla'",
        "dispatch [2020-",
    ),
    "row inserted": (
        "INSERT INTO agency (id, name_th, name_en, level) VALUES ('fake:1', 'ปลอม', '', 'unknown')",
        "agency [fake:1]: in the database but not in the log",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_state_tampering_is_named(honest: Engine, case: str) -> None:
    sql, expected = TAMPERING[case]
    report = _verify_with(honest, sql)
    assert report.chain.ok and not report.ok
    assert any(str(d).startswith(expected) or expected in str(d) for d in report.differences), str(report)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE event SET payload = '{\"x\":1}' WHERE seq = 7", "hash does not match"),
        ("UPDATE event SET actor = 'mallory' WHERE seq = 7", "hash does not match"),
        ("DELETE FROM event WHERE seq = 7", "missing event"),
    ],
)
def test_log_tampering_names_the_entry(honest: Engine, sql: str, problem: str) -> None:
    report = _verify_with(honest, sql)
    assert not report.ok and report.chain.first_bad_seq == 7
    assert problem in str(report) and "seq 7" in str(report)


def test_consistent_forgery_of_log_and_state_breaks_the_chain(honest: Engine) -> None:
    """Rewriting the ingest event to match an altered letter still fails: the hash gives it away."""
    with session_scope(honest, readonly=True) as s:
        seq = s.exec(sa.text("SELECT min(seq) FROM event WHERE kind = 'ingest.file'")).one()[0]  # type: ignore[call-overload]
    report = _verify_with(
        honest,
        "UPDATE letter SET subject = 'x' WHERE number = 'นร 1200/ว 0013'",
        f"UPDATE event SET payload = replace(payload, 'BCP', 'XYZ') WHERE seq = {seq}",
    )
    assert not report.chain.ok and report.chain.first_bad_seq == seq


def test_replay_rebuilds_the_same_state(honest: Engine, tmp_path: Path) -> None:
    target = get_engine(f"sqlite:///{tmp_path / 'replayed.db'}")
    with session_scope(honest, readonly=True) as s:
        report = audit.replay(s, target)
        original = audit.state_dump(s)
    assert report.replayed > 10 and report.events > report.replayed
    with session_scope(target, readonly=True) as s:
        assert audit.state_dump(s) == original
        again = audit.verify(s)
    assert again.ok, str(again)
    with session_scope(honest, readonly=True) as s, pytest.raises(audit.AuditError, match="not empty"):
        audit.replay(s, target)


def test_log_filters_by_letter_and_agency(honest: Engine) -> None:
    with session_scope(honest, readonly=True) as s:
        letter_events = audit.log(s, letter="มท ๐๒๑๘/ว ๓๑๘๒")
        agency_events = audit.log(s, agency="จังหวัดระยอง")
        last_two = audit.log(s, limit=2)
        with pytest.raises(audit.AuditError, match="no letter"):
            audit.log(s, letter="มท 9999/ว 1")
    kinds = [e.kind for e in letter_events]
    assert "letter.added" in kinds and kinds.count("receipt.registered") == 2
    assert [e.seq for e in letter_events] == sorted(e.seq for e in letter_events)
    clerk = [e for e in agency_events if e.kind == "receipt.registered"]
    assert len(clerk) == 1 and clerk[0].actor == "clerk-a" and clerk[0].on_behalf_of == "ผู้ว่าราชการจังหวัดระยอง"
    assert len(last_two) == 2 and last_two[1].seq == max(
        e.seq for e in letter_events + agency_events + last_two
    )


def test_replayed_log_refuses_unknown_kinds(engine: Engine) -> None:
    from records.events import append_event

    with session_scope(engine) as s:
        append_event(s, "test.thing", "x", {"i": 1}, actor="t")
    with session_scope(engine, readonly=True) as s:
        report = audit.verify(s)
    assert not report.ok and "event #1 (test.thing) cannot be replayed" in str(report)


def test_cli_verify_log_replay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = get_engine(url)
    init_db(engine)
    build_record(engine, flows=False)
    runner = CliRunner()
    env: dict[str, Any] = {"SARABAN_DATABASE_URL": url}
    ok = runner.invoke(app, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "state matches the log" in ok.stdout
    shown = runner.invoke(app, ["audit", "log", "--letter", CIRCULAR_LETTER, "--json"], env=env)
    assert shown.exit_code == 0 and '"receipt.registered"' in shown.stdout
    bad = runner.invoke(app, ["audit", "log", "--agency", "ไม่มีหน่วยงานนี้"], env=env)
    assert bad.exit_code == 2 and "unknown agency" in bad.stderr
    into = f"sqlite:///{tmp_path / 'copy.db'}"
    copied = runner.invoke(app, ["audit", "replay", "--into", into], env=env)
    assert copied.exit_code == 0 and "ingest.file 5" in copied.stdout
    refused = runner.invoke(app, ["audit", "replay", "--into", into], env=env)
    assert refused.exit_code == 2 and "not empty" in refused.stderr
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE receipt SET time = '08:00:00' WHERE source = 'clerk'")
    failed = runner.invoke(app, ["audit", "verify"], env=env)
    assert failed.exit_code == 1 and "receipt [" in failed.stderr and "time is '08:00:00'" in failed.stderr


def test_dispatch_events_carry_the_rows_as_they_stand(engine: Engine, tmp_path: Path) -> None:
    """`record_dispatch` builds its event's snapshot from what it read and wrote, not by reading the
    rows back: after a re-route that changes handoffs a sweep has flagged, every snapshot it logged
    must equal the rows read back, and the log must still replay to the same state."""
    from sqlmodel import col, select

    from models.tables import Event
    from records.events import canonical_json

    build_record(engine)
    with session_scope(engine) as s:  # a district the sweep flagged stamps its receipt late
        registry.receive(s, CIRCULAR_LETTER, "district:1201", datetime(2020, 7, 6, 10, 0, tzinfo=BANGKOK))
    with session_scope(engine, readonly=True) as s:
        before = s.exec(select(sa.func.max(Event.seq))).one()
    route_plainly(engine.url.render_as_string(hide_password=False), CIRCULAR_LETTER, date(2020, 7, 20))
    with session_scope(engine, readonly=True) as s:
        events = s.exec(select(Event).where(col(Event.seq) > before, Event.kind == "dispatch.recorded")).all()
        flagged_kept = 0
        for event in events:
            payload = json.loads(event.payload)
            logged = payload.pop("rows")
            assert canonical_json(logged) == canonical_json(
                audit.snapshot_rows(s, event.kind, event.subject, payload)
            ), event.subject
            flagged_kept += sum(
                h["overdue_flagged_at"] is not None for d in logged["dispatches"] for h in d["handoffs"]
            )
        report = audit.verify(s)
    assert events, "the receipt changes a handoff"
    assert flagged_kept > 0, "a re-written handoff keeps the sweep's flag"
    assert report.ok, str(report)
