"""Routing progress against the record: the seed story, what-if, status, the sweep's index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli.main import app
from models.db import session_scope
from models.thai import BANGKOK
from records import progress
from records.ingest import ingest_files
from tests.conftest import ROOT, route_plainly

DEMO = sorted((ROOT / "demo" / "letters").glob("*.txt"))
PHRAE = "province:54"


def _record(engine: Engine, files: list[Path]) -> str:
    outcomes = ingest_files(files, engine)
    assert all(o.error is None for o in outcomes)
    with session_scope(engine) as session:
        circular = progress.find_circular(session, "พร ๐๐๒๓.๑/ว ๓๐๒๖")
        progress.set_plan(session, circular, "bcp-2020")
        return circular.id


@pytest.fixture(params=["seeds", "demo"])
def story(request: pytest.FixtureRequest, engine: Engine, seed_files: list[Path]) -> tuple[Engine, str]:
    files = seed_files if request.param == "seeds" else DEMO
    return engine, _record(engine, files)


def test_seed_story_phrae_forwarded_late_and_local_bodies_have_no_margin(story: tuple[Engine, str]) -> None:
    engine, circular_id = story
    with session_scope(engine) as session:
        items = progress.overdue_report(session, date(2020, 7, 1), circular_id)
        margins = progress.margins(session, circular_id, "local")
    phrae = [i for i in items if i["agency_id"] == PHRAE]
    assert len(phrae) == 1
    late = phrae[0]
    assert late["status"] == "late" and late["duty"] == "forward"
    assert late["letter"] == "มท 0812/ว 1434"  # DLA's circular of 14 May, handed on by Phrae
    assert late["done"] == "2020-06-23"
    assert late["due"] < late["done"] and late["days_over"] > 0
    assert late["escalate_to_id"] in {"moi", "dla"}
    # Interior forwarded OPDC's letter within days; Rayong received it on 2 June: neither is late.
    assert not [i for i in items if i["agency_id"] in {"moi", "province:21"} and i["status"] == "late"]
    # Phrae's lateness leaves its local bodies with negative margin to 30 June.
    assert margins["agencies"] > 0 and margins["min_slack"] is not None and margins["min_slack"] < 0
    assert margins["latest_forward"] <= date(2020, 6, 30)


def test_overdue_cli_prints_the_documented_json_shape(story: tuple[Engine, str]) -> None:
    engine, _circular_id = story
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["overdue", "--as-of", "2020-07-01", "--json", "--database", url])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert items
    for item in items:
        assert {"agency", "letter", "due", "done", "days_over", "status", "escalate_to"} <= set(item)
        assert item["status"] in {"overdue", "late", "blocked"}
        date.fromisoformat(item["due"])
    thai = CliRunner().invoke(app, ["overdue", "--as-of", "๑ กรกฎาคม ๒๕๖๓", "--json", "--database", url])
    assert json.loads(thai.stdout) == items  # Thai dates are accepted wherever a date is


def test_whatif_an_earlier_forward_saves_the_downstream(story: tuple[Engine, str]) -> None:
    engine, circular_id = story
    with session_scope(engine) as session:
        early = progress.whatif_report(session, circular_id, "จังหวัดแพร่", date(2020, 5, 19))
        actual = progress.whatif_report(session, circular_id, PHRAE, date(2020, 6, 23))
    assert early["agency_id"] == actual["agency_id"] == PHRAE
    assert early["makes"] > actual["makes"]
    assert actual["misses"] > early["misses"]


def test_unknown_circular_and_agency_are_clear_errors(story: tuple[Engine, str]) -> None:
    engine, circular_id = story
    with session_scope(engine) as session, pytest.raises(progress.ProgressError, match="no circular"):
        progress.find_circular(session, "นร 9999/ว 1")
    with session_scope(engine) as session, pytest.raises(progress.ProgressError, match="not one agency"):
        progress.whatif_report(session, circular_id, "จังหวัดที่ไม่มี", date(2020, 6, 1))
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["whatif", circular_id, "--agency", "x", "--forwards-on", "31/02/2020",
                                      "--database", url])  # fmt: skip
    assert result.exit_code == 2 and "--forwards-on" in result.stderr and "Traceback" not in result.output


def test_recorded_handoffs_and_the_sweep(story: tuple[Engine, str]) -> None:
    engine, circular_id = story
    assert (
        route_plainly(engine.url.render_as_string(hide_password=False), circular_id, date(2020, 6, 26))
        == circular_id
    )
    with session_scope(engine) as session:
        rows = progress.status_report(session, circular_id, as_of=date(2020, 6, 26))[0]["levels"]
        swept = progress.sweep_overdue(session, datetime(2020, 6, 26, 10, tzinfo=BANGKOK))
    by_level = {r["level"]: r for r in rows}
    assert by_level["province"]["late"] >= 1  # Phrae
    assert by_level["district"]["overdue"] > 0
    assert swept.overdue_total == len(swept.newly_overdue) > 0
    assert all(i.due < date(2020, 6, 26) and i.days_over > 0 for i in swept.newly_overdue)
    # Phrae's forwarding of 23 June was recorded late by the routing run: the sweep announces it.
    late = {i.agency_id: i for i in swept.newly_late}
    assert PHRAE in late and late[PHRAE].status == "late"
    assert late[PHRAE].done == date(2020, 6, 23) and late[PHRAE].due < late[PHRAE].done
    assert late[PHRAE].days_over == progress.calendar().working_days_between(
        late[PHRAE].due, late[PHRAE].done
    )
    assert late[PHRAE].table_row()["status"] == "late"
    with session_scope(engine) as session:
        again = progress.sweep_overdue(session, datetime(2020, 6, 26, 11, tzinfo=BANGKOK))
    assert not again.newly_overdue and again.overdue_total == swept.overdue_total
    assert not again.newly_late  # announced once
    # Sent counts dispatches the record shows happening, not those only planned.
    assert by_level["province"]["sent"] == 3  # Interior's and DLA's letters reached the provinces
    assert by_level["district"]["sent"] > 0  # Phrae's letter 3026 reached its districts
    assert by_level["local"]["sent"] <= 1  # Phrae's PAO; no district has forwarded to a local body


def test_overdue_finds_the_plan_of_a_circular_by_its_letters(engine: Engine, seed_files: list[Path]) -> None:
    # Nobody attaches a plan: the bcp-2020 plan names DLA's circular of 14 May among its letters.
    assert all(o.error is None for o in ingest_files(seed_files, engine))
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["overdue", "--as-of", "2020-07-01", "--json", "--database", url])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    phrae = [i for i in items if i["agency_id"] == PHRAE]
    assert [(i["status"], i["letter"], i["done"]) for i in phrae] == [
        ("late", "มท 0812/ว 1434", "2020-06-23")
    ]
    with session_scope(engine) as session:
        circular = progress.find_circular(session, "มท 0812/ว 1434")
        assert circular.plan_id is None  # reading did not write
        assert progress.matching_plan(session, circular) == "bcp-2020"
        assert progress.unplanned_circulars(session) == []


def test_overdue_says_which_circulars_no_plan_covers(engine: Engine, tmp_path: Path) -> None:
    letter = tmp_path / "moe.txt"
    letter.write_text(
        "ที่ ศธ ๐๒๐๖/ว ๑๕\nกระทรวงศึกษาธิการ\n๓ มีนาคม ๒๕๖๔\n"
        "เรื่อง การสำรวจข้อมูลโรงเรียน\nเรียน ผู้ว่าราชการจังหวัดทุกจังหวัด\n"
        "ขอแสดงความนับถือ\n(นายสมชาย ใจดี)\nปลัดกระทรวงศึกษาธิการ\n",
        encoding="utf-8",
    )
    assert all(o.error is None for o in ingest_files([letter], engine))
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["overdue", "--as-of", "2021-04-01", "--json", "--database", url])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    with session_scope(engine) as session:
        (unplanned,) = progress.unplanned_circulars(session)
    assert unplanned in result.stderr and "--plan" in result.stderr
    with session_scope(engine) as session, pytest.raises(progress.ProgressError, match="--plan"):
        progress.overdue_report(session, date(2021, 4, 1), unplanned)


def test_run_with_an_unknown_circular_is_a_clear_error(story: tuple[Engine, str]) -> None:
    engine, _ = story
    url = engine.url.render_as_string(hide_password=False)
    for ref in ("not-a-circular", "นร 9999/ว 1"):
        result = CliRunner().invoke(app, ["run", ref, "--database", url])
        assert result.exit_code == 2 and "no circular" in result.stderr, result.output


@pytest.fixture
def reference_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Reference data is loaded once per process: start and leave with the built-in ones."""
    for loader in (progress.directory, progress.calendar, progress.policy, progress._graph):
        loader.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    for loader in (progress.directory, progress.calendar, progress.policy, progress._graph):
        loader.cache_clear()


def test_a_deployment_brings_its_own_policy_and_closures(
    story: tuple[Engine, str], reference_data: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    engine, circular_id = story
    with session_scope(engine) as session:
        before = {i["agency_id"]: i for i in progress.overdue_report(session, date(2020, 7, 1), circular_id)}
    # A policy that gives districts 5 working days for the most urgent letters, and a closure.
    policy = (ROOT / "routing" / "data" / "policy.yaml").read_text(encoding="utf-8")
    generous = policy.replace("    district: 1     #", "    district: 5     #", 1)
    assert generous != policy
    (tmp_path / "policy.yaml").write_text(generous, encoding="utf-8")
    (tmp_path / "closures.yaml").write_text(
        "closures:\n  - date: 2020-06-15\n    reason: provincial order\n", encoding="utf-8"
    )
    reference_data.setenv(progress.POLICY_ENV, str(tmp_path / "policy.yaml"))
    reference_data.setenv(progress.CLOSURES_ENV, str(tmp_path / "closures.yaml"))
    for loader in (progress.calendar, progress.policy):
        loader.cache_clear()  # read once per process: a new process (a command, a flow run) reads them
    assert not progress.is_working_day(date(2020, 6, 15))
    with session_scope(engine) as session:
        after = {i["agency_id"]: i for i in progress.overdue_report(session, date(2020, 7, 1), circular_id)}
    # Districts need longer, so Phrae had to forward earlier: its latest date moves back.
    assert after[PHRAE]["status"] == "late" and after[PHRAE]["due"] < before[PHRAE]["due"]
    assert after[PHRAE]["days_over"] > before[PHRAE]["days_over"]


def test_bad_reference_data_names_the_setting(reference_data: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text("handling_days: 3\n", encoding="utf-8")
    reference_data.setenv(progress.POLICY_ENV, str(tmp_path / "policy.yaml"))
    with pytest.raises(progress.ProgressError, match=f"{progress.POLICY_ENV}=.*policy.yaml"):
        progress.policy()
    reference_data.setenv(progress.LOCAL_BODIES_ENV, str(tmp_path / "missing.csv"))
    with pytest.raises(progress.ProgressError, match=progress.LOCAL_BODIES_ENV):
        progress.directory()
