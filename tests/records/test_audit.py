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
from sqlmodel import Session, col
from typer.testing import CliRunner

from cli.main import app
from models.db import get_engine, init_db, session_scope
from models.tables import Event
from models.thai import BANGKOK
from records import audit, progress, registry
from records.events import GENESIS_HASH, event_hash
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
    assert {"ingest.file", "receipt.registered", "dispatch.registered", "circular.plan_set", "agencies.synced",
            "dispatch.recorded", "dispatch.planned", "handoffs.flagged_overdue"} <= kinds  # fmt: skip


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
    # Wall-clock stamps: the creating event carries them (`letter.alias_merged`, `circular.created`).
    "merge made_at": (
        "UPDATE merge SET made_at = '2001-01-01 00:00:00' WHERE alias = 'นร 1220/85'",
        "merge [นร 1220/55 @ 2020-05-27 | นร 1220/85]: made_at is '2001-01-01T00:00:00.000000+00:00'",
    ),
    "circular created_at": (
        "UPDATE circular SET created_at = '2001-01-01 00:00:00'",
        "circular [2020-นร-1200-ว-0013]: created_at is '2001-01-01T00:00:00.000000+00:00'",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_state_tampering_is_named(honest: Engine, case: str) -> None:
    sql, expected = TAMPERING[case]
    report = _verify_with(honest, sql)
    assert report.chain.ok and not report.ok
    assert any(str(d).startswith(expected) or expected in str(d) for d in report.differences), str(report)


def test_an_unreadable_value_is_reported_not_raised(honest: Engine) -> None:
    if honest.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses such a value itself")
    report = _verify_with(
        honest, "UPDATE merge SET made_at = '2020-13-01 00:00:00' WHERE alias = 'นร 1220/85'"
    )
    assert (
        not report.ok
        and "state not checked: table merge holds a value the application cannot read" in str(report)
    )


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
        original = audit.state_dump(s, stamps=True)
    assert report.replayed > 10 and report.events > report.replayed
    with session_scope(target, readonly=True) as s:
        assert audit.state_dump(s, stamps=True) == original
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
        dispatched = col(Event.kind).in_(("dispatch.recorded", "dispatch.planned"))
        events = s.exec(select(Event).where(col(Event.seq) > before, dispatched)).all()
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


# --- the ingest log: runs that changed the record are vouched for by their ingest.file event ---------

_MOI = "file LIKE '%%03_moi_mt0218%%'"  # %% : psycopg reads % as a placeholder; LIKE takes %% as %
INGEST_LOG_TAMPERING = {
    "row deleted": (
        f"DELETE FROM ingest_log WHERE {_MOI}",
        "no ingest_log row for the run logged by event #",
    ),
    "time moved": (
        f"UPDATE ingest_log SET at = '2001-01-01 00:00:00' WHERE {_MOI}",
        "no ingest_log row for the run logged by event #",
    ),
    "file renamed": (
        f"UPDATE ingest_log SET file = 'elsewhere.txt' WHERE {_MOI}",
        "ingest_log [elsewhere.txt | 20",  # ... and it claims changes no event logs
    ),
    "run invented": (
        "INSERT INTO ingest_log (file, sha256, at, added, merged, unchanged) "
        f"VALUES ('forged.txt', '{'a' * 64}', '2020-06-01 00:00:00', 3, 0, 0)",
        "claims 3 added, 0 merged, but no ingest.file event logs that run",
    ),
}


@pytest.mark.parametrize("case", sorted(INGEST_LOG_TAMPERING))
def test_ingest_log_tampering_is_named(honest: Engine, case: str) -> None:
    sql, expected = INGEST_LOG_TAMPERING[case]
    report = _verify_with(honest, sql)
    assert report.chain.ok and not report.ok
    assert any(d.table == "ingest_log" and expected in str(d) for d in report.differences), str(report)


def test_ingest_log_runs_that_changed_nothing_are_counted_not_checked(honest: Engine) -> None:
    """A re-ingest that changes nothing writes an ingest_log row and no event (by design): verify
    cannot vouch for such a row, and says how many there are instead of pretending."""
    with session_scope(honest, readonly=True) as s:
        clean = audit.verify(s)
    assert clean.ok and clean.ingest_runs == (len(DEMO), 0)
    report = _verify_with(
        honest,
        "INSERT INTO ingest_log (file, sha256, at, added, merged, unchanged) "
        f"VALUES ('again.txt', '{'b' * 64}', '2020-06-01 00:00:00', 0, 0, 1)",
    )
    assert report.ok and report.ingest_runs == (len(DEMO), 1), str(report)
    assert f"{len(DEMO)} run(s) match their ingest.file events" in str(report)
    assert "1 run(s) that changed nothing" in str(report)


def _rechain(engine: Engine, edit: Any) -> None:
    """Rewrite every event's payload with `edit(event, payload)` and recompute the chain, as if a
    version of the application that logged more had written it."""
    from sqlmodel import select

    from records.events import GENESIS_HASH, canonical_json

    with session_scope(engine) as s:
        events = list(s.exec(select(Event).order_by(col(Event.seq))))
        prev = GENESIS_HASH
        for e in events:
            payload = canonical_json(edit(e, json.loads(e.payload)))
            digest = event_hash(prev, seq=e.seq, at=e.at, actor=e.actor, on_behalf_of=e.on_behalf_of,
                                kind=e.kind, subject=e.subject, payload=payload)  # fmt: skip
            s.execute(
                sa.update(Event)
                .where(col(Event.seq) == e.seq)
                .values(payload=payload, prev_hash=prev, hash=digest)
            )
            prev = digest


def test_ingest_log_counts_are_compared_where_the_event_logs_them(engine: Engine, tmp_path: Path) -> None:
    """An `ingest.file` event that carries `counts` (what the run wrote to its ingest_log row) holds
    the row's counts, and a replayed copy gets the logged counts; an event written before events
    carried them holds only the row's file, sha256 and time (a replay's own counts depend on the
    version of the ingest code, so they are no evidence)."""
    from sqlmodel import select

    from models.tables import IngestLog

    for path in DEMO:
        ingest_file(path, engine, actor="ingest-test")
    with session_scope(engine, readonly=True) as s:
        counts = {r.file: {"added": r.added, "merged": r.merged, "unchanged": r.unchanged}
                  for r in s.exec(select(IngestLog))}  # fmt: skip
    moi = next(f for f in counts if "03_moi" in f)
    alter = f"UPDATE ingest_log SET merged = 7 WHERE {_MOI}"

    _rechain(engine, lambda e, p: {k: v for k, v in p.items() if k != "counts"})  # an older log
    with session_scope(engine, readonly=True) as s:
        old = audit.verify(s)
    assert old.ok and old.uncounted == len(DEMO) and f"({len(DEMO)} without logged counts" in str(old)
    assert _verify_with(engine, alter).ok  # the documented blind spot of older logs

    _rechain(engine, lambda e, p: p | {"counts": counts[e.subject]} if e.kind == "ingest.file" else p)
    with session_scope(engine, readonly=True) as s:
        honest = audit.verify(s)
    assert honest.ok and honest.uncounted == 0 and "without logged counts" not in str(honest), str(honest)
    altered = _verify_with(engine, alter)
    assert not altered.ok
    assert f"ingest_log [{moi} | event #" in str(altered)
    assert f"merged is 7 in the database but {counts[moi]['merged']} by the log" in str(altered)
    target = get_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    with session_scope(engine, readonly=True) as s:
        audit.replay(s, target)
    with session_scope(target, readonly=True) as s:
        copied = audit.verify(s)
        assert {r.file: r.merged for r in s.exec(select(IngestLog))} == {
            f: c["merged"] for f, c in counts.items()
        }
    assert copied.ok and copied.uncounted == 0, str(copied)


# --- the head: an anchor kept outside the database catches a log cut short or rewritten -------------


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def clerical(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An honest record whose newest event is a clerk's dispatch (no flows)."""
    for url in fresh_database(request.param, tmp_path_factory.mktemp("anchor")):
        engine = get_engine(url)
        init_db(engine)
        build_record(engine, flows=False)
        yield engine


def _verify_anchored(engine: Engine, anchors: list[audit.Anchor], *statements: str) -> audit.AuditReport:
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            for sql in statements:
                conn.exec_driver_sql(sql)
            with Session(bind=conn) as session:
                return audit.verify(session, anchors=anchors)
        finally:
            tx.rollback()


def _last_dispatch_removed(engine: Engine) -> list[str]:
    """Statements that cut the log's newest event (the clerk's `dispatch.registered`) together with
    the dispatch and handoff rows it wrote: what is left is an honest-looking, shorter record."""
    with session_scope(engine, readonly=True) as s:
        seq, kind = s.exec(sa.text("SELECT seq, kind FROM event ORDER BY seq DESC LIMIT 1")).one()  # type: ignore[call-overload]
    assert kind == "dispatch.registered"
    mine = "SELECT id FROM dispatch WHERE sender_id = 'province:54' AND source = 'clerk'"
    return [
        f"DELETE FROM handoff WHERE dispatch_id IN ({mine})",
        f"DELETE FROM dispatch WHERE id IN ({mine})",
        f"DELETE FROM event WHERE seq = {seq}",
    ]


def test_head_is_the_newest_event(clerical: Engine, engine: Engine) -> None:
    with session_scope(clerical, readonly=True) as s:
        head = audit.head(s)
        seq, digest = s.exec(sa.text("SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1")).one()  # type: ignore[call-overload]
        report = audit.verify(s)
    assert (head.seq, head.hash) == (seq, digest) and head.kind == "dispatch.registered"
    assert str(head) == f"{seq}:{digest}" and audit.Anchor.parse(str(head)) == head
    assert f"head of the log: {head}" in str(report)
    with session_scope(engine, readonly=True) as s:  # an empty log: the genesis anchor
        assert str(audit.head(s)) == f"0:{GENESIS_HASH}"
        assert audit.verify(s, anchors=[audit.head(s)]).ok


def test_tail_truncation_is_caught_only_by_an_anchor(clerical: Engine) -> None:
    with session_scope(clerical, readonly=True) as s:
        head = audit.head(s)
    cut = _last_dispatch_removed(clerical)
    blind = _verify_anchored(clerical, [], *cut)
    # Without an anchor a shorter honest-looking log is indistinguishable from an honest one: the
    # documented blind spot (docs/reliability.md); verify says so.
    assert blind.ok and "no anchor given" in str(blind)
    caught = _verify_anchored(clerical, [head], *cut)
    assert not caught.ok and caught.chain.ok and not caught.differences
    assert f"anchor {head.seq}:{head.hash[:16]}" in str(caught)
    assert f"the log ends at seq {head.seq - 1}" in str(caught)
    assert _verify_anchored(clerical, [head]).ok


def test_a_recomputed_chain_is_caught_by_an_anchor(clerical: Engine) -> None:
    """A forger who edits an event and recomputes every hash from there on passes the chain check;
    an anchor at or after the edited entry still names it."""
    from sqlmodel import select

    with session_scope(clerical, readonly=True) as s:
        head = audit.head(s)
        last = s.exec(select(Event).where(Event.seq == head.seq)).one()
        earlier = s.exec(select(Event).where(Event.seq == head.seq // 2)).one()
    forged = event_hash(last.prev_hash, seq=last.seq, at=last.at, actor="mallory", on_behalf_of=None,
                        kind=last.kind, subject=last.subject, payload=last.payload)  # fmt: skip
    rewrite = (
        f"UPDATE event SET actor = 'mallory', on_behalf_of = NULL, hash = '{forged}' WHERE seq = {head.seq}"
    )
    assert _verify_anchored(clerical, [], rewrite).ok  # the chain alone is fooled
    middle = audit.Anchor(earlier.seq, earlier.hash)
    assert _verify_anchored(clerical, [middle], rewrite).ok  # edits after an anchor are not its business
    caught = _verify_anchored(clerical, [middle, head], rewrite)
    assert not caught.ok and f"event #{head.seq} has hash {forged[:16]}" in str(caught)
    assert f"anchor {middle.seq}:" in str(caught) and "rewritten at or before seq" in str(caught)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("12", "expected SEQ:HASH"),
        ("x:" + "a" * 64, "expected SEQ:HASH"),
        ("-1:" + "a" * 64, "expected SEQ:HASH"),
        ("12:abc", "64 hexadecimal digits"),
        ("12:" + "g" * 64, "64 hexadecimal digits"),
    ],
)
def test_bad_anchors_are_refused(text: str, problem: str) -> None:
    with pytest.raises(audit.AuditError, match=problem):
        audit.Anchor.parse(text)


def test_anchor_files_skip_comments_and_name_bad_lines() -> None:
    digest = "ab" * 32
    good = audit.parse_anchors(
        f"# weekly\n\n12:{digest}  2020-06-01 report\n  13:{digest.upper()}\n", "a.txt"
    )
    assert [str(a) for a in good] == [f"12:{digest}", f"13:{digest}"]
    with pytest.raises(audit.AuditError, match=r"a\.txt:2: .*expected SEQ:HASH"):
        audit.parse_anchors(f"12:{digest}\nnonsense\n", "a.txt")


def test_cli_head_and_anchored_verify_catch_a_cut_routing_run(tmp_path: Path) -> None:
    """The reviewer's case: the newest dispatch event of a routing run deleted with its
    dispatch and handoff rows passes a plain verify; the head kept outside catches it."""
    url = f"sqlite:///{tmp_path / 'routed.db'}"
    engine = get_engine(url)
    init_db(engine)
    build_record(engine, flows=False)
    route_plainly(url, CIRCULAR_LETTER, date(2020, 6, 26))
    runner = CliRunner()
    env: dict[str, Any] = {"SARABAN_DATABASE_URL": url}
    shown = runner.invoke(app, ["audit", "head"], env=env)
    assert shown.exit_code == 0, shown.output
    anchor = shown.stdout.strip()
    seq = int(anchor.split(":")[0])
    as_json = json.loads(runner.invoke(app, ["audit", "head", "--json"], env=env).stdout)
    assert f"{as_json['seq']}:{as_json['hash']}" == anchor
    assert as_json["kind"] in ("dispatch.recorded", "dispatch.planned")
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# kept by the auditor\n{anchor}\n", encoding="utf-8")

    into = f"sqlite:///{tmp_path / 'copy.db'}"
    assert runner.invoke(app, ["audit", "replay", "--into", into], env=env).exit_code == 0
    copy = runner.invoke(app, ["audit", "verify", "--anchor", anchor], env={"SARABAN_DATABASE_URL": into})
    assert copy.exit_code == 0 and "state matches the log" in copy.stdout, copy.output

    with engine.begin() as conn:
        subject = conn.exec_driver_sql(f"SELECT subject FROM event WHERE seq = {seq}").scalar_one()
        circular, _, sender = subject.partition(":")
        mine = f"SELECT id FROM dispatch WHERE circular_id = '{circular}' AND sender_id = '{sender}'"
        conn.exec_driver_sql(f"DELETE FROM handoff WHERE dispatch_id IN ({mine})")
        conn.exec_driver_sql(f"DELETE FROM dispatch WHERE id IN ({mine})")
        conn.exec_driver_sql(f"DELETE FROM event WHERE seq = {seq}")
    blind = runner.invoke(app, ["audit", "verify"], env=env)
    assert blind.exit_code == 0 and "no anchor given" in blind.stdout
    for args in (["--anchor", anchor], ["--anchor-file", str(anchors)]):
        caught = runner.invoke(app, ["audit", "verify", *args], env=env)
        assert caught.exit_code == 1, caught.output
        assert f"anchor {anchor[: len(str(seq)) + 17]}" in caught.stderr
        assert f"the log ends at seq {seq - 1}" in caught.stderr
    bad = runner.invoke(app, ["audit", "verify", "--anchor", "12:xyz"], env=env)
    assert bad.exit_code == 2 and "error: --anchor '12:xyz'" in bad.stderr
    missing = runner.invoke(app, ["audit", "verify", "--anchor-file", str(tmp_path / "none.txt")], env=env)
    assert missing.exit_code == 2 and "none.txt" in missing.stderr


# --- logs written before events carried the creation stamps -------------------------------------


def test_logs_without_stamps_still_verify_and_bound_them(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:  # fmt: skip
    """Events written before `letter.alias_merged` / `circular.created` carried `made_at` /
    `created_at`: verify still passes on the honest record, and holds each stamp to the minute
    before its event (the row is made, then the event appended, in one transaction)."""
    import records.events

    monkeypatch.setattr(records.events, "STAMPED_KINDS", {})
    for path in DEMO:
        ingest_file(path, engine, actor="old-writer")
    monkeypatch.undo()
    with session_scope(engine, readonly=True) as s:
        payloads = [json.loads(p) for (p,) in s.exec(sa.text(  # type: ignore[call-overload]
            "SELECT payload FROM event WHERE kind IN ('letter.alias_merged', 'circular.created')"))]  # fmt: skip
        honest = audit.verify(s)
    assert payloads and not any("made_at" in p or "created_at" in p for p in payloads)
    assert honest.ok, str(honest)
    assert _verify_with(engine, "UPDATE merge SET made_at = made_at").ok
    moved = _verify_with(engine, "UPDATE circular SET created_at = '2001-01-01 00:00:00'")
    assert not moved.ok
    assert "circular [2020-นร-1200-ว-0013]: created_at is '2001-01-01T00:00:00.000000+00:00'" in str(moved)
    assert "written before events carried it" in str(moved)
    target = get_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    with session_scope(engine, readonly=True) as s:
        audit.replay(s, target)
    with session_scope(target, readonly=True) as s:
        copied = audit.verify(s)
    assert copied.ok, str(copied)
