"""After a national run, every command and page agrees on scope and counts (issue 16).

The seed letters, routed nationally (`run --national`'s unit of work: all 77 provinces, ~8,400
handoffs), judged as of 1 July 2020: `status --json`, `overdue --json`, the dashboard's circular
page (whole and filtered to one province) and the forwarding graph (`graph`, and its data) must
name the same agencies and the same counts. Then the stored states (`circular_view`) against the
live computation, and a new letter making the stored state stale."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.main import create_app
from cli.main import app
from models.db import session_scope
from records import progress, views
from records.ingest import ingest_files
from tests.conftest import route_plainly
from visualize.diagrams import drill_down

AS_OF = date(2020, 7, 1)
ROUTED_ON = date(2020, 6, 26)
LETTER = "มท 0812/ว 1434"
PHRAE_LETTER = "พร 0023.1/ว 3026"
CHIANG_MAI = "province:50"
COUNTS = ("sent", "received", "forwarded", "overdue", "late", "blocked", "pending")
FLAGGED = ("overdue", "late", "blocked")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _cli(engine: Engine, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--database", _url(engine)])
    assert result.exit_code == 0, result.output
    return result.stdout


def _national(engine: Engine, files: list[Path]) -> str:
    outcomes = ingest_files(files, engine)
    assert all(o.error is None for o in outcomes)
    return route_plainly(_url(engine), LETTER, ROUTED_ON, provinces=progress.all_provinces())


@pytest.fixture
def national(engine: Engine, seed_files: list[Path]) -> tuple[Engine, str]:
    return engine, _national(engine, seed_files)


def _page_levels(html: str) -> dict[str, dict[str, int]]:
    """The circular page's table of counts per level (`<tr data-level=...>`)."""
    table = html.split('class="data levels truth"', 1)[1].split("</table>", 1)[0]
    out = {}
    for level, cells in re.findall(r'<tr data-level="([a-z]+)">(.*?)</tr>', table, re.S):
        numbers = [int(n.replace(",", "")) for n in re.findall(r'<td class="num[^"]*">([\d,]+)</td>', cells)]
        out[level] = dict(zip(COUNTS, numbers, strict=True))
    return out


def _agencies_on_page(html: str) -> int:
    found = re.search(r"จาก ([\d,]+) หน่วยงาน", html)
    assert found is not None, "the page states how many agencies it judges"
    return int(found.group(1).replace(",", ""))


def _levels(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    return {lv["level"]: {k: lv[k] for k in COUNTS} for lv in rows}


def test_status_overdue_the_circular_page_and_the_graph_agree_after_a_national_run(
    national: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, circular = national
    day = AS_OF.isoformat()
    status = json.loads(_cli(engine, "status", circular, "--as-of", day, "--json"))
    assert [row["circular"] for row in status] == [circular]
    levels = _levels(status[0]["levels"])
    overdue = json.loads(_cli(engine, "overdue", "--circular", circular, "--as-of", day, "--json"))

    # Scope: national in every view. Every province is judged, and the overdue list names
    # agencies of that scope only, each once.
    provinces = set(progress.all_provinces())
    total = {
        level: sum(c[k] for k in ("forwarded", "overdue", "blocked", "pending"))
        for level, c in levels.items()
    }
    assert total["province"] == len(provinces) == 77
    agency_ids = [item["agency_id"] for item in overdue]
    assert len(agency_ids) == len(set(agency_ids))
    with session_scope(engine, readonly=True) as session:
        state = progress.circular_state(session, circular, AS_OF)
        directory = progress.directory()
        assert state.provinces is not None and set(state.provinces) == provinces
        judged = {h.recipient_id for h in state.handoffs}
        diagram = views.circular_diagram(session, circular, as_of=AS_OF)
    assert set(agency_ids) <= judged
    assert {directory.province_of(a) for a in agency_ids} - {None} <= {f"province:{p}" for p in provinces}

    # Counts: what `overdue` lists is what `status` counts as overdue, late and blocked, per level.
    listed = Counter((item["level"], item["status"]) for item in overdue)
    counted = Counter({(level, k): c[k] for level, c in levels.items() for k in FLAGGED if c[k]})
    assert listed == counted
    assert sum(listed.values()) > 8000  # as of 1 July nearly every agency is behind

    # The dashboard's circular page shows the same counts, level by level, and the same scope.
    client = TestClient(create_app(_url(engine)))
    page = client.get(f"/circulars/{circular}", params={"as_of": day})
    assert page.status_code == 200
    assert _page_levels(page.text) == levels
    assert _agencies_on_page(page.text) == sum(total.values())

    # The graph draws the same agencies at each level below the ministries.
    drawn = Counter(node.level.value for node in diagram.nodes)
    for level in ("province", "district", "local"):
        assert drawn[level] == total[level], level
    assert {n.id for n in diagram.nodes if n.level.value == "province"} == {
        f"province:{p}" for p in provinces
    }

    # One province (Chiang Mai, which the issue found missing): the page's filter, the graph's
    # drill-down and the overdue list name the same agencies.
    filtered = client.get(f"/circulars/{circular}", params={"as_of": day, "province": "50"})
    assert filtered.status_code == 200
    in_chiang_mai = _agencies_on_page(filtered.text)
    drilled = drill_down(diagram, province=CHIANG_MAI, ancestors=True)
    assert sum(1 for n in drilled.nodes if n.in_province(CHIANG_MAI)) == in_chiang_mai > 1
    page_flagged = sum(c[k] for c in _page_levels(filtered.text).values() for k in FLAGGED)
    listed_here = [i for i in overdue if directory.province_of(i["agency_id"]) == CHIANG_MAI]
    assert len(listed_here) == page_flagged
    svg = tmp_path / "chiang_mai.svg"
    wrote = _cli(engine, "graph", circular, "--province", "50", "--as-of", day, "-o", str(svg))
    assert svg.stat().st_size > 0
    assert f"({len(drilled.nodes)} agencies" in wrote


def _same(state: progress.CircularState, live: progress.CircularState) -> None:
    assert state.handoffs == live.handoffs
    assert state.levels() == live.levels()
    assert state.overdue_items() == live.overdue_items()
    assert state.events == live.events and state.provinces == live.provinces


@pytest.mark.parametrize("day", [date(2020, 5, 1), date(2020, 6, 26), AS_OF, date(2021, 1, 4)])
def test_a_stored_state_is_the_live_state(national: tuple[Engine, str], day: date) -> None:
    engine, circular = national
    with session_scope(engine) as session:
        first = progress.circular_state(session, circular, day)  # computed, stored when it may be
    with session_scope(engine, readonly=True) as session:
        live = progress._live_state(session, progress.find_circular(session, circular), day)
        stored = progress.circular_state(session, circular, day)
        _same(first, live)
        _same(stored, live)
        assert progress.status_report(session, circular, as_of=day)[0]["levels"] == live.levels()
        assert list(progress.overdue_items(session, day, circular)) == live.overdue_items()
        # The record's latest fact: a stamp of late June (Phrae's letter is of 23 June).
        assert live.facts_through is not None and date(2020, 6, 23) <= live.facts_through < AS_OF
        kept = progress.record_versions(session, [circular])
    # Kept for an "as of" on or after the latest fact only: before it, the facts differ by day.
    with session_scope(engine, readonly=True) as session:
        rows = progress._view_rows(session, [circular], blob=False)
    assert (circular in rows) == (day >= live.facts_through)
    if circular in rows:
        assert rows[circular].fingerprint == kept[circular]


def test_an_agency_reads_all_its_handoffs_from_the_stored_state(national: tuple[Engine, str]) -> None:
    """An agency page reads only a few bands of a stored state (`progress._bands_of`): it must
    still find every handoff the agency sends or receives, at every level of a national route."""
    engine, circular = national
    with session_scope(engine) as session:
        progress.circular_state(session, circular, AS_OF)  # stores it
    with session_scope(engine, readonly=True) as session:
        found = progress.find_circular(session, circular)
        live = progress._live_state(session, found, AS_OF)
        senders = {h.sender_id for h in live.handoffs}
        locals_ = sorted({h.recipient_id for h in live.handoffs} - senders)
        agencies = sorted(senders) + locals_[::25] + ["local:nowhere"]
        levels: Counter[str] = Counter()
        for agency in agencies:
            (state,) = progress.circular_states_of(session, [found], AS_OF, agency=agency)
            assert isinstance(state.events, progress._StoredEvents)  # read from circular_view
            mine = tuple(h for h in live.handoffs if agency in (h.sender_id, h.recipient_id))
            assert state.handoffs == mine, agency
            levels.update(h.level for h in mine if h.recipient_id == agency)
    assert set(levels) >= {"province", "district", "local"}  # each level's agencies were checked


def test_a_new_letter_makes_the_stored_state_stale(
    engine: Engine, seed_files: list[Path], tmp_path: Path
) -> None:
    phrae = [f for f in seed_files if "๓๐๒๖" in f.read_text(encoding="utf-8") or "3026" in f.name]
    assert len(phrae) == 1, "the seeds hold Phrae's letter of 23 June"
    circular = _national(engine, [f for f in seed_files if f not in phrae])
    day = AS_OF.isoformat()
    before = json.loads(_cli(engine, "status", circular, "--as-of", day, "--json"))
    again = json.loads(_cli(engine, "status", circular, "--as-of", day, "--json"))  # from circular_view
    assert again == before
    with session_scope(engine, readonly=True) as session:
        version = progress.record_versions(session, [circular])[circular]
        assert progress._view_rows(session, [circular], blob=False)[circular].fingerprint == version

    assert all(o.error is None for o in ingest_files(phrae, engine))
    with session_scope(engine, readonly=True) as session:
        assert progress.find_circular(session, PHRAE_LETTER).id == circular
        assert progress.record_versions(session, [circular])[circular] != version
        live = progress._live_state(session, progress.find_circular(session, circular), AS_OF)
    after = json.loads(_cli(engine, "status", circular, "--as-of", day, "--json"))
    assert after[0]["levels"] == live.levels() != before[0]["levels"]
    province = _levels(after[0]["levels"])["province"]
    assert province["late"] == _levels(before[0]["levels"])["province"]["late"] + 1  # Phrae forwarded, late
    listed = json.loads(_cli(engine, "overdue", "--circular", circular, "--as-of", day, "--json"))
    assert listed == live.overdue_items()


def test_forgotten_states_are_computed_again(national: tuple[Engine, str]) -> None:
    engine, circular = national
    with session_scope(engine) as session:
        before = progress.circular_state(session, circular, AS_OF)  # computed and stored
    with session_scope(engine) as session:
        assert progress.forget_states(session) == 1
    with session_scope(engine, readonly=True) as session:
        assert progress._view_rows(session, [circular], blob=False) == {}
        again = progress.circular_state(session, circular, AS_OF)  # computed, stored on its own
        _same(again, before)
    with session_scope(engine, readonly=True) as session:
        assert circular in progress._view_rows(session, [circular], blob=False)
