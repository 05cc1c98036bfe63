"""One truth: the state of a circular as of a day (`progress.circular_state`), behind status,
overdue and whatif alike. The seed letters alone (ingest, no routing run), as of 1 July 2020."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli.main import app
from models.db import session_scope
from records import progress
from records.ingest import ingest_files
from routing.handoffs import Provenance
from tests.conftest import route_plainly

AS_OF = date(2020, 7, 1)
PHRAE, RAYONG = "province:54", "province:21"
PHRAE_LETTER_DAY = date(2020, 6, 23)


@pytest.fixture
def seeded(engine: Engine, seed_files: list[Path]) -> tuple[Engine, str]:
    outcomes = ingest_files(seed_files, engine)
    assert all(o.error is None for o in outcomes)
    with session_scope(engine) as session:
        return engine, progress.find_circular(session, "พร ๐๐๒๓.๑/ว ๓๐๒๖").id


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _cli(engine: Engine, *args: str) -> object:
    result = CliRunner().invoke(app, [*args, "--database", _url(engine)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_blame_falls_on_the_agency_that_holds_the_letter(seeded: tuple[Engine, str]) -> None:
    engine, circular_id = seeded
    with session_scope(engine, readonly=True) as session:
        state = progress.circular_state(session, circular_id, AS_OF)
    by = {h.recipient_id: h for h in state.handoffs}
    # Rayong stamped Interior's letter (and holds DLA's) but forwarded nothing: overdue.
    assert by[RAYONG].status == "overdue" and by[RAYONG].received_on is not None
    assert by[RAYONG].forwarded_on is None and by[RAYONG].holder_id == RAYONG
    # Its districts never got a letter: blocked, and the one to chase is Rayong.
    rayong_districts = [h for h in state.handoffs if h.recipient_id.startswith("district:21")]
    assert rayong_districts
    for h in rayong_districts:
        assert h.status == "blocked" and h.received_on is None
        assert h.holder_id == RAYONG and h.escalate_to_id == RAYONG
        assert h.sent_provenance is Provenance.PLANNED and h.sent_on is None  # a planned dispatch is no fact
    # Phrae forwarded on 23 June, after its latest date: late.
    assert by[PHRAE].status == "late" and by[PHRAE].forwarded_on == PHRAE_LETTER_DAY
    assert by[PHRAE].due is not None and by[PHRAE].due < PHRAE_LETTER_DAY
    # Phrae's districts received its letter on 23 June: judged from then, not from the plan's date.
    phrae_districts = [h for h in state.handoffs if h.recipient_id.startswith("district:54")]
    assert phrae_districts
    cal = progress.calendar()
    for h in phrae_districts:
        assert h.received_on == PHRAE_LETTER_DAY and h.received_provenance is Provenance.RECORDED
        assert h.latest_forward is not None and h.latest_forward < PHRAE_LETTER_DAY
        assert h.due is not None and h.due > PHRAE_LETTER_DAY
        assert h.days_over == cal.working_days_between(h.due, AS_OF) < 13
        assert h.sent_provenance is Provenance.RECORDED and h.escalate_to_id == PHRAE
    assert state.deadline == date(2020, 6, 30)  # the final deadline stays beside every due date


def test_overdue_json_names_holder_deadline_and_status(seeded: tuple[Engine, str]) -> None:
    engine, _ = seeded
    items = _cli(engine, "overdue", "--as-of", AS_OF.isoformat(), "--json")
    assert isinstance(items, list) and items
    by = {i["agency_id"]: i for i in items}
    assert by[RAYONG]["status"] == "overdue" and by[PHRAE]["status"] == "late"
    assert by["district:2101"]["status"] == "blocked" and by["district:2101"]["escalate_to_id"] == RAYONG
    assert by["district:5401"]["received"] == PHRAE_LETTER_DAY.isoformat()
    for item in items:
        assert item["status"] in {"overdue", "late", "blocked"}
        assert item["as_of"] == AS_OF.isoformat() and item["deadline"] == "2020-06-30"


def _flagged_counts(items: object) -> Counter[tuple[str, str, str]]:
    assert isinstance(items, list)
    return Counter((i["circular"], i["level"], i["status"]) for i in items)


def _status_counts(rows: object) -> Counter[tuple[str, str, str]]:
    assert isinstance(rows, list)
    out: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        assert set(row) == {"circular", "as_of", "levels"}
        for level in row["levels"]:
            assert set(level) == {"level", "sent", "received", "forwarded", "overdue", "late", "blocked",
                                  "pending"}  # fmt: skip
            for status in ("overdue", "late", "blocked"):
                if level[status]:
                    out[(row["circular"], level["level"], status)] += level[status]
    return out


def test_status_counts_equal_the_overdue_list_straight_after_ingest(seeded: tuple[Engine, str]) -> None:
    engine, _ = seeded
    rows = _cli(engine, "status", "--as-of", AS_OF.isoformat(), "--json")
    items = _cli(engine, "overdue", "--as-of", AS_OF.isoformat(), "--json")
    assert rows and _status_counts(rows) == _flagged_counts(items)
    assert isinstance(rows, list)
    levels = {lv["level"]: lv for lv in rows[0]["levels"]}
    assert levels["province"]["overdue"] == 2 and levels["province"]["late"] == 1  # Nonthaburi, Rayong; Phrae
    assert levels["district"]["blocked"] > 0 and levels["district"]["overdue"] == 8  # Phrae's eight


def test_status_counts_equal_the_overdue_list_after_a_routing_run(seeded: tuple[Engine, str]) -> None:
    engine, circular_id = seeded
    route_plainly(_url(engine), circular_id, date(2020, 6, 26))
    for day in ("2020-06-26", "2020-07-01"):
        rows = _cli(engine, "status", circular_id, "--as-of", day, "--json")
        items = _cli(engine, "overdue", "--circular", circular_id, "--as-of", day, "--json")
        assert _status_counts(rows) == _flagged_counts(items)


def test_planned_and_projected_dates_are_never_counted_as_facts(seeded: tuple[Engine, str]) -> None:
    engine, circular_id = seeded
    route_plainly(_url(engine), circular_id, AS_OF, provinces=progress.all_provinces())  # national
    with session_scope(engine, readonly=True) as session:
        state = progress.circular_state(session, circular_id, AS_OF)
        rows = progress.status_report(session, circular_id, as_of=AS_OF)
    assert len({h.recipient_id for h in state.handoffs if h.level == "province"}) == 77  # the run's scope
    levels = {lv["level"]: lv for lv in rows[0]["levels"]}
    per_level: Counter[str] = Counter()
    for h in state.handoffs:
        if h.sent_on is not None:
            assert h.sent_provenance.is_fact
        else:
            assert h.sent_provenance is Provenance.PLANNED
        if h.received_on is not None:
            assert h.received_provenance is not None and h.received_provenance.is_fact
            assert h.received_on <= AS_OF
        per_level[h.level] += h.sent
    assert {lv: levels[lv]["sent"] for lv in levels} == {lv: per_level[lv] for lv in levels}
    # No district except Phrae's received anything: the routing run's planned dispatches are no receipts.
    assert levels["district"]["received"] == 8
    chiang_mai = next(h for h in state.handoffs if h.recipient_id == "province:50")
    assert chiang_mai.forwarded_on is None and chiang_mai.status == "overdue"  # it holds DLA's circular
    with session_scope(engine, readonly=True) as session:
        report = progress.whatif_report(session, circular_id, "จังหวัดเชียงใหม่", date(2020, 6, 5), as_of=AS_OF)
    assert report["agency_id"] == "province:50" and report["as_of"] == AS_OF.isoformat()


def test_facts_after_the_day_are_not_facts_yet(seeded: tuple[Engine, str]) -> None:
    engine, circular_id = seeded
    with session_scope(engine, readonly=True) as session:
        state = progress.circular_state(session, circular_id, date(2020, 6, 20))
    by = {h.recipient_id: h for h in state.handoffs}
    assert by[PHRAE].forwarded_on is None and by[PHRAE].status == "overdue"  # its letter of 23 June is ahead
    assert by["district:5401"].received_on is None and by["district:5401"].status == "blocked"
    assert by["district:5401"].escalate_to_id == PHRAE
