"""`route_circular` and `flag_overdue` as real Prefect runs (ephemeral API) over a real SQLite record."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import TaskRunSort

from flows.flag_overdue import flag_overdue
from flows.route_circular import plan_route, record_dispatch, route_circular, watching
from flows.writer import DispatchWriter, WriterError, close_writers
from models.db import dispose_engines, get_engine, init_db, session_scope
from models.thai import BANGKOK
from records import audit, progress
from records.dispatches import DispatchSpec
from records.ingest import ingest_files
from tests.flows.conftest import DEMO_LETTERS

AS_OF = date(2020, 6, 26)


def _env(url: str) -> str:
    """The flows take the name of a variable holding the URL (parameters are stored by Prefect)."""
    import hashlib
    import os

    name = f"SARABAN_TEST_DB_{hashlib.sha1(url.encode()).hexdigest()[:8].upper()}"
    os.environ[name] = url
    return name


def _attach_plan(url: str) -> str:
    with session_scope(get_engine(url)) as session:
        circular = progress.find_circular(session, "มท 0812/ว 1434")
        progress.set_plan(session, circular, "bcp-2020")
        return circular.id


def _dump(url: str, table: str) -> list[tuple[object, ...]]:
    with get_engine(url).connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}")))


def _artifact(key: str) -> dict[str, object]:
    # Prefect 3.8's sync client sends null for optional filter fields, which its own API (under
    # fastapi 0.154) rejects; post the filter with the fields it needs set instead.
    with get_client(sync_client=True) as client:
        response = client._client.post(
            "/artifacts/filter",
            json={"artifacts": {"key": {"any_": [key]}}, "limit": 1, "offset": 0, "sort": "UPDATED_DESC"},
        )
    response.raise_for_status()
    found = response.json()
    assert found, f"no artifact {key!r}"
    return dict(found[0])


def _count(url: str, table: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.prefect
def test_route_circular_runs_one_task_per_dispatch_along_the_plan(prefect_api: None, chain_db: str) -> None:
    circular_id = _attach_plan(chain_db)
    seen: list[tuple[str, int]] = []
    with watching(lambda event, count: seen.append((event, count))):
        state = route_circular(circular_id, as_of=AS_OF, database=_env(chain_db), return_state=True)
    summary = state.result()
    # What the CLI's progress bar shows: the planned total, then every dispatch as it completes.
    assert seen[0] == ("planned", summary["dispatches"])
    assert [c for e, c in seen[1:]] == list(range(1, summary["dispatches"] + 1))
    flow_run_id = state.state_details.flow_run_id

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
        flow_run = client.read_flow_run(flow_run_id)
    assert flow_run.name == f"route-{circular_id}"
    dispatches = [r for r in runs if r.task_key.startswith("record_dispatch") or "dispatch" in r.name]
    planning = [r for r in runs if r not in dispatches]
    assert len(planning) == 1
    assert len(dispatches) == summary["dispatches"] == _count(chain_db, "dispatch")
    assert summary["handoffs"] == _count(chain_db, "handoff")

    by_agency = {}
    for run in dispatches:
        agency = next(t.split(":", 1)[1] for t in run.tags if t.startswith("agency:"))
        assert any(t.startswith("level:") for t in run.tags)
        by_agency[agency] = run
    assert {"cabinet", "opdc", "moi", "dla", "province:54", "district:5401"} <= set(by_agency)
    # wait_for follows the plan: Phrae's dispatch waits on the dispatch of the agency that sent to it.
    route = plan_route.fn(circular_id, AS_OF, None, _env(chain_db))
    phrae = next(d for d in route.dispatches if d.sender_id == "province:54")
    waits = {i.id for i in by_agency["province:54"].task_inputs.get("wait_for", [])}
    assert phrae.upstream in {"moi", "dla"}
    assert waits == {by_agency[phrae.upstream].id}
    district = next(d for d in route.dispatches if d.sender_id == "district:5401")
    assert {i.id for i in by_agency["district:5401"].task_inputs["wait_for"]} == {
        by_agency[district.upstream].id
    }

    # The seed story: Phrae forwarded late, its districts are overdue, local bodies still pending.
    assert summary["levels"]["province"]["late"] >= 1
    assert summary["levels"]["district"].get("overdue", 0) > 0
    assert summary["levels"]["local"].get("pending", 0) > 0


@pytest.mark.prefect
def test_rerunning_the_flow_changes_nothing(prefect_api: None, chain_db: str) -> None:
    circular_id = _attach_plan(chain_db)
    route_circular(circular_id, as_of=AS_OF, database=_env(chain_db))
    before = {t: _dump(chain_db, t) for t in ("dispatch", "handoff", "event")}
    route_circular(circular_id, as_of=AS_OF, database=_env(chain_db))
    after = {t: _dump(chain_db, t) for t in ("dispatch", "handoff", "event")}
    assert after == before


@pytest.mark.prefect
def test_a_record_made_anew_at_the_same_place_gets_every_handoff(prefect_api: None, tmp_path: Path) -> None:
    # A record rebuilt from the letters (or restored from a backup) at the same URL: nothing outside
    # the database may claim that its dispatches are already recorded.
    path = tmp_path / "record.db"
    for attempt in range(2):
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        init_db(get_engine(url))
        assert all(o.error is None for o in ingest_files(DEMO_LETTERS, get_engine(url)))
        circular_id = _attach_plan(url)
        summary = route_circular(circular_id, as_of=AS_OF, provinces=["54"], database=_env(url))
        close_writers()
        assert _count(url, "handoff") == summary["handoffs"] > 0, f"run {attempt + 1}"
        assert _count(url, "dispatch") == summary["dispatches"]
        dispose_engines()


@pytest.mark.prefect
def test_a_dispatch_retried_after_its_write_committed_is_recorded_once(
    prefect_api: None, chain_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault sits at the writer's boundary: Phrae's dispatch commits, then its reply is lost
    # once. Prefect retries the task, which writes again; the record holds it once.
    circular_id = _attach_plan(chain_db)
    real = DispatchWriter.record
    lost: list[str] = []

    def lose_one_reply(self: DispatchWriter, circular: str, spec: DispatchSpec) -> Any:
        states = real(self, circular, spec)
        if spec.sender_id == "province:54" and not lost:
            lost.append(spec.sender_id)
            raise WriterError("injected: the reply was lost after the commit")
        return states

    monkeypatch.setattr(DispatchWriter, "record", lose_one_reply)
    state = route_circular(
        circular_id, as_of=AS_OF, provinces=["54"], database=_env(chain_db), return_state=True
    )
    summary = state.result()
    assert lost == ["province:54"]
    phrae = next(
        r
        for r in _task_runs(state.state_details.flow_run_id)
        if "agency:province:54" in r.tags or " province:54 " in r.name
    )
    assert phrae.run_count == 2 and phrae.state.is_completed()
    assert _count(chain_db, "dispatch") == summary["dispatches"]
    assert _count(chain_db, "handoff") == summary["handoffs"]
    with get_engine(chain_db).connect() as conn:
        recorded = conn.execute(
            sa.text("SELECT count(*) FROM event WHERE kind = 'dispatch.recorded' AND subject LIKE :s"),
            {"s": "%:province:54"},
        ).scalar_one()
    assert recorded == 1
    with session_scope(get_engine(chain_db), readonly=True) as session:
        assert audit.verify(session).ok


def test_overlapping_writers_record_each_handoff_once(chain_db: str) -> None:
    circular_id = _attach_plan(chain_db)
    route = plan_route.fn(circular_id, AS_OF, None, _env(chain_db))
    spec = next(d for d in route.dispatches if d.sender_id == "province:54")
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(3):
                record_dispatch.fn(circular_id, spec, _env(chain_db))
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _count(chain_db, "dispatch") == 1
    assert _count(chain_db, "handoff") == len(spec.recipients)


def test_a_planned_route_reports_what_is_pending_and_when_it_falls_due(chain_db: str) -> None:
    circular_id = _attach_plan(chain_db)
    route = plan_route.fn(circular_id, date(2020, 5, 4), ["21"], _env(chain_db))
    rayong = next(d for d in route.dispatches if d.sender_id == "province:21")
    assert not rayong.sent  # Rayong has no letter of its own on record: a planned dispatch
    assert rayong.sent_on >= date(2020, 5, 4)
    assert all(r.status == "pending" and r.due_forward is not None for r in rayong.recipients)
    assert all(r.due_forward <= date(2020, 6, 30) for r in rayong.recipients)


@pytest.mark.prefect
def test_flag_overdue_flags_once_with_artifacts_and_events(
    prefect_api: None, chain_db: str, asserting_and_emitting_events_worker
) -> None:
    circular_id = _attach_plan(chain_db)
    route_circular(circular_id, as_of=AS_OF, database=_env(chain_db))
    at = datetime(2020, 6, 26, 10, 0, tzinfo=BANGKOK)
    first = flag_overdue(at=at, database=_env(chain_db))
    assert first["newly_overdue"] == first["overdue"] > 0
    asserting_and_emitting_events_worker.drain()
    # One event per responsible agency's digest, not one per handoff (tests/flows/test_digests.py).
    events = [
        e for e in asserting_and_emitting_events_worker._client.events if e.event.startswith("saraban.")
    ]
    assert {e.event for e in events} == {"saraban.agency.digest"}
    assert len(events) == first["digests"] < first["newly_overdue"]
    assert all(e.resource.id.startswith("saraban.agency.") for e in events)
    assert any(e.payload.get("agency") == "อำเภอเมืองแพร่" for e in events)

    second = flag_overdue(at=at.replace(hour=11), database=_env(chain_db))
    assert second["newly_overdue"] == 0 and second["overdue"] == first["overdue"]

    table = _artifact("saraban-overdue")
    summary = _artifact("saraban-overdue-summary")
    rows = json.loads(str(table["data"]))
    assert table["type"] == "table" and any(r["agency"] == "อำเภอเมืองแพร่" for r in rows)
    assert {"agency", "letter", "due", "days_over", "escalate_to"} <= set(rows[0])
    assert "Overdue handoffs" in str(summary["data"])


@pytest.mark.prefect
def test_flag_overdue_skips_thai_public_holidays(prefect_api: None, chain_db: str) -> None:
    # 3 June 2020 was Queen Suthida's birthday, a public holiday.
    result = flag_overdue(at=datetime(2020, 6, 3, 9, 0, tzinfo=BANGKOK), database=_env(chain_db))
    assert result["skipped"] is True


def _task_runs(flow_run_id: object) -> list[Any]:
    with get_client(sync_client=True) as client:
        return list(
            client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                limit=200,
            )
        )


@pytest.mark.prefect
def test_the_seed_circulars_run_as_a_flow_with_the_expected_task_graph(
    prefect_api: None, seed_db: str, asserting_and_emitting_events_worker
) -> None:
    # The plan is found from the circular's letters (bcp-2020 names DLA's ว 1434), then attached.
    state = route_circular(
        "มท 0812/ว 1434", as_of=date(2020, 7, 1), database=_env(seed_db), return_state=True
    )
    summary = state.result()
    with session_scope(get_engine(seed_db)) as session:
        circular = progress.find_circular(session, "มท 0812/ว 1434")
        assert circular.plan_id == "bcp-2020"
        route = progress.plan_route(session, circular.id, as_of=date(2020, 7, 1))
    runs = _task_runs(state.state_details.flow_run_id)
    dispatch_runs = {
        next(t.split(":", 1)[1] for t in r.tags if t.startswith("agency:")): r
        for r in runs
        if any(t.startswith("agency:") for t in r.tags)
    }
    # One task per dispatch of the plan over the provinces on record (Rayong, Nonthaburi, Phrae).
    assert set(dispatch_runs) == {d.sender_id for d in route.dispatches}
    assert {"cabinet", "opdc", "moi", "dla", "province:21", "province:12", "province:54"} <= set(
        dispatch_runs
    )
    assert len(runs) == len(route.dispatches) + 1 == summary["dispatches"] + 1
    # Every dispatch waits on exactly the dispatch of the agency that sent to it, and nothing else.
    for spec in route.dispatches:
        waits = {i.id for i in dispatch_runs[spec.sender_id].task_inputs.get("wait_for", [])}
        assert waits == ({dispatch_runs[spec.upstream].id} if spec.upstream else set()), spec.sender_id
        level = next(t for t in dispatch_runs[spec.sender_id].tags if t.startswith("level:"))
        assert level == f"level:{spec.level}"
    # Phrae forwarded on 23 June what Interior and DLA had sent it: both handoffs to Phrae are late.
    assert summary["levels"]["province"]["late"] == 2

    # The sweep announces Phrae's late forwarding once: a table artifact and Phrae's digest.
    result = flag_overdue(at=datetime(2020, 7, 1, 9, 0, tzinfo=BANGKOK), database=_env(seed_db))
    assert result["newly_late"] == 2 and result["newly_overdue"] > 0
    asserting_and_emitting_events_worker.drain()
    [phrae] = [
        e
        for e in asserting_and_emitting_events_worker._client.events
        if e.event == "saraban.agency.digest" and e.resource.id == "saraban.agency.province:54"
    ]
    assert phrae.payload["counts"] == {"overdue": 0, "blocked": 0, "late": 1}  # one agency, one item
    assert [(i["agency"], i["status"], i["done"]) for i in phrae.payload["items"]] == [
        ("จังหวัดแพร่", "late", "2020-06-23")
    ]
    rows = json.loads(str(_artifact("saraban-late")["data"]))
    assert [(r["agency"], r["status"]) for r in rows] == [("จังหวัดแพร่", "late")] * 2
    assert "Forwarded late" in str(_artifact("saraban-overdue-summary")["data"])
    again = flag_overdue(at=datetime(2020, 7, 1, 10, 0, tzinfo=BANGKOK), database=_env(seed_db))
    assert again["newly_late"] == 0 and again["newly_overdue"] == 0
    # Each sweep leaves the head of the record's log in Prefect, and the log still holds it.
    assert again["audit_head"] in str(_artifact("saraban-audit-head")["data"])
    with session_scope(get_engine(seed_db), readonly=True) as session:
        report = audit.verify(session, [audit.Anchor.parse(result["audit_head"])])
    assert report.ok, str(report)


@pytest.mark.prefect
def test_a_scheduled_sweep_is_named_after_the_moment_it_judges(prefect_api: None, seed_db: str) -> None:
    state = flag_overdue(database=_env(seed_db), force=True, return_state=True)
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(state.state_details.flow_run_id).name
    assert name.startswith("flag-overdue-20") and "None" not in name
